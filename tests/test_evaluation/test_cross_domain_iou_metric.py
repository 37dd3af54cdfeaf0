"""CrossDomainIoUMetric against mmseg's IoUMetric and the official
Cityscapes evaluation (cityscapesscripts) on generated predictions."""
import copy
import itertools
import math
import os

import numpy as np
import pytest
import torch
from cityscapesscripts.evaluation import \
    evalPixelLevelSemanticLabeling as cityscapes_eval
from cityscapesscripts.helpers.labels import labels as cityscapes_labels
from mmengine.evaluator import Evaluator
from mmseg.datasets import CityscapesDataset
from mmseg.evaluation.metrics import IoUMetric
from mmseg.registry import METRICS
from PIL import Image

import ibnseg  # noqa: F401  (registers the metric)
from ibnseg.datasets import SYNTHIA_13_CLASSES, SYNTHIA_16_CLASSES
from ibnseg.evaluation import CrossDomainIoUMetric, metric_key

CLASSES = CityscapesDataset.METAINFO['classes']
NUM_CLASSES = len(CLASSES)
# Official label table: label id -> train id (255: not evaluated).
ID_TO_TRAIN_ID = {
    label.id: label.trainId for label in cityscapes_labels if label.id >= 0}
TRAIN_ID_TO_ID = {t: i for i, t in ID_TO_TRAIN_ID.items() if t != 255}


def make_domain(domain, num_samples, seed, present_ids=None,
                predicted_only=()):
    """Samples whose ground truth is written as Cityscapes label ids.

    Every label id (evaluated or not) can occur, so about a third of the
    pixels are ignored; ``present_ids`` limits the ids to leave classes out,
    ``predicted_only`` adds train ids that only the predictions have.
    Predictions agree with the ground truth on about half the pixels.
    """
    rng = np.random.default_rng(seed)
    ids = np.array(sorted(present_ids or ID_TO_TRAIN_ID))
    pred_train_ids = np.array(
        sorted({ID_TO_TRAIN_ID[i] for i in ids} - {255} | set(predicted_only)))
    samples = []
    for index in range(num_samples):
        height, width = rng.integers(5, 17, size=2)
        label_ids = rng.choice(ids, size=(height, width)).astype(np.uint8)
        gt = np.vectorize(ID_TO_TRAIN_ID.get)(label_ids).astype(np.uint8)
        pred = rng.choice(pred_train_ids, size=(height, width))
        keep = (rng.random((height, width)) < 0.5) & (gt != 255)
        pred[keep] = gt[keep]
        samples.append(
            dict(
                domain=domain,
                img_path=f'{domain}_{index}.png',
                label_ids=label_ids,
                gt=gt,
                pred=pred.astype(np.int64)))
    return samples


def _sample(domain='a', pred=((0, 1), ), gt=((0, 1), ), img_path='x.png',
            **extra):
    """The dict mmengine's Evaluator hands a metric for one sample."""
    return dict(
        domain=domain,
        img_path=img_path,
        pred_sem_seg=dict(data=torch.as_tensor(pred)[None]),
        gt_sem_seg=dict(data=torch.as_tensor(gt)[None]),
        **extra)


def run_metric(samples, batch_size, **kwargs):
    metric = CrossDomainIoUMetric(**kwargs)
    metric.dataset_meta = dict(classes=CLASSES)
    for start in range(0, len(samples), batch_size):
        batch = [_sample(**s) for s in samples[start:start + batch_size]]
        metric.process({}, batch)
    assert len(metric.results) == len(samples)  # one entry per sample
    return metric, metric.compute_metrics(metric.results)


@pytest.fixture(scope='module')
def domains():
    city = make_domain('cityscapes', 5, seed=0)
    # gta5 sees only a few classes: the others are absent (NaN) or, for
    # train (16), only predicted (IoU 0).
    gta = make_domain('gta5', 4, seed=1, present_ids=[0, 7, 8, 11, 26, 33],
                      predicted_only=[16])
    return dict(cityscapes=city, gta5=gta)


@pytest.fixture(scope='module')
def mixed(domains):
    """The domains' samples alternating, so that batches hold both."""
    return [s for pair in itertools.zip_longest(*domains.values())
            for s in pair if s is not None]


def mmseg_iou_metric(samples):
    """mmseg's IoUMetric on one domain: (unrounded metrics, its output)."""
    metric = IoUMetric()
    metric.dataset_meta = dict(classes=CLASSES)
    metric.process({}, [_sample(**s) for s in samples])
    # Its float32 areas are exact counts here; divide in float64 as ours
    # does (float32 division alone is off by ~3e-6 percent).
    areas = [sum(column).double() for column in zip(*metric.results)]
    unrounded = IoUMetric.total_area_to_metrics(*areas, ['mIoU'])
    return unrounded, metric.compute_metrics(metric.results)


# SYNTHIA's evaluation classes (pinned in tests/test_datasets/test_synthia)
SUBSETS = dict(mIoU16=SYNTHIA_16_CLASSES, mIoU13=SYNTHIA_13_CLASSES)


