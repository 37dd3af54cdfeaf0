"""Cross-domain evaluation: the ``cross_domain`` config section, the loops
that evaluate its domains, the per-domain metric and the report."""
from .domains import (EvalDomain, cross_domain_evaluator, evaluation_rows,
                      parse_cross_domain, tag_domain, with_shift)
from .evaluate import DomainRun, evaluate_checkpoint, write_outputs
from .loops import (MissingDomainDataError, MultiDomainTestLoop,
                    MultiDomainValLoop)
from .metrics import CrossDomainIoUMetric, confusion_to_metrics, metric_key
from .report import (ModelResult, markdown_report, per_class_table,
                     results_csv, results_json, summary_table, write_report)

__all__ = [
    'CrossDomainIoUMetric', 'DomainRun', 'EvalDomain',
    'MissingDomainDataError', 'ModelResult', 'MultiDomainTestLoop',
    'MultiDomainValLoop', 'confusion_to_metrics', 'cross_domain_evaluator',
    'evaluate_checkpoint', 'evaluation_rows', 'markdown_report',
    'metric_key', 'parse_cross_domain', 'per_class_table', 'results_csv',
    'results_json', 'summary_table', 'tag_domain', 'with_shift',
    'write_outputs', 'write_report'
]
