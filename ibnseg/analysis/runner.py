"""Run models' backbones over image-set pairs (each image through the
model's ``data_preprocessor``) and compute the per-layer divergence; a set's
statistics are computed once per model for all the pairs holding it."""
import os.path as osp
import re
from dataclasses import dataclass
from typing import Dict, List, Optional, Sequence, Tuple

import torch
from mmengine.model import revert_sync_batchnorm
from mmengine.utils import ProgressBar
from mmseg.structures import SegDataSample
from torch import nn

from .divergence import DEFAULT_EPS, ChannelMeanStats, feature_divergence
from .image_sets import ImageSet, ImageSetPair, iter_image_batches
from .layer_hooks import (ChannelStatsRecorder, find_residual_layers,
                          get_backbone)

_MODEL_SPEC = re.compile(
    r'^(?:(?P<label>[^=:]+)=)?(?P<config>.+?\.(?:py|json|ya?ml))'
    r'(?::(?P<checkpoint>.+))?$')


@dataclass
class ModelSpec:
    """A model to analyse, ``[LABEL=]CONFIG[:CHECKPOINT]``: ``label`` names
    it in outputs (default: the config's stem); without ``checkpoint`` it
    keeps its initialisation."""
    label: str
    config: str
    checkpoint: Optional[str] = None

    @property
    def random_weights(self) -> bool:
        """No checkpoint: the model is measured untrained."""
        return self.checkpoint is None

    @classmethod
    def parse(cls, text: str) -> 'ModelSpec':
        match = _MODEL_SPEC.match(text)
        if match is None:
            raise ValueError(
                f'model {text!r} is not [LABEL=]CONFIG[:CHECKPOINT] with a '
                'CONFIG ending in .py, .json, .yaml or .yml')
        config = match.group('config')
        label = match.group('label') or osp.splitext(osp.basename(config))[0]
        return cls(label=label, config=config,
                   checkpoint=match.group('checkpoint'))


@dataclass
class LayerDivergence:
    """One output row: a model's divergence for one pair at one layer.

    ``depth`` counts the hooked layers from 1 in forward order;
    ``random_weights`` marks a model measured without trained weights (its
    divergences are not comparable with trained models' ones).
    """
    model: str
    pair: str
    pair_type: str
    layer: str
    depth: int
    channels: int
    images_a: int
    images_b: int
    divergence: float
    random_weights: bool = False


def load_model(spec: ModelSpec, device: str = 'cpu') -> nn.Module:
    """``spec``'s model in eval mode: with a checkpoint, loaded safely and
    strictly by :func:`ibnseg.apis.load_segmentor` (a checkpoint that does
    not fit is a ``CheckpointMismatchError``); without one, with the
    initialisation of mmseg's ``init_model``, SyncBN reverted to BN.
    A missing file is a FileNotFoundError naming it."""
    from mmseg.apis import init_model

    from ibnseg.apis import load_segmentor
    from ibnseg.engine.runner_setup import check_checkpoint, load_config
    cfg = load_config(spec.config)
    if spec.checkpoint is not None:
        check_checkpoint(spec.checkpoint)
        return load_segmentor(cfg, spec.checkpoint, device)
    model = revert_sync_batchnorm(init_model(cfg, None, device='cpu'))
    return model.to(device).eval()


def preprocess_images(model: nn.Module,
                      images: List[torch.Tensor]) -> torch.Tensor:
    """Normalise a batch with the model's ``data_preprocessor``; one that
    pads (``test_cfg`` with ``size``/``size_divisor``) is refused, as the
    borders would enter the channel means."""
    preprocessor = getattr(model, 'data_preprocessor', None)
    if preprocessor is None:
        raise ValueError(f'{type(model).__name__} has no data_preprocessor '
                         'to normalise images with')
    # Data samples only receive padding metainfo from a padding test_cfg.
    samples = [SegDataSample() for _ in images]
    inputs = preprocessor(dict(inputs=images, data_samples=samples),
                          False)['inputs']
    if tuple(inputs.shape[-2:]) != tuple(images[0].shape[-2:]):
        raise ValueError(
            f'the model\'s data_preprocessor pads images of size '
            f'{tuple(images[0].shape[-2:])} to {tuple(inputs.shape[-2:])}, '
            'which would bias the channel means; resize the images (--size) '
            'to a size it keeps')
    return inputs


def _set_key(image_set: ImageSet) -> tuple:
    return image_set.paths, repr(image_set.shift)


@torch.no_grad()
def collect_set_stats(model: nn.Module,
                      layers: Dict[str, nn.Module],
                      image_set: ImageSet,
                      batch_size: int = 1,
                      size: Optional[Tuple[int, int]] = None,
                      seed: int = 0,
                      progress: Optional[ProgressBar] = None
                      ) -> Dict[str, ChannelMeanStats]:
    """Per-layer :class:`ChannelMeanStats` of ``image_set`` for ``layers``
    of ``model``'s backbone; ``batch_size``, ``size``, ``seed`` as in
    :func:`~.image_sets.iter_image_batches`; ``progress`` advances per
    image."""
    backbone = get_backbone(model)
    with ChannelStatsRecorder(layers) as recorder:
        for images in iter_image_batches(image_set, batch_size, size, seed):
            backbone(preprocess_images(model, images))
            if progress is not None:
                progress.update(len(images))
    return recorder.stats


def compute_model_divergence(model: nn.Module,
                             model_label: str,
                             pairs: Sequence[ImageSetPair],
                             level: str = 'block',
                             batch_size: int = 1,
                             size: Optional[Tuple[int, int]] = None,
                             eps: float = DEFAULT_EPS,
                             seed: int = 0,
                             show_progress: bool = False,
                             random_weights: bool = False
                             ) -> List[LayerDivergence]:
    """Divergence rows of ``model`` (in eval mode) for every pair, pairs in
    order, layers by depth.

    Args:
        model_label (str): ``model`` column of the rows.
        level (str): ``'block'`` or ``'stage'``.
        batch_size (int): Images per forward pass.
        size (tuple[int, int], optional): Resize to (width, height).
        eps (float): Added to the variances (see :mod:`.divergence`).
        seed (int): Seed of random appearance shifts.
        show_progress (bool): Print an mmengine progress bar.
        random_weights (bool): Marks every row (the model is untrained).
    """
    layers = find_residual_layers(model, level)
    sets = {}
    for pair in pairs:
        for image_set in (pair.set_a, pair.set_b):
            sets.setdefault(_set_key(image_set), image_set)
    progress = None
    if show_progress:
        progress = ProgressBar(sum(len(s.paths) for s in sets.values()))
    stats = {
        key: collect_set_stats(model, layers, image_set, batch_size, size,
                               seed, progress)
        for key, image_set in sets.items()
    }
    rows = []
    for pair in pairs:
        stats_a = stats[_set_key(pair.set_a)]
        stats_b = stats[_set_key(pair.set_b)]
        for depth, name in enumerate(layers, start=1):
            rows.append(LayerDivergence(
                model=model_label, pair=pair.name, pair_type=pair.pair_type,
                layer=name, depth=depth,
                channels=stats_a[name].num_channels,
                images_a=stats_a[name].count, images_b=stats_b[name].count,
                divergence=feature_divergence(stats_a[name], stats_b[name],
                                              eps),
                random_weights=random_weights))
    return rows
