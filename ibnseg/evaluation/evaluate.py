"""``tools/cross_domain_eval.py``: each checkpoint tested by a Runner with
:class:`~.loops.MultiDomainTestLoop`, then the report and pictures."""
import copy
import os.path as osp
import re
import tempfile
import uuid
from dataclasses import dataclass, field
from typing import Dict, List, Optional, Sequence, Tuple

import cv2
import numpy as np
from mmengine.config import Config
from mmengine.dist import is_distributed, is_main_process
from mmengine.hooks import Hook
from mmengine.runner import Runner

from mmseg.registry import METRICS

from ibnseg.datasets.transforms import APPEARANCE_SHIFTS
from ibnseg.utils.checkpoint import load_strictly
from ibnseg.visualization import (DomainSample, plot_per_class_iou,
                                  write_sample_strip)
from .domains import parse_cross_domain
from .metrics import CrossDomainIoUMetric
from .report import ModelResult, write_report


@dataclass
class DomainRun:
    """Besides its :class:`ModelResult`, a model's flat metric keys, the
    domains' palette and the first few samples of each row (main process)
    for the sample strips."""
    metrics: Dict[str, float]
    palette: Optional[list]
    samples: Dict[str, List[DomainSample]] = field(default_factory=dict)


class _FirstSamples(Hook):
    """Keeps the first ``count`` samples of each row for the strips."""

    def __init__(self, count: int):
        self.count = count
        self.samples: Dict[str, List[DomainSample]] = {}

    def after_test_iter(self, runner, batch_idx, data_batch=None,
                        outputs=None) -> None:
        for inputs, output in zip(data_batch['inputs'], outputs):
            kept = self.samples.setdefault(output.metainfo['domain'], [])
            if len(kept) >= self.count:
                continue
            pred = output.pred_sem_seg.data[0].cpu().numpy()
            gt = output.gt_sem_seg.data[0].cpu().numpy()
            # the pipeline's BGR image at the evaluated size
            image = inputs.cpu().numpy().transpose(1, 2, 0)[..., ::-1]
            image = cv2.resize(
                np.ascontiguousarray(image), (pred.shape[1], pred.shape[0]),
                interpolation=cv2.INTER_LINEAR)
            kept.append(DomainSample(image=image, gt=gt, pred=pred))


def _evaluator(cfg: Config, source: str) -> dict:
    """The config's ``CrossDomainIoUMetric`` (or subclass) with its options
    (e.g. ``class_subsets``); rows and outputs are this evaluation's."""
    evaluator = cfg.get('test_evaluator')
    metric_type = evaluator.get('type') if isinstance(evaluator,
                                                      dict) else None
    metric_cls = (METRICS.get(metric_type) if isinstance(metric_type, str)
                  else metric_type)
    if not (isinstance(metric_cls, type)
            and issubclass(metric_cls, CrossDomainIoUMetric)):
        return dict(type='CrossDomainIoUMetric', source_domain=source)
    placed = ('source_domain', 'domains', 'target_domains', 'output_dir',
              'format_only', 'keep_results')
    options = {k: v for k, v in evaluator.items() if k not in placed}
    return dict(options, source_domain=source)


def _test_runner(cfg: Config, loop: dict, work_dir: str,
                 log_interval: int) -> Runner:
    """A Runner testing ``cfg.model`` with ``loop``, without the config's
    training parts, custom hooks and checkpoint (loaded strictly later)."""
    source, _ = parse_cross_domain(cfg.get('cross_domain'),
                                   cfg.filename or 'the config')
    return Runner(
        model=copy.deepcopy(cfg.model),
        work_dir=work_dir,
        # the loop's rule (ibnseg.evaluation.loops): the source's
        test_dataloader=copy.deepcopy(
            cfg.cross_domain['domains'][source]['dataloader']),
        test_cfg=loop,
        test_evaluator=_evaluator(cfg, source),
        default_hooks=dict(logger=dict(type='LoggerHook',
                                       interval=log_interval)),
        launcher=cfg.get('launcher', 'none'),
        env_cfg=cfg.get('env_cfg', dict(dist_cfg=dict(backend='nccl'))),
        default_scope=cfg.get('default_scope', 'mmseg'),
        # unique: several evaluations run in one process
        experiment_name=f'cross_domain_eval_{uuid.uuid4().hex[:12]}',
        cfg=cfg)


