"""BDD100K's drivable-area mIoU, beside mmseg's plain 3-class mIoU.

BDD100K's ``evaluate_drivable`` (bdd100k/bdd100k, ``bdd100k/eval/seg.py``)
treats background as ignored: ground-truth background pixels (and 255) are
left out of the histogram, so predicting a drivable class on background
costs nothing; only the IoUs of direct and alternative are kept; their mean
is over the classes present in the evaluated ground truth. ``bdd_mIoU`` is
that number, from mmseg's own metrics of the confusion matrix without its
ground-truth background row; ``mIoU`` stays mmseg's mean over all 3 classes.
"""
from typing import Sequence

import numpy as np
import torch
from mmseg.registry import METRICS

from .cross_domain_iou_metric import (CrossDomainIoUMetric,
                                      confusion_to_metrics)

#: The key of BDD's drivable mIoU (``<domain>/bdd_mIoU`` across domains).
BDD_MIOU = 'bdd_mIoU'


@METRICS.register_module()
class CrossDomainDrivableIoUMetric(CrossDomainIoUMetric):
    """``CrossDomainIoUMetric`` whose rows also hold ``bdd_mIoU`` (module
    docstring), which leaves out ``background_class``."""

    def __init__(self, background_class: str = 'background',
                 **kwargs) -> None:
        if BDD_MIOU in (kwargs.get('class_subsets') or {}):
            raise ValueError(f'CrossDomainDrivableIoUMetric: {BDD_MIOU!r} '
                             'cannot name a class subset')
        self.background_class = background_class
        super().__init__(**kwargs)

    def _background(self, classes: Sequence[str]) -> int:
        classes = list(classes)
        if self.background_class not in classes:
            raise ValueError(
                f'CrossDomainDrivableIoUMetric: background_class '
                f'{self.background_class!r} is not a class of the dataset '
                f'({", ".join(classes)}); BDD\'s drivable mIoU leaves the '
                'background class out')
        return classes.index(self.background_class)

    @CrossDomainIoUMetric.dataset_meta.setter
    def dataset_meta(self, dataset_meta: dict) -> None:
        if dataset_meta and 'classes' in dataset_meta:
            self._background(dataset_meta['classes'])
        CrossDomainIoUMetric.dataset_meta.fset(self, dataset_meta)

    @property
    def metric_names(self):
        return [*super().metric_names, BDD_MIOU]

    def _summarize(self, confusion: torch.Tensor, subsets) -> dict:
        summary = super()._summarize(confusion, subsets)
        background = self._background(self.dataset_meta['classes'])
        kept = confusion.clone()
        kept[background] = 0
        iou = confusion_to_metrics(kept)['IoU']
        area_label = confusion.sum(dim=1)
        present = [c for c in range(len(iou))
                   if c != background and area_label[c] > 0]
        summary[BDD_MIOU] = float(
            np.mean(np.asarray(iou, np.float64)[present]) *
            100) if present else float('nan')
        return summary
