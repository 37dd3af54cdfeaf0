"""BDD100K's drivable-area mIoU, beside mmseg's plain 3-class mIoU.

BDD100K's evaluation (bdd100k/bdd100k, ``bdd100k/eval/seg.py``,
``evaluate_drivable`` -> ``evaluate_segmentation(mode="drivable")``) counts
background in its own way: with ``num_classes = len(drivables)`` = 3 and
"``background`` as ``ignored``",

- ``fast_hist`` keeps only pixels whose ground truth is below
  ``num_classes - 1``: ground-truth background pixels (and 255, which
  ``per_image_hist`` turns into background first) are left out entirely, so
  a prediction of direct or alternative on background costs nothing;
  predictions of background on direct/alternative ground truth are misses;
- ``per_class_iou`` drops the last class: IoUs of direct and alternative
  only, computed from that histogram;
- the mean is over the classes present in the ground truth of the
  evaluated images (``gt_id_set``), not over every class.

``bdd_mIoU`` here is that number; ``mIoU`` stays mmseg's plain mean over
the 3 classes (background counted like any class, as in the 2018 toolkit's
``bdd_data/evaluate.py`` of ucbdrive/bdd100k, which averaged all three
classes present in the ground truth). Both are built from mmseg's own
areas (``IoUMetric.intersect_and_union`` / ``total_area_to_metrics``):
BDD's histogram is mmseg's with ground-truth background as the ignore
value.
"""
from collections import OrderedDict
from typing import Dict, Sequence

import numpy as np
import torch
from mmengine.logging import print_log
from mmseg.evaluation.metrics import IoUMetric
from mmseg.registry import METRICS

from .cross_domain_iou_metric import (CrossDomainIoUMetric,
                                      confusion_to_metrics)

#: The key of BDD's drivable mIoU (``<domain>/bdd_mIoU`` across domains).
BDD_MIOU = 'bdd_mIoU'


def background_index(classes: Sequence[str], background: str,
                     owner: str) -> int:
    """The index of ``background`` in the dataset's ``classes``."""
    classes = list(classes)
    if background not in classes:
        raise ValueError(
            f'{owner}: background_class {background!r} is not a class of '
            f'the dataset ({", ".join(classes)}); BDD\'s drivable mIoU '
            'leaves the background class out')
    return classes.index(background)


def bdd_mean_iou(iou: np.ndarray, area_label: np.ndarray,
                 background: int) -> float:
    """BDD's mean (percent): the IoUs of the classes other than
    ``background`` that occur in the ground truth; NaN if none does.

    Args:
        iou (np.ndarray): Per-class IoU (fractions) from areas in which
            ground-truth background was ignored.
        area_label (np.ndarray): Ground-truth pixels per class.
        background (int): The background class index.
    """
    present = [c for c in range(len(iou))
               if c != background and area_label[c] > 0]
    if not present:
        return float('nan')
    return float(np.mean(np.asarray(iou, np.float64)[present]) * 100)


