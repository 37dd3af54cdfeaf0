"""Cross-domain report: Markdown tables, ``results.json`` and CSV.

The main table follows the IBN-Net paper's Table 4: one row per (train
domain, test domain), then the target mean and the source-to-target drop,
then any appearance-shifted rows; one ``mIoU``/``aAcc`` column pair per
model, so several checkpoints compare side by side. Every file is written
atomically.
"""
import csv
import io
import json
import math
import os.path as osp
import time
from collections import OrderedDict
from dataclasses import dataclass, field
from typing import Dict, List, Optional, Sequence, Tuple

from ibnseg.engine.fileio import atomic_write
from ibnseg.utils.markdown import markdown_table
from ibnseg.version import __version__
from .metrics.cross_domain_iou_metric import (DROP, SUMMARY_METRICS,
                                              TARGET_MEAN)

TABLE_METRICS = ('mIoU', 'aAcc')
ROW_LABELS = {TARGET_MEAN: 'target mean', DROP: 'drop (source - target)'}


@dataclass
class ModelResult:
    """One model's cross-domain evaluation.

    Attributes:
        name (str): Column label in the comparison table.
        config (str): Config file.
        checkpoint (str): Checkpoint file.
        source (str): The domain it was trained on.
        rows (list[str]): Evaluated rows in order (domains, then shifted
            rows).
        classes (list[str]): Class names.
        scores (dict[str, dict]): ``CrossDomainIoUMetric.scores``: per row
            ``{aAcc, mIoU, mAcc, IoU: [per class]}``, plus ``target`` and
            ``drop`` ``{aAcc, mIoU, mAcc}`` when targets were evaluated.
        shifted (dict[str, tuple[str, str]]): Row -> (domain, appearance
            shift) for the shifted rows.
        details (dict): Anything else for ``results.json`` (test settings,
            sample counts, skipped domains, shifts, cfg options).
    """
    name: str
    config: str
    checkpoint: str
    source: str
    rows: List[str]
    classes: List[str]
    scores: Dict[str, dict]
    shifted: Dict[str, Tuple[str, str]] = field(default_factory=dict)
    details: dict = field(default_factory=dict)

    @property
    def summary_rows(self) -> List[str]:
        """``rows`` with the target mean and drop after the clean domains."""
        clean = [r for r in self.rows if r not in self.shifted]
        summary = [r for r in (TARGET_MEAN, DROP) if r in self.scores]
        return clean + summary + list(self.shifted)

    def value(self, row: str, name: str) -> Optional[float]:
        return self.scores.get(row, {}).get(name)

    def class_ious(self, row: str) -> List[Optional[float]]:
        return list(self.scores.get(row, {}).get('IoU') or
                    [None] * len(self.classes))

    def label(self, row: str) -> str:
        """How the tables name ``row``."""
        if row in self.shifted:
            return ' @ '.join(self.shifted[row])
        return ROW_LABELS.get(row, row)

    def nested(self) -> dict:
        """Every number, by row: ``{row: {aAcc, mIoU, mAcc, IoU: {...}}}``."""
        nested = OrderedDict()
        for row in self.summary_rows:
            entry = {m: _json_number(self.value(row, m))
                     for m in SUMMARY_METRICS}
            if row not in (TARGET_MEAN, DROP):
                entry['IoU'] = {
                    c: _json_number(v)
                    for c, v in zip(self.classes, self.class_ious(row))
                }
            nested[row] = entry
        return nested


def _json_number(value):
    """JSON has no NaN: an undefined metric (absent class) is null."""
    if value is None or (isinstance(value, float) and math.isnan(value)):
        return None
    return float(value)


def _fmt(value: Optional[float]) -> str:
    if value is None:
        return '-'
    return 'nan' if math.isnan(value) else f'{value:.2f}'


