"""IoU of several domains in one pass; each sample names its domain in
``metainfo['domain']`` (``PackDomainSegInputs``).

Keys (percent, unrounded, as mmseg computes them): ``<domain>/{aAcc,mIoU,
mAcc}``, ``<domain>/IoU.<class>`` (NaN: class absent from ground truth and
prediction), ``<domain>/<subset>`` per class subset, and with targets
``target/<m>`` (their mean) and ``drop/<m>`` (source minus it). ``scores``
holds the same by row: ``{row: {aAcc, mIoU, mAcc, IoU: [...], <subset>}}``.
"""
import os.path as osp
from collections import OrderedDict
from typing import Dict, List, Optional, Sequence

import numpy as np
import torch
from mmengine.dist import broadcast_object_list, is_main_process
from mmengine.evaluator import BaseMetric
from mmengine.logging import print_log
from mmengine.utils import mkdir_or_exist
from mmseg.evaluation.metrics import IoUMetric
from mmseg.registry import METRICS

SUMMARY_METRICS = ('aAcc', 'mIoU', 'mAcc')
TARGET_MEAN = 'target'
DROP = 'drop'
#: Per-class entry of a row of ``scores``.
CLASS_IOU = 'IoU'
_PIPELINE_HINT = ("end the domain's val/test pipeline with "
                  "dict(type='PackDomainSegInputs', domain='<name>')")


def metric_key(domain: str, name: str, class_name: Optional[str] = None):
    """The flat key of a metric, e.g. ``gta5/mIoU`` or ``gta5/IoU.road``."""
    if class_name is not None:
        return f'{domain}/{name}.{class_name}'
    return f'{domain}/{name}'


def check_domain_name(domain) -> str:
    """Raise unless ``domain`` can prefix metric keys and name a folder
    inside ``output_dir``."""
    if not isinstance(domain, str) or not domain or '/' in domain or \
            domain in ('.', '..'):
        raise ValueError(f"domain names must be non-empty strings without "
                         f"'/', other than '.' and '..', got {domain!r}")
    if domain in (TARGET_MEAN, DROP):
        raise ValueError(f'{domain!r} cannot name a domain: the keys '
                         f'{TARGET_MEAN}/* and {DROP}/* are the target mean '
                         'and the source-to-target drop')
    return domain


def check_class_subsets(class_subsets) -> Dict[str, tuple]:
    """``class_subsets`` checked: ``{metric name: tuple of class names}``."""
    if class_subsets is None:
        return OrderedDict()
    if not isinstance(class_subsets, dict):
        raise TypeError('CrossDomainIoUMetric: class_subsets must be a dict '
                        'of metric name -> list of class names, e.g. '
                        "dict(mIoU16=['road', ...]), got "
                        f'{type(class_subsets).__name__}')
    for name, classes in class_subsets.items():
        # the name becomes a metric key, <domain>/<name>
        if (not isinstance(name, str) or not name or '/' in name
                or '.' in name or name in (*SUMMARY_METRICS, CLASS_IOU)):
            raise ValueError(
                f'CrossDomainIoUMetric: class_subsets name {name!r} cannot '
                "name a metric: use a non-empty string without '/' or '.', "
                f'other than {", ".join((*SUMMARY_METRICS, CLASS_IOU))}')
        if isinstance(classes, str) or not classes or not all(
                isinstance(c, str) for c in classes):
            raise ValueError(
                f'CrossDomainIoUMetric: class_subsets[{name!r}] must be a '
                f'non-empty list of class names, got {classes!r}')
        if len(set(classes)) != len(classes):
            raise ValueError(f'CrossDomainIoUMetric: class_subsets[{name!r}] '
                             f'has duplicates: {list(classes)}')
    return OrderedDict((n, tuple(c)) for n, c in class_subsets.items())


def _subset_indices(class_names: Sequence[str],
                    class_subsets: Dict[str, tuple]) -> Dict[str, List[int]]:
    """Subset name -> the indices of its classes in ``class_names``."""
    class_names = list(class_names)
    for name, classes in class_subsets.items():
        unknown = [c for c in classes if c not in class_names]
        if unknown:
            raise ValueError(
                f'CrossDomainIoUMetric: class_subsets[{name!r}] names '
                f'{unknown}, which are not classes of the dataset '
                f'({", ".join(class_names)})')
    return OrderedDict((name, [class_names.index(c) for c in classes])
                       for name, classes in class_subsets.items())


