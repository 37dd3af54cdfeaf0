"""Cross-domain evaluation: the per-domain metric, the ``cross_domain``
config section, the loops that evaluate its domains, running a model over
them, the report writers and
the visualization hook naming pictures by domain."""
from .domains import (EvalDomain, cross_domain_evaluator,
                      parse_cross_domain, tag_domain, with_shift)
from .evaluate import evaluate_checkpoint, select_domains, write_outputs
from .inference import (CheckpointMismatchError, DomainRun, DomainSample,
                        MissingDomainDataError, build_domain_dataloaders,
                        evaluate_domains, load_segmentor)
from .loops import MultiDomainTestLoop, MultiDomainValLoop
from .metrics import CrossDomainIoUMetric, confusion_to_metrics, metric_key
from .report import (ModelResult, markdown_report, per_class_table,
                     results_csv, results_json, summary_table, write_report)
from .visualization import (colorize, plot_per_class_iou, sample_strip,
                            write_sample_strip)
from .visualization_hook import DomainSegVisualizationHook

__all__ = [
    'CheckpointMismatchError', 'CrossDomainIoUMetric', 'DomainRun',
    'DomainSample', 'DomainSegVisualizationHook', 'EvalDomain',
    'MissingDomainDataError', 'ModelResult',
    'build_domain_dataloaders', 'colorize', 'confusion_to_metrics',
    'cross_domain_evaluator', 'MultiDomainTestLoop', 'MultiDomainValLoop',
    'evaluate_checkpoint', 'evaluate_domains', 'load_segmentor',
    'markdown_report', 'metric_key', 'parse_cross_domain', 'per_class_table',
    'plot_per_class_iou', 'results_csv', 'results_json', 'sample_strip',
    'select_domains', 'summary_table', 'tag_domain', 'with_shift',
    'write_outputs', 'write_report', 'write_sample_strip'
]
