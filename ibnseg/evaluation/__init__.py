"""Cross-domain evaluation: the ``cross_domain`` config section, the loops
that evaluate its domains (training-time validation, ``tools/test.py``,
``tools/cross_domain_eval.py``), the per-domain metric, strict checkpoint
loading, the report writers and the pictures named by domain."""
from .domains import (EvalDomain, cross_domain_evaluator, evaluation_rows,
                      parse_cross_domain, select_domains, tag_domain,
                      with_shift)
from .evaluate import evaluate_checkpoint, write_outputs
from .inference import (CheckpointMismatchError, DomainRun, DomainSample,
                        load_segmentor, load_strictly)
from .loops import (MissingDomainDataError, MultiDomainTestLoop,
                    MultiDomainValLoop)
from .metrics import CrossDomainIoUMetric, confusion_to_metrics, metric_key
from .report import (ModelResult, markdown_report, per_class_table,
                     results_csv, results_json, summary_table, write_report)
from .visualization import (colorize, plot_per_class_iou, sample_strip,
                            write_sample_strip)
from .visualization_hook import DomainSegVisualizationHook

__all__ = [
    'CheckpointMismatchError', 'CrossDomainIoUMetric', 'DomainRun',
    'DomainSample', 'DomainSegVisualizationHook', 'EvalDomain',
    'MissingDomainDataError', 'ModelResult', 'MultiDomainTestLoop',
    'MultiDomainValLoop', 'colorize', 'confusion_to_metrics',
    'cross_domain_evaluator', 'evaluate_checkpoint', 'evaluation_rows',
    'load_segmentor', 'load_strictly', 'markdown_report', 'metric_key',
    'parse_cross_domain', 'per_class_table', 'plot_per_class_iou',
    'results_csv', 'results_json', 'sample_strip', 'select_domains',
    'summary_table', 'tag_domain', 'with_shift', 'write_outputs',
    'write_report', 'write_sample_strip'
]