def summary_table(results: Sequence[ModelResult]) -> str:
    """The Table-4 style comparison, one column pair per model."""
    keys = OrderedDict()  # (train, test row) -> label, in first-seen order
    for result in results:
        for row in result.summary_rows:
            keys.setdefault((result.source, row), result.label(row))
    single = len(results) == 1
    header = ['train', 'test'] + [
        m if single else f'{r.name} {m}' for r in results
        for m in TABLE_METRICS
    ]
    lines = []
    for (source, row), label in keys.items():
        cells = [source, label]
        for result in results:
            present = result.source == source and row in result.summary_rows
            cells += [
                _fmt(result.value(row, m)) if present else '-'
                for m in TABLE_METRICS
            ]
        lines.append(cells)
    return markdown_table(header, lines)


def per_class_table(result: ModelResult) -> str:
    """Per-class IoU (%) of one model: classes by rows, domains by columns."""
    rows = result.rows
    lines = []
    for index, class_name in enumerate(result.classes):
        lines.append([class_name] +
                     [_fmt(result.class_ious(r)[index]) for r in rows])
    lines.append(['**mIoU**'] + [_fmt(result.value(r, 'mIoU')) for r in rows])
    return markdown_table(['class'] + [result.label(r) for r in rows], lines)


def markdown_report(results: Sequence[ModelResult]) -> str:
    """The whole Markdown report: the comparison and per-class tables."""
    parts = ['# Cross-domain evaluation', '',
             '## mIoU and aAcc (%)', '', summary_table(results), '']
    for result in results:
        parts += [f'## Per-class IoU (%): {result.name}', '',
                  f'config `{result.config}`, checkpoint '
                  f'`{result.checkpoint}`', '', per_class_table(result), '']
        skipped = result.details.get('skipped')
        if skipped:
            parts += ['Skipped domains: ' + '; '.join(
                f'{d} ({why})' for d, why in skipped.items()), '']
    return '\n'.join(parts)


def results_json(results: Sequence[ModelResult]) -> str:
    """Machine-readable results: config, checkpoint, domains, every number.
    """
    document = dict(
        ibnseg_version=__version__,
        created=time.strftime('%Y-%m-%dT%H:%M:%S%z'),
        models=[
            dict(
                name=r.name,
                config=r.config,
                checkpoint=r.checkpoint,
                source=r.source,
                rows=r.rows,
                classes=list(r.classes),
                results=r.nested(),
                **r.details) for r in results
        ])
    # default=str: config values JSON lacks (e.g. a ConfigDict subclass)
    return json.dumps(
        document, indent=2, allow_nan=False, default=str) + '\n'


def results_csv(results: Sequence[ModelResult]) -> str:
    """One line per (model, row): summary metrics then per-class IoU."""
    classes = list(results[0].classes) if results else []
    buffer = io.StringIO()
    writer = csv.writer(buffer, lineterminator='\n')
    writer.writerow(['model', 'config', 'checkpoint', 'train', 'test',
                     *SUMMARY_METRICS, *(f'IoU.{c}' for c in classes)])
    for result in results:
        for row, entry in result.nested().items():
            ious = entry.get('IoU', {})
            writer.writerow([
                result.name, result.config, result.checkpoint, result.source,
                row, *(_csv(entry[m]) for m in SUMMARY_METRICS),
                *(_csv(ious.get(c)) for c in classes)
            ])
    return buffer.getvalue()


def _csv(value) -> str:
    return '' if value is None else repr(value)


def write_report(out_dir: str, results: Sequence[ModelResult]) -> dict:
    """Write ``results.md``, ``results.json`` and ``results.csv``.

    Returns:
        dict[str, str]: Kind ('md', 'json', 'csv') -> path written.
    """
    paths = {}
    for kind, text in (('md', markdown_report(results)),
                       ('json', results_json(results)),
                       ('csv', results_csv(results))):
        paths[kind] = osp.join(out_dir, f'results.{kind}')
        atomic_write(paths[kind], text)
    return paths
