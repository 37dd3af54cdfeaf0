from .bdd_drivable_metric import BDD_MIOU, CrossDomainDrivableIoUMetric
from .cross_domain_iou_metric import (CrossDomainIoUMetric,
                                      confusion_to_metrics, metric_key)

__all__ = [
    'CrossDomainIoUMetric', 'confusion_to_metrics', 'metric_key',
    'CrossDomainDrivableIoUMetric', 'BDD_MIOU'
]