@pytest.mark.parametrize('batch_size', [1, 2, 3])
def test_matches_mmseg_iou_metric_per_domain(domains, mixed, batch_size):
    """Class subsets are means over their classes, the rest unchanged."""
    _, ours = run_metric(mixed, batch_size, source_domain='cityscapes',
                         class_subsets=SUBSETS)
    for domain, samples in domains.items():
        unrounded, reported = mmseg_iou_metric(samples)
        assert ours[metric_key(domain, 'aAcc')] == pytest.approx(
            unrounded['aAcc'] * 100, abs=1e-6)
        assert ours[metric_key(domain, 'mIoU')] == pytest.approx(
            np.nanmean(unrounded['IoU']) * 100, abs=1e-6)
        assert ours[metric_key(domain, 'mAcc')] == pytest.approx(
            np.nanmean(unrounded['Acc']) * 100, abs=1e-6)
        ious = [ours[metric_key(domain, 'IoU', c)] for c in CLASSES]
        np.testing.assert_allclose(
            ious, unrounded['IoU'] * 100, atol=1e-6, equal_nan=True)
        # mmseg's own output is rounded to 2 decimals.
        for name in ('aAcc', 'mIoU', 'mAcc'):
            assert reported[name] == pytest.approx(
                round(ours[metric_key(domain, name)], 2), abs=1e-9)
        for name, classes in SUBSETS.items():
            index = [CLASSES.index(c) for c in classes]
            assert ours[f'{domain}/{name}'] == pytest.approx(
                np.nanmean(unrounded['IoU'][index]) * 100, abs=1e-6)
    assert any(math.isnan(ours[metric_key('gta5', 'IoU', c)])
               for c in CLASSES)
    assert ours[metric_key('gta5', 'IoU', 'train')] == 0
    # the subsets leave out classes: not the 19-class mean
    assert ours['gta5/mIoU16'] != pytest.approx(ours['gta5/mIoU'])
    for name in SUBSETS:
        assert ours[f'target/{name}'] == ours[f'gta5/{name}']
        assert ours[f'drop/{name}'] == pytest.approx(
            ours[f'cityscapes/{name}'] - ours[f'gta5/{name}'])


def cityscapes_official(samples, folder):
    """Run cityscapesscripts' evaluation on label-id files of the samples."""
    os.makedirs(folder)
    preds, gts = [], []
    for sample in samples:
        stem = os.path.join(folder, sample['img_path'][:-4])
        pred_ids = np.vectorize(TRAIN_ID_TO_ID.get)(sample['pred'])
        Image.fromarray(pred_ids.astype(np.uint8)).save(stem + '_pred.png')
        Image.fromarray(sample['label_ids']).save(stem + '_labelIds.png')
        preds.append(stem + '_pred.png')
        gts.append(stem + '_labelIds.png')
    args = copy.copy(cityscapes_eval.args)
    args.evalInstLevelScore = False
    args.JSONOutput = False
    args.quiet = True
    return cityscapes_eval.evaluateImgLists(preds, gts, args)


def test_matches_cityscapes_official_evaluation(domains, mixed, tmp_path):
    metric, ours = run_metric(mixed, 3, source_domain='cityscapes')
    for domain, samples in domains.items():
        official = cityscapes_official(samples, str(tmp_path / domain))
        # Same confusion matrix, read in train ids.
        confusion = sum(c for d, c in metric.results if d == domain)
        official_matrix = np.array(official['confMatrix'])
        eval_ids = [TRAIN_ID_TO_ID[t] for t in range(NUM_CLASSES)]
        np.testing.assert_array_equal(
            confusion.numpy(), official_matrix[np.ix_(eval_ids, eval_ids)])
        # (per-class IoUs from that matrix: as mmseg's, the test above)
        assert ours[metric_key(domain, 'mIoU')] == pytest.approx(
            official['averageScoreClasses'] * 100, abs=1e-6)


def test_source_first_chosen_targets_and_a_source_alone():
    city = make_domain('cityscapes', 2, seed=3)
    gta = make_domain('gta5', 2, seed=4)
    bdd = make_domain('bdd', 2, seed=5)
    _, ours = run_metric(
        city + gta + bdd, 2, source_domain='gta5',
        domains=['gta5', 'cityscapes', 'bdd'])
    assert list(ours)[:3] == ['gta5/aAcc', 'gta5/mIoU', 'gta5/mAcc']
    # (the mean of several targets and the drop, for every metric name:
    # test_bdd_drivable_metric.py)
    # Only cityscapes as target: bdd is reported but not averaged.
    _, only_city = run_metric(
        city + gta + bdd, 2, source_domain='gta5',
        target_domains=['cityscapes'])
    assert only_city['target/mIoU'] == pytest.approx(ours['cityscapes/mIoU'])
    assert 'bdd/mIoU' in only_city
    # Source alone: no target mean, no drop.
    _, alone = run_metric(gta, 1, source_domain='gta5', classwise=False)
    assert set(alone) == {'gta5/aAcc', 'gta5/mIoU', 'gta5/mAcc'}


