"""Run a segmentor over several domains, each with its own test settings.

Builds the model with mmseg's ``init_model``, loads the checkpoint strictly
with mmengine, builds each domain's test dataloader with mmengine's
``Runner.build_dataloader``, and feeds every domain into one
:class:`CrossDomainIoUMetric` through mmengine's ``Evaluator``, so the numbers
are the ones training-time validation reports.
"""
import copy
from dataclasses import dataclass, field
from typing import Dict, List, Optional, Sequence

import cv2
import numpy as np
import torch
from mmengine.config import Config, ConfigDict
from mmengine.dist import (broadcast_object_list, collect_results,
                           is_distributed, is_main_process)
from mmengine.evaluator import Evaluator
from mmengine.model import revert_sync_batchnorm
from mmengine.runner import Runner, load_checkpoint
from mmengine.utils import ProgressBar
from mmseg.apis import init_model

from .domains import EvalDomain
from .metrics import CrossDomainIoUMetric


class CheckpointMismatchError(RuntimeError):
    """A checkpoint's weights do not fit the model its config builds."""


class MissingDomainDataError(FileNotFoundError):
    """A domain's test data cannot be found (or holds no sample)."""


@dataclass
class DomainSample:
    """One sample to show: RGB image, ground truth and prediction (HxW)."""
    image: np.ndarray
    gt: np.ndarray
    pred: np.ndarray


@dataclass
class DomainRun:
    """What evaluating one model on its domains produced.

    Attributes:
        metrics (dict[str, float]): ``CrossDomainIoUMetric`` keys.
        dataset_meta (dict): Classes and palette of the domains.
        num_samples (dict[str, int]): Samples evaluated per domain row.
        samples (dict[str, list[DomainSample]]): The first few samples of
            each row (on the main process), for the sample strips.
    """
    metrics: Dict[str, float]
    dataset_meta: dict
    num_samples: Dict[str, int]
    samples: Dict[str, List[DomainSample]] = field(default_factory=dict)


def load_segmentor(cfg: Config, checkpoint: str, device: str = 'cpu'):
    """Build ``cfg.model`` and load ``checkpoint`` into it, strictly.

    Args:
        cfg (Config): The config (not modified).
        checkpoint (str): An mmengine checkpoint (``{'state_dict': ...}``)
            or a plain state dict.
        device (str): Where the model runs.

    Raises:
        CheckpointMismatchError: Missing, unexpected or mis-shaped keys; the
            message names them, the checkpoint and the config.
    """
    cfg = copy.deepcopy(cfg)
    model = init_model(cfg, checkpoint=None, device='cpu')
    try:
        load_checkpoint(model, checkpoint, map_location='cpu', strict=True)
    except RuntimeError as error:
        if 'do not match' not in str(error):
            raise
        raise CheckpointMismatchError(
            f'checkpoint {checkpoint} does not match the model of config '
            f'{cfg.filename}:\n{error}') from None
    if not is_distributed():
        # The Runner does this too: SyncBN needs a process group.
        model = revert_sync_batchnorm(model)
    return model.to(device).eval()


def build_domain_dataloaders(domains: Sequence[EvalDomain]):
    """Build each domain's test dataloader; a domain without data raises.

    Returns:
        dict[str, DataLoader]: Row name -> dataloader.

    Raises:
        MissingDomainDataError: A domain's files are missing or its dataset
            is empty (the message names the domain).
    """
    loaders = {}
    for domain in domains:
        try:
            loader = Runner.build_dataloader(copy.deepcopy(domain.dataloader))
        except FileNotFoundError as error:
            raise MissingDomainDataError(
                f"domain '{domain.name}': test data not found ({error})"
            ) from error
        if len(loader.dataset) == 0:
            dataset = domain.dataloader['dataset']
            raise MissingDomainDataError(
                f"domain '{domain.name}': the test dataset has no sample "
                f"(data_root={dataset.get('data_root')!r}, "
                f"data_prefix={dataset.get('data_prefix')!r})")
        loaders[domain.name] = loader
    return loaders