@METRICS.register_module()
class BDDDrivableIoUMetric(IoUMetric):
    """mmseg's ``IoUMetric`` (aAcc, mIoU, mAcc and the per-class table, all
    3 classes) plus ``bdd_mIoU``, BDD100K's drivable mIoU (module
    docstring), for one dataset.

    Args:
        background_class (str): The class BDD's mean leaves out. Defaults
            to 'background'.
        **kwargs: ``IoUMetric`` arguments (``iou_metrics`` must include
            'mIoU', the default).
    """

    def __init__(self, background_class: str = 'background',
                 **kwargs) -> None:
        super().__init__(**kwargs)
        if 'mIoU' not in self.metrics:
            raise ValueError('BDDDrivableIoUMetric: iou_metrics must include '
                             "'mIoU'")
        self.background_class = background_class

    def process(self, data_batch: dict, data_samples: Sequence[dict]) -> None:
        """mmseg's areas, each paired with the areas of BDD's histogram
        (the same call, ground-truth background as the ignore value)."""
        start = len(self.results)
        super().process(data_batch, data_samples)
        if self.format_only:
            return
        classes = self.dataset_meta['classes']
        background = background_index(classes, self.background_class,
                                      type(self).__name__)
        for offset, data_sample in enumerate(data_samples):
            pred = data_sample['pred_sem_seg']['data'].squeeze()
            label = data_sample['gt_sem_seg']['data'].squeeze().to(pred)
            label = torch.where(label == background,
                                torch.full_like(label, self.ignore_index),
                                label)
            bdd_areas = self.intersect_and_union(pred, label, len(classes),
                                                 self.ignore_index)
            index = start + offset
            self.results[index] = (self.results[index], bdd_areas)

    def compute_metrics(self, results: list) -> Dict[str, float]:
        plain, bdd = zip(*results)
        metrics = super().compute_metrics(list(plain))
        area_intersect, area_union, area_pred, area_label = (
            sum(r[i] for r in bdd) for i in range(4))
        iou = self.total_area_to_metrics(area_intersect, area_union,
                                         area_pred, area_label, ['mIoU'],
                                         self.nan_to_num, self.beta)['IoU']
        background = background_index(self.dataset_meta['classes'],
                                      self.background_class,
                                      type(self).__name__)
        # rounded as IoUMetric rounds its summary
        metrics[BDD_MIOU] = float(np.round(
            bdd_mean_iou(iou, np.asarray(area_label), background), 2))
        print_log(f'{BDD_MIOU} (BDD100K drivable: background ignored): '
                  f'{metrics[BDD_MIOU]}', logger='current')
        return metrics


@METRICS.register_module()
class CrossDomainDrivableIoUMetric(CrossDomainIoUMetric):
    """``CrossDomainIoUMetric`` whose rows also hold ``bdd_mIoU``, BDD100K's
    drivable mIoU (module docstring): ``<domain>/bdd_mIoU`` for every
    domain, ``target/bdd_mIoU`` and ``drop/bdd_mIoU`` beside the plain
    3-class ``mIoU``, and a ``bdd_mIoU`` column in the reports.

    Args:
        background_class (str): The class BDD's mean leaves out (checked
            against the dataset's classes when the evaluator gets them).
            Defaults to 'background'.
        **kwargs: ``CrossDomainIoUMetric`` arguments.
    """

    def __init__(self, background_class: str = 'background',
                 **kwargs) -> None:
        if BDD_MIOU in (kwargs.get('class_subsets') or {}):
            raise ValueError(f'CrossDomainDrivableIoUMetric: {BDD_MIOU!r} '
                             'cannot name a class subset')
        self.background_class = background_class
        super().__init__(**kwargs)

    @CrossDomainIoUMetric.dataset_meta.setter
    def dataset_meta(self, dataset_meta: dict) -> None:
        if dataset_meta and 'classes' in dataset_meta:
            background_index(dataset_meta['classes'], self.background_class,
                             type(self).__name__)
        CrossDomainIoUMetric.dataset_meta.fset(self, dataset_meta)

    @property
    def metric_names(self):
        return [*super().metric_names, BDD_MIOU]

    def _summarize(self, confusion: torch.Tensor, subsets) -> dict:
        summary = super()._summarize(confusion, subsets)
        background = background_index(self.dataset_meta['classes'],
                                      self.background_class,
                                      type(self).__name__)
        # BDD's histogram: the rows of ground-truth background left out
        kept = confusion.clone()
        kept[background] = 0
        iou = confusion_to_metrics(kept)['IoU']
        summary[BDD_MIOU] = bdd_mean_iou(
            iou, confusion.sum(dim=1).numpy(), background)
        return OrderedDict(summary)


__all__ = ['BDD_MIOU', 'BDDDrivableIoUMetric', 'CrossDomainDrivableIoUMetric',
           'bdd_mean_iou']