def evaluate_checkpoint(cfg: Config,
                        checkpoint: str,
                        name: str,
                        domains: Optional[Sequence[str]] = None,
                        shifts: Sequence[str] = (),
                        shift_cfgs: Optional[Dict[str, dict]] = None,
                        skip_missing: bool = False,
                        device: str = 'cpu',
                        num_show: int = 3,
                        progress: bool = True,
                        work_dir: Optional[str] = None
                        ) -> Tuple[ModelResult, DomainRun]:
    """Evaluate ``checkpoint`` (``name`` in the report) on the domains of
    ``cfg.cross_domain`` (``domains``, ``shifts``, ``shift_cfgs``,
    ``skip_missing``: as :class:`~.loops.MultiDomainTestLoop`'s) on
    ``device`` (not distributed), keeping ``num_show`` samples per row for
    the strips; ``progress`` logs every 50 batches; ``work_dir`` defaults
    to a temporary folder."""
    shift_cfgs = APPEARANCE_SHIFTS if shift_cfgs is None else shift_cfgs
    loop = dict(type='MultiDomainTestLoop', domains=domains,
                shifts=list(shifts), shift_cfgs=shift_cfgs,
                skip_missing=skip_missing)
    with tempfile.TemporaryDirectory(prefix='ibnseg_eval_') as scratch:
        runner = _test_runner(cfg, loop, work_dir or scratch,
                              50 if progress else 10**9)
        # Data before weights: a missing domain fails fast.
        test_loop = runner.test_loop
        load_strictly(runner.model, checkpoint, cfg.filename)
        if not is_distributed():
            runner.model.to(device)
        samples = _FirstSamples(num_show)
        runner.register_hook(samples, 'LOWEST')
        metrics = runner.test()
    metric = test_loop.evaluator.metrics[0]
    rows = test_loop.evaluated_rows()
    result = ModelResult(
        name=name,
        config=cfg.filename or 'the config',
        checkpoint=checkpoint,
        source=test_loop.source,
        rows=list(rows),
        # the source's; the loop checked that every row has its classes
        classes=list(metric.dataset_meta['classes']),
        scores=metric.scores,
        shifted={r: (row['domain'], row['shift'])
                 for r, row in rows.items() if row['shift'] is not None},
        details=dict(
            targets=test_loop.targets,
            shifts=list(shifts),
            skipped=dict(test_loop.skipped),
            **{key: {r: row[key] for r, row in rows.items()}
               for key in ('num_samples', 'test_cfg')},
            datasets={r: row['dataset'] for r, row in rows.items()},
            shift_cfg={s: shift_cfgs[s] for s in shifts}))
    run = DomainRun(metrics, metric.dataset_meta.get('palette'),
                    samples.samples if is_main_process() else {})
    return result, run


def _file_name(text: str) -> str:
    return re.sub(r'[^\w.@+-]+', '_', text)


def picture_folders(out_dir: str, names: Sequence[str]) -> Dict[str, str]:
    """Model name -> its pictures' folder: ``out_dir`` for one model, else
    ``<out_dir>/<name>`` (characters but letters, digits and ``.@+-`` as
    ``_``; ``..`` stays, for ``check_output_names`` to refuse)."""
    if len(names) == 1:
        return {names[0]: out_dir}
    return {name: osp.join(out_dir, _file_name(name)) for name in names}


def write_outputs(out_dir: str,
                  evaluations: Sequence[Tuple[ModelResult, DomainRun]]
                  ) -> List[str]:
    """Write the report, and ``per_class_iou.png`` and
    ``samples_<row>.png`` per model (:func:`picture_folders`); returns the
    files written."""
    paths = list(
        write_report(out_dir, [result for result, _ in evaluations]).values())
    folders = picture_folders(out_dir,
                              [result.name for result, _ in evaluations])
    for result, run in evaluations:
        folder = folders[result.name]
        labels = {result.source: f'{result.source} (source)'}
        series = {labels.get(row, row): result.class_ious(row)
                  for row in [result.source, *result.targets]}
        paths.append(osp.join(folder, 'per_class_iou.png'))
        plot_per_class_iou(paths[-1], result.classes, series,
                           title=f'{result.name}: per-class IoU')
        for row, samples in run.samples.items():
            if samples:
                paths.append(
                    osp.join(folder, f'samples_{_file_name(row)}.png'))
                write_sample_strip(paths[-1], samples, run.palette,
                                   title=f'{result.name} on {row}')
    return paths
