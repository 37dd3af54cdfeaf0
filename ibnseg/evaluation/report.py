"""Cross-domain report: Markdown tables in the domain-generalisation papers'
layout (RobustNet, SAN-SAW, WildNet, ...) and the IBN-Net paper's Table 4,
``results.json`` and CSV."""
import csv
import io
import json
import math
import os.path as osp
import time
from dataclasses import dataclass, field
from typing import Dict, List, Optional, Sequence, Tuple

from ibnseg.engine.fileio import atomic_write
from ibnseg.utils.markdown import markdown_table
from ibnseg.version import __version__
from .metrics.cross_domain_iou_metric import (CLASS_IOU, DROP,
                                              SUMMARY_METRICS, TARGET_MEAN)

ROW_LABELS = {TARGET_MEAN: 'target mean', DROP: 'drop (source - target)'}
DG_COLUMNS = {TARGET_MEAN: 'target mean', DROP: 'drop'}


@dataclass
class ModelResult:
    """One model's cross-domain evaluation: ``rows`` are the evaluated
    domains then the shifted rows (``shifted``: row -> (domain, shift));
    ``scores`` is ``CrossDomainIoUMetric.scores``; ``details`` goes to
    ``results.json`` (``targets``, when given, lists the target domains).
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

    @property
    def targets(self) -> List[str]:
        """``details['targets']``, else every clean row but the source."""
        if 'targets' in self.details:
            return list(self.details['targets'])
        return [r for r in self.rows
                if r not in self.shifted and r != self.source]

    @property
    def subset_metrics(self) -> List[str]:
        """The class-subset metrics in the scores (``mIoU16``, ...)."""
        known = (*SUMMARY_METRICS, CLASS_IOU)
        return [name for name in self.scores.get(self.source, {})
                if name not in known]

    @property
    def table_metrics(self) -> List[str]:
        """The Table-4 columns: mIoU, the class subsets, aAcc."""
        return ['mIoU', *self.subset_metrics, 'aAcc']

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
        metrics = (*SUMMARY_METRICS, *self.subset_metrics)
        nested = {}
        for row in self.summary_rows:
            entry = {m: json_number(self.value(row, m)) for m in metrics}
            if row not in (TARGET_MEAN, DROP):
                entry['IoU'] = {c: json_number(v) for c, v in
                                zip(self.classes, self.class_ious(row))}
            nested[row] = entry
        return nested


def json_number(value) -> Optional[float]:
    """A float, or None for a missing or NaN value: JSON has no NaN, and an
    undefined metric (an absent class) is null."""
    return None if value is None or math.isnan(value) else float(value)


def _fmt(value: Optional[float]) -> str:
    if value is None:
        return '-'
    return 'nan' if math.isnan(value) else f'{value:.2f}'


def summary_table(results: Sequence[ModelResult]) -> str:
    """The IBN-Net paper's Table 4: a row per (train, test) domain, the
    target mean, the drop, the shifted rows; per model its
    :attr:`~ModelResult.table_metrics`."""
    keys = {}  # (train, test row) -> label, in first-seen order
    for result in results:
        for row in result.summary_rows:
            keys.setdefault((result.source, row), result.label(row))
    columns = [(r, m) for r in results for m in r.table_metrics]
    header = ['train', 'test'] + [
        m if len(results) == 1 else f'{r.name} {m}' for r, m in columns]
    lines = [[source, label] + [
        _fmt(r.value(row, m))
        if r.source == source and row in r.summary_rows else '-'
        for r, m in columns
    ] for (source, row), label in keys.items()]
    return markdown_table(header, lines)


def _dg_markdown(first: str, group: Sequence[ModelResult],
                 lines: Sequence[Tuple[str, ModelResult, str]]) -> str:
    """A column per domain of ``group`` (one source's models), the target
    mean and the drop; a line per ``(label, model, metric)``."""
    targets = dict.fromkeys(t for r in group for t in r.targets)
    columns = [group[0].source, *targets, TARGET_MEAN, DROP]
    rows = []
    for label, result, metric in lines:
        # '-': another model's class subset, a domain skipped (not evaluated)
        known = metric in (*SUMMARY_METRICS, *result.subset_metrics)
        evaluated = (result.source, TARGET_MEAN, DROP, *result.targets)
        rows.append([label] + [
            _fmt(result.value(c, metric)) if known and c in evaluated else '-'
            for c in columns])
    header = [first, f'{columns[0]} (source)'] + [
        DG_COLUMNS.get(c, c) for c in columns[1:]]
    return markdown_table(header, rows)


def dg_table(result: ModelResult) -> str:
    """One checkpoint in the DG papers' layout: a row per metric."""
    metrics = ['mIoU', *result.subset_metrics, 'mAcc', 'aAcc']
    return _dg_markdown('metric', [result], [(m, result, m) for m in metrics])


def dg_comparison_tables(results: Sequence[ModelResult]
                         ) -> List[Tuple[str, str, str]]:
    """Several checkpoints in the DG papers' layout, a row per model: one
    ``(source, metric, table)`` per training domain and metric (mIoU, the
    class subsets)."""
    tables = []
    for source in dict.fromkeys(r.source for r in results):
        group = [r for r in results if r.source == source]
        metrics = dict.fromkeys(
            ['mIoU', *(m for r in group for m in r.subset_metrics)])
        tables += [(source, m, _dg_markdown(
            'model', group, [(r.name, r, m) for r in group])) for m in metrics]
    return tables


def per_class_table(result: ModelResult) -> str:
    """Per-class IoU (%) of one model: classes by rows, domains by columns."""
    rows = result.rows
    ious = [result.class_ious(r) for r in rows]
    lines = [[name] + [_fmt(row_ious[index]) for row_ious in ious]
             for index, name in enumerate(result.classes)]
    lines.append(['**mIoU**'] + [_fmt(result.value(r, 'mIoU')) for r in rows])
    return markdown_table(['class'] + [result.label(r) for r in rows], lines)


def markdown_report(results: Sequence[ModelResult]) -> str:
    """The Markdown report: the DG comparison (several checkpoints), the
    Table-4 style table, per checkpoint its targets and per-class IoU."""
    parts = ['# Cross-domain evaluation', '']
    if len(results) > 1:
        for source, metric, table in dg_comparison_tables(results):
            parts += [f'## {metric} (%) by target domain, trained on '
                      f'{source}', '', table, '']
    parts += ['## mIoU and aAcc (%)', '', summary_table(results), '']
    for result in results:
        if result.targets:
            parts += [f'## Targets (%): {result.name}', '',
                      dg_table(result), '']
        parts += [f'## Per-class IoU (%): {result.name}', '',
                  f'config `{result.config}`, checkpoint '
                  f'`{result.checkpoint}`', '', per_class_table(result), '']
        skipped = result.details.get('skipped')
        if skipped:
            parts += ['Skipped domains: ' + '; '.join(
                f'{d} ({why})' for d, why in skipped.items()), '']
    return '\n'.join(parts)


def results_json(results: Sequence[ModelResult]) -> str:
    """Machine-readable results: config, checkpoint, domains, every number."""
    models = [dict(name=r.name, config=r.config, checkpoint=r.checkpoint,
                   source=r.source, rows=r.rows, classes=list(r.classes),
                   results=r.nested(), **r.details) for r in results]
    document = dict(ibnseg_version=__version__,
                    created=time.strftime('%Y-%m-%dT%H:%M:%S%z'),
                    models=models)
    # default=str: config values JSON lacks (e.g. a ConfigDict subclass)
    return json.dumps(document, indent=2, allow_nan=False, default=str) + '\n'


def results_csv(results: Sequence[ModelResult]) -> str:
    """A line per (model, row): summary and class-subset metrics (empty
    where a model lacks one), per-class IoU."""
    classes = results[0].classes if results else []
    metrics = dict.fromkeys(
        [*SUMMARY_METRICS, *(m for r in results for m in r.subset_metrics)])
    buffer = io.StringIO()
    writer = csv.writer(buffer, lineterminator='\n')
    writer.writerow(['model', 'config', 'checkpoint', 'train', 'test',
                     *metrics, *(f'IoU.{c}' for c in classes)])
    for result in results:
        for row, entry in result.nested().items():
            ious = entry.get('IoU', {})
            values = [*(entry.get(m) for m in metrics),
                      *(ious.get(c) for c in classes)]
            writer.writerow([
                result.name, result.config, result.checkpoint, result.source,
                row, *('' if v is None else repr(v) for v in values)
            ])
    return buffer.getvalue()


def write_report(out_dir: str, results: Sequence[ModelResult]) -> dict:
    """Write ``results.{md,json,csv}`` atomically; returns kind -> path."""
    texts = dict(md=markdown_report(results), json=results_json(results),
                 csv=results_csv(results))
    paths = {kind: osp.join(out_dir, f'results.{kind}') for kind in texts}
    for kind, text in texts.items():
        atomic_write(paths[kind], text)
    return paths