def _metric(**kwargs):
    metric = CrossDomainIoUMetric(**{'source_domain': 'a', **kwargs})
    metric.dataset_meta = dict(classes=('c0', 'c1', 'c2'))
    return metric


@pytest.mark.parametrize('sample, message', [
    (_sample(domain=None), "PackDomainSegInputs"),
    (_sample(pred=((0, 3), )), 'predicted class 3.*3 classes'),
    (_sample(gt=((0, 24), )), r'values \[24\] outside 0..2'),
    (_sample(gt=((0, 1, 2), )), 'shape'),
    (_sample(seg_logits=dict(data=torch.zeros(19, 1, 2))),
     'predicts 19 classes but the dataset has 3'),
    (_sample(domain='c'), "domain 'c'.*not in domains"),
])
def test_bad_samples_are_named(sample, message):
    metric = _metric(domains=['a', 'b'])
    with pytest.raises((KeyError, ValueError), match=message) as error:
        metric.process({}, [_sample(), sample])
    assert 'x.png' in str(error.value)


def test_missing_domains_are_errors():
    metric = _metric(domains=['a', 'b'])
    metric.process({}, [_sample()])
    with pytest.raises(ValueError, match=r"domain\(s\) \['b'\]"):
        metric.compute_metrics(metric.results)
    metric = _metric(source_domain='b')
    metric.process({}, [_sample()])
    with pytest.raises(ValueError, match="source domain 'b'"):
        metric.compute_metrics(metric.results)


@pytest.mark.parametrize('kwargs, message', [
    (dict(source_domain='target'), 'cannot name a domain'),
    (dict(source_domain='a/b'), "without '/'"),
    (dict(domains=['b']), r"\['a'\] not in domains"),
    (dict(domains='ab'), 'list of domain names'),
    (dict(target_domains=['a']), 'cannot also be'),
    # predictions go to <output_dir>/<domain>/: '..' would leave it, '.'
    # be among the other domains' folders
    (dict(domains=['a', '..'], output_dir='out'),
     r"other than '.' and '..', got '\.\.'"),
    (dict(domains=['a', '.'], output_dir='out'),
     r"other than '.' and '..', got '\.'"),
    (dict(format_only=True), 'format_only.*output_dir'),
    (dict(class_subsets=['road']), 'must be a dict'),
    (dict(class_subsets=dict(mIoU=['c0'])), "name 'mIoU' cannot name a"),
    (dict(class_subsets={'a/b': ['c0']}), "name 'a/b'"),
    (dict(class_subsets=dict(m='c0')),
     r"class_subsets\['m'\] must be a non-empty list"),
    (dict(class_subsets=dict(m=[])), 'non-empty list'),
    (dict(class_subsets=dict(m=['c0', 'c0'])), 'duplicates'),
    # checked when the loop is built (it sets dataset_meta), before any
    # evaluation
    (dict(class_subsets=dict(m=['c0', 'terrain'])),
     r"class_subsets\['m'\] names \['terrain'\]"),
])
def test_bad_options(kwargs, message):
    with pytest.raises((ValueError, TypeError), match=message):
        _metric(**kwargs)


def test_output_dir_leaves_the_metrics_unchanged(mixed, tmp_path):
    """--out of tools/test.py (the files written: the next test's route)."""
    _, with_files = run_metric(mixed, 2, source_domain='cityscapes',
                               output_dir=str(tmp_path), keep_results=True)
    _, without = run_metric(mixed, 2, source_domain='cityscapes')
    np.testing.assert_allclose(list(with_files.values()),
                               list(without.values()), equal_nan=True)
    assert sorted(os.listdir(tmp_path)) == ['cityscapes', 'gta5']


def test_format_only_writes_each_domains_predictions_apart(tmp_path):
    """A test set without ground truth, through mmengine's Evaluator: files
    only, in <output_dir>/<domain>/ (equal names stay apart), no metrics."""
    evaluator = Evaluator(
        METRICS.build(
            dict(type='CrossDomainIoUMetric', source_domain='a',
                 domains=['a', 'b'], output_dir=str(tmp_path),
                 format_only=True)))
    evaluator.dataset_meta = dict(classes=('c0', 'c1', 'c2'))
    batch = [_sample(d, [[v + i] * 3] * 2, img_path=f'/{d}/{i}.jpg')
             for v, d in enumerate(('a', 'b')) for i in range(2)]
    evaluator.process(batch[:3], {})
    evaluator.process(batch[3:], {})
    assert evaluator.evaluate(4) == {}
    for value, domain in enumerate(('a', 'b')):
        assert sorted(os.listdir(tmp_path / domain)) == ['0.png', '1.png']
        with Image.open(tmp_path / domain / '1.png') as written:
            assert written.mode == 'L'
            np.testing.assert_array_equal(written, np.full((2, 3), value + 1))


def test_class_subset_of_absent_classes_is_nan():
    metric = _metric(class_subsets=dict(only2=['c2']))
    metric.process({}, [_sample(pred=((0, 1), ), gt=((0, 1), ))])
    metrics = metric.compute_metrics(metric.results)
    assert math.isnan(metrics['a/only2'])
    assert metrics['a/mIoU'] == 100