def _check_classes(model, loaders: dict) -> dict:
    """The domains' shared dataset_meta; the model must predict its classes.
    """
    names = list(loaders)
    meta = loaders[names[0]].dataset.metainfo
    classes = tuple(meta['classes'])
    for name in names[1:]:
        other = tuple(loaders[name].dataset.metainfo['classes'])
        if other != classes:
            raise ValueError(
                f"domains '{names[0]}' and '{name}' have different classes: "
                f'{classes} vs {other}')
    num_classes = getattr(getattr(model, 'decode_head', None), 'num_classes',
                          None)
    if num_classes is not None and num_classes != len(classes):
        raise ValueError(
            f'the model predicts {num_classes} classes (decode_head.'
            f"num_classes) but domain '{names[0]}' has {len(classes)}; the "
            'checkpoint and config are for another label set')
    return dict(meta)


def _to_samples(batch: dict, outputs: list, count: int) -> list:
    """The first ``count`` samples of a batch, at the prediction's size."""
    samples = []
    for inputs, output in zip(batch['inputs'][:count], outputs[:count]):
        pred = output.pred_sem_seg.data[0].cpu().numpy()
        gt = output.gt_sem_seg.data[0].cpu().numpy()
        # The pipeline's image (after any resize or shift), BGR as mmcv
        # loads it, shown at the size the prediction is evaluated at.
        image = inputs.cpu().numpy().transpose(1, 2, 0)[..., ::-1]
        image = cv2.resize(
            np.ascontiguousarray(image), (pred.shape[1], pred.shape[0]),
            interpolation=cv2.INTER_LINEAR)
        samples.append(DomainSample(image=image, gt=gt, pred=pred))
    return samples


def evaluate_domains(model,
                     domains: Sequence[EvalDomain],
                     source: str,
                     target_domains: Optional[Sequence[str]] = None,
                     loaders: Optional[dict] = None,
                     num_show: int = 3,
                     collect_device: str = 'cpu',
                     progress: bool = True) -> DomainRun:
    """Evaluate ``model`` on each domain with that domain's test settings.

    Args:
        model: A segmentor from :func:`load_segmentor`.
        domains (Sequence[EvalDomain]): The rows, in report order.
        source (str): The source domain (one of the rows).
        target_domains (Sequence[str], optional): Rows averaged as targets;
            default: every row but the source.
        loaders (dict, optional): Prebuilt dataloaders by row name, from
            :func:`build_domain_dataloaders`. Built here if not given.
        num_show (int): Samples per row kept for the sample strips.
        collect_device (str): 'cpu' or 'gpu', for distributed collection.
        progress (bool): Show a progress bar per domain.

    Returns:
        DomainRun: The metrics (on every process) and the shown samples.
    """
    if loaders is None:
        loaders = build_domain_dataloaders(domains)
    dataset_meta = _check_classes(model, loaders)
    metric = CrossDomainIoUMetric(
        source_domain=source,
        domains=[d.name for d in domains],
        target_domains=target_domains,
        collect_device=collect_device)
    evaluator = Evaluator(metric)
    evaluator.dataset_meta = dataset_meta
    default_test_cfg = model.test_cfg
    gathered, num_samples, shown = [], {}, {}
    try:
        for domain in domains:
            loader = loaders[domain.name]
            model.test_cfg = ConfigDict(domain.test_cfg or default_test_cfg)
            shown[domain.name] = []
            bar = ProgressBar(len(loader)) if progress and \
                is_main_process() else None
            if bar is not None:
                print(f'\n{domain.name}: {len(loader.dataset)} samples')
            for batch in loader:
                with torch.no_grad():
                    outputs = model.test_step(batch)
                evaluator.process(data_samples=outputs, data_batch=batch)
                missing = num_show - len(shown[domain.name])
                if missing > 0:
                    shown[domain.name] += _to_samples(batch, outputs, missing)
                if bar is not None:
                    bar.update()
            # Collect per domain: each domain's sampler pads its own shard,
            # and collect_results drops padding only at the end of a list.
            part = collect_results(metric.results, len(loader.dataset),
                                   collect_device)
            metric.results.clear()
            if is_main_process():
                gathered.extend(part)
            num_samples[domain.name] = len(loader.dataset)
    finally:
        model.test_cfg = default_test_cfg
    if progress and is_main_process():
        print()
    metrics = [metric.compute_metrics(gathered)] if is_main_process() \
        else [None]
    broadcast_object_list(metrics)
    return DomainRun(metrics[0], dataset_meta, num_samples, shown)
