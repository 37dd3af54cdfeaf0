"""Evaluate checkpoints on their config's domains and write the report.

The work behind ``tools/cross_domain_eval.py``: pick the domains (and
appearance shifts) to run, check their data before loading the model, run
the model (:mod:`.inference`) and write tables, JSON, CSV and pictures
(:mod:`.report`, :mod:`.visualization`).
"""
import logging
import os.path as osp
import re
from typing import Dict, List, Optional, Sequence, Tuple

from mmengine.config import Config
from mmengine.logging import print_log
from mmengine.registry import init_default_scope

from .domains import EvalDomain, parse_cross_domain, with_shift
from .inference import (DomainRun, MissingDomainDataError,
                        build_domain_dataloaders, evaluate_domains,
                        load_segmentor)
from .report import ModelResult, write_report
from .visualization import plot_per_class_iou, write_sample_strip


def select_domains(source: str, configured: Dict[str, EvalDomain],
                   names: Optional[Sequence[str]],
                   where: str) -> List[EvalDomain]:
    """The configured domains named in ``names`` (all if None), in the
    config's order; the source must stay (the drop is measured from it)."""
    if not names:
        return list(configured.values())
    unknown = [n for n in names if n not in configured]
    if unknown:
        raise ValueError(f'--domains {", ".join(unknown)}: not in '
                         f'cross_domain.domains of {where} (configured: '
                         f'{", ".join(configured)})')
    if source not in names:
        raise ValueError(f"--domains must include the source domain "
                         f"'{source}' of {where}: the drop is measured "
                         'against it')
    return [d for name, d in configured.items() if name in names]


def _build_loaders(rows, source: str, skip_missing: bool):
    """Dataloaders of the rows whose data exists; the others, if allowed,
    are skipped with the reason."""
    loaders, skipped = {}, {}
    for row in rows:
        try:
            loaders.update(build_domain_dataloaders([row]))
        except MissingDomainDataError as error:
            if row.domain == source:
                raise MissingDomainDataError(
                    f'{error}; the source domain cannot be skipped') from None
            if not skip_missing:
                raise MissingDomainDataError(
                    f'{error}; pass --skip-missing to evaluate the other '
                    'domains') from None
            print_log(f'skipping {error}', logger='current',
                      level=logging.WARNING)
            skipped[row.name] = str(error)
    return loaders, skipped


def evaluate_checkpoint(cfg: Config,
                        checkpoint: str,
                        name: str,
                        domains: Optional[Sequence[str]] = None,
                        shifts: Sequence[str] = (),
                        shift_cfgs: Optional[Dict[str, dict]] = None,
                        skip_missing: bool = False,
                        device: str = 'cpu',
                        num_show: int = 3,
                        progress: bool = True
                        ) -> Tuple[ModelResult, DomainRun]:
    """Evaluate one checkpoint on the domains of ``cfg.cross_domain``.

    Args:
        cfg (Config): The checkpoint's config, with a ``cross_domain``
            section (see :mod:`ibnseg.evaluation.domains`).
        checkpoint (str): The checkpoint.
        name (str): The model's name in the report.
        domains (Sequence[str], optional): Domains to evaluate; default all.
        shifts (Sequence[str]): Appearance shifts; each adds a
            ``<domain>@<shift>`` row per domain.
        shift_cfgs (dict[str, dict], optional): Shift name -> transform
            config; default ``ibnseg.datasets.transforms.APPEARANCE_SHIFTS``.
        skip_missing (bool): Skip (and report) target domains whose data is
            missing instead of failing.
        device (str): Where the model runs.
        num_show (int): Samples per row kept for the sample strips.
        progress (bool): Show progress bars.
    """
    where = cfg.filename or 'the config'
    # Datasets are built before the model (which would set the scope).
    init_default_scope(cfg.get('default_scope', 'mmseg'))
    source, configured = parse_cross_domain(cfg.get('cross_domain'), where)
    clean = select_domains(source, configured, domains, where)
    if shifts and shift_cfgs is None:
        from ibnseg.datasets.transforms import APPEARANCE_SHIFTS
        shift_cfgs = APPEARANCE_SHIFTS
    rows = clean + [with_shift(d, s, shift_cfgs) for d in clean
                    for s in shifts]
    # Data before the model: a missing domain fails fast.
    loaders, skipped = _build_loaders(rows, source, skip_missing)
    rows = [r for r in rows if r.name in loaders]
    model = load_segmentor(cfg, checkpoint, device)
    targets = [r.name for r in rows if r.shift is None and r.name != source]
    run = evaluate_domains(model, rows, source, targets, loaders, num_show,
                           progress=progress)
    result = ModelResult(
        name=name,
        config=where,
        checkpoint=checkpoint,
        source=source,
        rows=[r.name for r in rows],
        classes=list(run.dataset_meta['classes']),
        metrics=run.metrics,
        details=dict(
            targets=targets,
            shifts=list(shifts),
            skipped=skipped,
            num_samples=run.num_samples,
            test_cfg={r.name: r.test_cfg for r in rows},
            datasets={r.name: r.dataloader['dataset'] for r in rows},
            shift_cfg={s: shift_cfgs[s] for s in shifts}))
    return result, run


def _file_name(text: str) -> str:
    return re.sub(r'[^\w.@+-]+', '_', text)


def write_outputs(out_dir: str,
                  evaluations: Sequence[Tuple[ModelResult, DomainRun]]
                  ) -> List[str]:
    """Write the report and each model's pictures under ``out_dir``.

    One model: ``per_class_iou.png`` and ``samples_<row>.png`` next to
    ``results.{md,json,csv}``; several: the pictures go to
    ``<out_dir>/<model name>/``.

    Returns:
        list[str]: The files written.
    """
    paths = list(
        write_report(out_dir, [result for result, _ in evaluations]).values())
    for result, run in evaluations:
        folder = out_dir if len(evaluations) == 1 else osp.join(
            out_dir, _file_name(result.name))
        series = {f'{result.source} (source)': result.class_ious(
            result.source)}
        for target in result.details['targets']:
            series[target] = result.class_ious(target)
        paths.append(osp.join(folder, 'per_class_iou.png'))
        plot_per_class_iou(paths[-1], result.classes, series,
                           title=f'{result.name}: per-class IoU')
        palette = run.dataset_meta.get('palette')
        for row, samples in run.samples.items():
            if samples:
                paths.append(
                    osp.join(folder, f'samples_{_file_name(row)}.png'))
                write_sample_strip(paths[-1], samples, palette,
                                   title=f'{result.name} on {row}')
    return paths
