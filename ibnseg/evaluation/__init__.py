"""Cross-domain evaluation: the per-domain metric and the report writers."""
from .metrics import CrossDomainIoUMetric, confusion_to_metrics, metric_key

__all__ = ['CrossDomainIoUMetric', 'confusion_to_metrics', 'metric_key']