def confusion_to_metrics(confusion: torch.Tensor) -> Dict[str, np.ndarray]:
    """mmseg's aAcc, per-class IoU and Acc (fractions) of a confusion matrix
    (float64: float32 areas lose exactness past 2**24 pixels per class)."""
    confusion = confusion.to(torch.float64)
    area_intersect = confusion.diagonal()
    area_label = confusion.sum(dim=1)
    area_pred = confusion.sum(dim=0)
    area_union = area_label + area_pred - area_intersect
    return IoUMetric.total_area_to_metrics(area_intersect, area_union,
                                           area_pred, area_label, ['mIoU'])


@METRICS.register_module()
class CrossDomainIoUMetric(BaseMetric):
    """Per-domain IoU, the target mean and the source-to-target drop (module
    docstring); a batch may mix domains and image sizes.

    Args:
        source_domain (str): The domain trained on, the drop's reference.
        domains (Sequence[str], optional): The domains in report order;
            samples of others, or none of one, are errors. Default: the
            source, then others as they arrive.
        target_domains (Sequence[str], optional): The domains averaged into
            ``target/*``. Default: every evaluated domain but the source.
        ignore_index (int): Ground truth not evaluated. Defaults to 255.
        classwise (bool): Return ``<domain>/IoU.<class>``. Defaults to True.
        class_subsets (dict[str, list[str]], optional): Extra mean IoUs by
            name, e.g. SYNTHIA's ``dict(mIoU16=[...], mIoU13=[...])``.
        output_dir (str, optional): Write predictions as mmseg's
            ``IoUMetric`` does, in ``<output_dir>/<domain>/``.
        format_only (bool): Only write predictions (needs ``output_dir``).
            Defaults to False.
        keep_results (bool): No effect, as in mmseg's ``IoUMetric``.
        collect_device, collect_dir, prefix: As ``BaseMetric``'s.
    """

    def __init__(self,
                 source_domain: str,
                 domains: Optional[Sequence[str]] = None,
                 target_domains: Optional[Sequence[str]] = None,
                 ignore_index: int = 255,
                 classwise: bool = True,
                 class_subsets: Optional[Dict[str, Sequence[str]]] = None,
                 output_dir: Optional[str] = None,
                 format_only: bool = False,
                 keep_results: bool = False,
                 collect_device: str = 'cpu',
                 collect_dir: Optional[str] = None,
                 prefix: Optional[str] = None) -> None:
        super().__init__(
            collect_device=collect_device, prefix=prefix,
            collect_dir=collect_dir)
        self.set_domains(source_domain, domains, target_domains)
        #: The last evaluation's rows (module docstring), on every process.
        self.scores: Dict[str, dict] = OrderedDict()
        self.ignore_index = ignore_index
        self.classwise = classwise
        self.class_subsets = check_class_subsets(class_subsets)
        if format_only and not output_dir:
            raise ValueError('CrossDomainIoUMetric: format_only=True needs '
                             'output_dir, the folder the predictions go to')
        self.output_dir = output_dir
        self.format_only = format_only
        self.keep_results = keep_results
        if output_dir and is_main_process():
            mkdir_or_exist(output_dir)

    def set_domains(self,
                    source_domain: str,
                    domains: Optional[Sequence[str]] = None,
                    target_domains: Optional[Sequence[str]] = None) -> None:
        """Set the ``__init__`` options of these names (the loops do)."""
        self.source_domain = check_domain_name(source_domain)
        self.domains = self._check_names('domains', domains)
        self.target_domains = self._check_names('target_domains',
                                                target_domains)
        if self.domains is not None:
            unknown = [d for d in [source_domain, *(target_domains or [])]
                       if d not in self.domains]
            if unknown:
                raise ValueError(f'CrossDomainIoUMetric: {unknown} not in '
                                 f'domains={self.domains}')
        if self.target_domains and source_domain in self.target_domains:
            raise ValueError('CrossDomainIoUMetric: the source domain '
                             f'{source_domain!r} cannot also be a target')

    @staticmethod
    def _check_names(option: str, names) -> Optional[List[str]]:
        if names is None:
            return None
        if isinstance(names, str):
            raise TypeError(f'CrossDomainIoUMetric: {option} must be a list '
                            f'of domain names, got the string {names!r}')
        names = [check_domain_name(n) for n in names]
        if len(set(names)) != len(names):
            raise ValueError(f'CrossDomainIoUMetric: {option} has '
                             f'duplicates: {names}')
        return names

    @BaseMetric.dataset_meta.setter
    def dataset_meta(self, dataset_meta: dict) -> None:
        # set when the loop is built: a bad class subset fails at start-up
        if dataset_meta and 'classes' in dataset_meta:
            _subset_indices(dataset_meta['classes'], self.class_subsets)
        self._dataset_meta = dataset_meta

    @property
    def metric_names(self) -> List[str]:
        """A row's summary metrics."""
        return [*SUMMARY_METRICS, *self.class_subsets]

    def process(self, data_batch: dict, data_samples: Sequence[dict]) -> None:
        """One ``(domain, (C, C) confusion)`` result per sample (rows: ground
        truth), from one ``bincount`` over the batch."""
        if not data_samples:
            return
        num_classes = len(self.dataset_meta['classes'])
        domains = [self._domain_of(s) for s in data_samples]
        if self.output_dir is not None:
            self._write_predictions(data_batch, domains, data_samples)
        if self.format_only:
            self.results.extend(domains)
            return
        preds, labels = zip(*(self._pred_and_label(s, num_classes)
                              for s in data_samples))
        sizes = torch.tensor([p.numel() for p in preds],
                             device=preds[0].device)
        sample_index = torch.repeat_interleave(
            torch.arange(len(preds), device=sizes.device), sizes)
        pred = torch.cat(preds).long()
        label = torch.cat(labels).long()
        self._check_values(pred, label, sample_index, data_samples,
                           num_classes)
        valid = label != self.ignore_index
        encoded = (sample_index[valid] * num_classes +
                   label[valid]) * num_classes + pred[valid]
        confusion = torch.bincount(
            encoded, minlength=len(preds) * num_classes**2).reshape(
                len(preds), num_classes, num_classes)
        self.results.extend(zip(domains, confusion.cpu().unbind(0)))

    def _write_predictions(self, data_batch, domains: Sequence[str],
                           data_samples: Sequence[dict]) -> None:
        """mmseg's ``IoUMetric(format_only=True)`` in each domain's folder."""
        for domain in dict.fromkeys(domains):
            folder = osp.join(self.output_dir, check_domain_name(domain))
            # on every rank: IoUMetric makes its folder on rank 0 only
            mkdir_or_exist(folder)
            writer = IoUMetric(output_dir=folder, format_only=True,
                               prefix='predictions')
            writer.dataset_meta = self.dataset_meta
            writer.process(data_batch, [
                s for d, s in zip(domains, data_samples) if d == domain])

    def _domain_of(self, data_sample: dict) -> str:
        domain = data_sample.get('domain')
        if domain is None:
            raise KeyError(
                f"CrossDomainIoUMetric: sample {_name(data_sample)} has no "
                f"metainfo['domain']; {_PIPELINE_HINT}")
        if self.domains is not None and domain not in self.domains:
            raise ValueError(
                f'CrossDomainIoUMetric: sample {_name(data_sample)} is from '
                f'domain {domain!r}, which is not in domains={self.domains}')
        return domain

    def _pred_and_label(self, data_sample: dict, num_classes: int):
        """The sample's prediction and ground truth, checked and flat."""
        name = _name(data_sample)
        if 'gt_sem_seg' not in data_sample:
            raise KeyError(f'CrossDomainIoUMetric: sample {name} has no '
                           'ground truth (gt_sem_seg); load annotations in '
                           'the val/test pipeline')
        logits = data_sample.get('seg_logits')
        if logits is not None:
            channels = logits['data'].shape[0]
            # mmseg's binary mode predicts 2 classes from 1 channel.
            if channels != num_classes and not (channels == 1
                                                and num_classes == 2):
                raise ValueError(
                    f'CrossDomainIoUMetric: sample {name}: the model '
                    f'predicts {channels} classes but the dataset has '
                    f'{num_classes}; num_classes of the decode head must '
                    'match the dataset classes')
        pred = data_sample['pred_sem_seg']['data'].squeeze(0)
        label = data_sample['gt_sem_seg']['data'].squeeze(0).to(pred.device)
        if pred.shape != label.shape:
            raise ValueError(
                f'CrossDomainIoUMetric: sample {name}: prediction shape '
                f'{tuple(pred.shape)} differs from ground truth shape '
                f'{tuple(label.shape)}')
        return pred.reshape(-1), label.reshape(-1)

    def _check_values(self, pred, label, sample_index, data_samples,
                      num_classes):
        """Refuse class indices that would fall out of the counts."""
        bad_pred = (pred < 0) | (pred >= num_classes)
        if bad_pred.any():
            first = int(bad_pred.nonzero()[0, 0])
            raise ValueError(
                'CrossDomainIoUMetric: sample '
                f'{_name(data_samples[int(sample_index[first])])} has '
                f'predicted class {int(pred[first])}, but the dataset has '
                f'{num_classes} classes; num_classes of the decode head '
                'must match the dataset classes')
        bad_label = ((label < 0) | (label >= num_classes)) & (
            label != self.ignore_index)
        if bad_label.any():
            first = int(bad_label.nonzero()[0, 0])
            values = torch.unique(label[bad_label])[:10].tolist()
            raise ValueError(
                'CrossDomainIoUMetric: ground truth of sample '
                f'{_name(data_samples[int(sample_index[first])])} has '
                f'values {values} outside 0..{num_classes - 1} and not '
                f'ignore_index={self.ignore_index} (label ids instead of '
                'train ids?)')

    def domain_order(self, present: Sequence[str]) -> List[str]:
        """The report order of the ``present`` domains."""
        if self.domains is not None:
            missing = [d for d in self.domains if d not in present]
            if missing:
                raise ValueError(
                    f'CrossDomainIoUMetric: no sample of domain(s) {missing} '
                    'was evaluated; the val/test dataloader must hold every '
                    f'domain in domains={self.domains}')
            return list(self.domains)
        if self.source_domain not in present:
            raise ValueError(
                f'CrossDomainIoUMetric: no sample of the source domain '
                f'{self.source_domain!r} was evaluated (got '
                f'{list(present)}); add its val set to the dataloader and '
                f'{_PIPELINE_HINT}')
        return [self.source_domain
                ] + [d for d in present if d != self.source_domain]

    def evaluate(self, size: int) -> dict:
        """mmengine's, with ``scores`` broadcast from the main process."""
        metrics = super().evaluate(size)
        scores = [self.scores]
        broadcast_object_list(scores)
        self.scores = scores[0]
        return metrics

    def compute_metrics(self, results: list) -> Dict[str, float]:
        """The flat keys of the results; empty with ``format_only``."""
        if self.output_dir is not None:
            print_log(f'predictions written to {self.output_dir}/<domain>/',
                      logger='current')
        if self.format_only:
            return OrderedDict()
        confusions: Dict[str, torch.Tensor] = OrderedDict()
        for domain, confusion in results:
            confusions[domain] = confusions.get(domain, 0) + confusion
        order = self.domain_order(list(confusions))
        subsets = _subset_indices(self.dataset_meta['classes'],
                                  self.class_subsets)
        scores = OrderedDict(
            (d, self._summarize(confusions[d], subsets)) for d in order)
        targets = self.target_domains
        if targets is None:
            targets = [d for d in order if d != self.source_domain]
        if targets:
            means = {name: float(np.mean([scores[d][name] for d in targets]))
                     for name in self.metric_names}
            source = scores[self.source_domain]
            scores[TARGET_MEAN] = means
            scores[DROP] = {n: source[n] - m for n, m in means.items()}
        self.scores = scores
        metrics = {}
        class_names = self.dataset_meta['classes']
        for row, summary in scores.items():
            for name in self.metric_names:
                metrics[metric_key(row, name)] = summary[name]
            if self.classwise and CLASS_IOU in summary:
                for class_name, iou in zip(class_names, summary[CLASS_IOU]):
                    metrics[metric_key(row, CLASS_IOU, class_name)] = iou
        return metrics

    @staticmethod
    def _summarize(confusion: torch.Tensor,
                   subsets: Dict[str, List[int]]) -> dict:
        """Percent values (means skip NaN classes); ``subsets``: class
        indices of each class subset."""
        ret = confusion_to_metrics(confusion)
        iou, acc = ret['IoU'] * 100, ret['Acc'] * 100
        summary = dict(
            aAcc=float(ret['aAcc']) * 100,
            mIoU=_nanmean(iou),
            mAcc=_nanmean(acc),
            IoU=[float(v) for v in iou])
        summary.update((name, _nanmean(iou[index]))
                       for name, index in subsets.items())
        return summary


def _nanmean(values: np.ndarray) -> float:
    # All-NaN (an empty domain) is NaN without numpy's RuntimeWarning.
    finite = values[~np.isnan(values)]
    return float(finite.mean()) if finite.size else float('nan')


def _name(data_sample: dict) -> str:
    return repr(data_sample.get('img_path', '<no img_path>'))
