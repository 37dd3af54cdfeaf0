"""BDD100K's drivable mIoU against a hand-computed example and against a
transcription of BDD's own evaluation (bdd100k/bdd100k,
bdd100k/eval/seg.py: fast_hist, per_class_iou, the gt_id_set mean)."""
import math

import numpy as np
import pytest
import torch

from ibnseg.evaluation.metrics import CrossDomainDrivableIoUMetric

CLASSES = ('direct', 'alternative', 'background')
META = dict(classes=CLASSES, palette=[[0, 0, 0]] * 3)

# ground truth and prediction: 0 direct, 1 alternative, 2 background
GT = np.array([[0, 0, 1, 2], [2, 2, 255, 1]])
PRED = np.array([[0, 1, 1, 0], [2, 0, 0, 2]])
# By hand. Pixels (gt, pred), 255 left out: (0,0) (0,1) (1,1) (2,0) (2,2)
# (2,0) (1,2). Confusion, rows ground truth: [1 1 0], [0 1 1], [2 0 1].
# Plain IoU: direct 1/(2+3-1) = 1/4, alternative 1/(2+2-1) = 1/3,
# background 1/(3+2-1) = 1/4; mean 27.78 %.
PLAIN_MIOU = (1 / 4 + 1 / 3 + 1 / 4) / 3 * 100
# BDD: the background row is left out, so direct predicted on background
# costs nothing: direct 1/(2+1-1) = 1/2, alternative 1/(2+2-1) = 1/3;
# mean over the two (both in the ground truth) 41.67 %.
BDD_MIOU = (1 / 2 + 1 / 3) / 2 * 100


def bdd_reference(pairs, num_classes=3):
    """BDD's drivable evaluation, transcribed from bdd100k/eval/seg.py:
    255 -> the last class ('background as ignored'); the histogram keeps
    ground truth below num_classes - 1; IoUs without the last class; the
    mean over the ground-truth ids present."""
    hist = np.zeros((num_classes, num_classes))
    gt_ids = set()
    for gt, pred in pairs:
        gt = gt.copy()
        gt[gt == 255] = num_classes - 1
        gt_ids |= set(np.unique(gt).tolist()) - {num_classes - 1}
        keep = (gt >= 0) & (gt < num_classes - 1)
        hist += np.bincount(num_classes * gt[keep].astype(int) + pred[keep],
                            minlength=num_classes**2).reshape(
                                num_classes, num_classes)
    with np.errstate(invalid='ignore', divide='ignore'):
        ious = np.diag(hist) / (hist.sum(1) + hist.sum(0) - np.diag(hist))
    ious[np.isnan(ious)] = 0
    return np.mean(ious[:-1][sorted(gt_ids)]) * 100


def sample(gt, pred, domain='x'):
    return dict(img_path='a.jpg', domain=domain,
                gt_sem_seg=dict(data=torch.as_tensor(gt)[None]),
                pred_sem_seg=dict(data=torch.as_tensor(pred)[None]))


def evaluate(*samples, **kwargs):
    metric = CrossDomainDrivableIoUMetric(**{'source_domain': 'x', **kwargs})
    metric.dataset_meta = META
    metric.process({}, list(samples))
    return metric, metric.compute_metrics(metric.results)


def test_random_batches_match_bdd_reference():
    rng = np.random.default_rng(0)
    pairs = [(rng.choice([0, 1, 2, 255], size=(9, 13), p=[.3, .2, .4, .1]),
              rng.integers(0, 3, size=(9, 13))) for _ in range(5)]
    _, values = evaluate(*(sample(g, p) for g, p in pairs))
    assert values['x/bdd_mIoU'] == pytest.approx(bdd_reference(pairs))


def test_reports_both_per_row_target_and_drop():
    # rainy: no alternative in the ground truth, but predicted: BDD averages
    # direct alone; the plain mean counts alternative's IoU of 0
    rainy = (np.array([[0, 0, 2]]), np.array([[0, 1, 1]]))
    assert bdd_reference([(GT, PRED)]) == pytest.approx(BDD_MIOU)
    assert bdd_reference([rainy]) == pytest.approx(50)
    metric, values = evaluate(
        sample(GT, np.where(GT == 255, 0, GT), 'day'),
        sample(GT, PRED, 'night'), sample(*rainy, 'rainy'),
        source_domain='day', domains=['day', 'night', 'rainy'])
    assert values['day/bdd_mIoU'] == pytest.approx(100)
    assert values['night/bdd_mIoU'] == pytest.approx(BDD_MIOU)
    assert values['night/mIoU'] == pytest.approx(PLAIN_MIOU)
    assert values['rainy/bdd_mIoU'] == pytest.approx(50)
    assert values['rainy/mIoU'] == pytest.approx(50 / 3)
    assert values['target/bdd_mIoU'] == pytest.approx((BDD_MIOU + 50) / 2)
    assert values['drop/bdd_mIoU'] == pytest.approx(
        100 - (BDD_MIOU + 50) / 2)
    # the reports' column comes from the structured scores
    assert metric.scores['night']['bdd_mIoU'] == values['night/bdd_mIoU']


def test_no_driving_pixels_is_nan():
    _, values = evaluate(sample(np.array([[2, 2]]), np.array([[0, 2]])))
    assert math.isnan(values['x/bdd_mIoU'])


def test_background_class_must_exist():
    metric = CrossDomainDrivableIoUMetric(source_domain='x',
                                          background_class='void')
    with pytest.raises(ValueError, match="'void' is not a class"):
        metric.dataset_meta = META
    with pytest.raises(ValueError, match='class subset'):
        CrossDomainDrivableIoUMetric(source_domain='x',
                                     class_subsets=dict(bdd_mIoU=['direct']))
