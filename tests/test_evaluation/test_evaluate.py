"""Evaluating a tiny checkpoint on two generated domains, in process."""
import copy

import numpy as np
import pytest
import torch
from mmengine.config import Config, ConfigDict
from mmengine.runner import Runner
from mmseg.evaluation.metrics import IoUMetric
from mmseg.models import EncoderDecoder
from mmseg.registry import METRICS

from ibnseg.apis import load_segmentor
from ibnseg.evaluation import (CrossDomainIoUMetric, MissingDomainDataError,
                               evaluate_checkpoint,
                               metric_key, parse_cross_domain)
from tests.helpers.distributed import run_distributed
from tests.helpers.tiny_setup import (NUM_SAMPLES, make_domains,
                                      save_checkpoint, write_config)


@pytest.fixture(scope='module')
def tiny(tmp_path_factory):
    torch.set_num_threads(1)
    root = tmp_path_factory.mktemp('tiny')
    roots = make_domains(str(root / 'data'))
    config = write_config(root / 'tiny.py', roots)
    return dict(
        root=root,
        roots=roots,
        config=config,
        checkpoint=save_checkpoint(config, root / 'tiny.pth'))


def evaluate(tiny, config=None, **kwargs):
    cfg = Config.fromfile(config or tiny['config'])
    return evaluate_checkpoint(
        cfg, tiny['checkpoint'], 'tiny', progress=False, **kwargs)


def mmseg_metrics_alone(tiny, domain):
    """mmseg's IoUMetric on one domain, run with that domain's test_cfg."""
    cfg = Config.fromfile(tiny['config'])
    model = load_segmentor(cfg, tiny['checkpoint'])
    _, domains = parse_cross_domain(cfg.cross_domain)
    model.test_cfg = ConfigDict(domains[domain].test_cfg)
    loader = Runner.build_dataloader(copy.deepcopy(
        domains[domain].dataloader))
    metric = IoUMetric()
    metric.dataset_meta = loader.dataset.metainfo
    for batch in loader:
        with torch.no_grad():
            outputs = model.test_step(batch)
        metric.process(batch, [o.to_dict() for o in outputs])
    areas = [sum(column).double() for column in zip(*metric.results)]
    return IoUMetric.total_area_to_metrics(*areas, ['mIoU'])


@pytest.mark.slow
def test_numbers_equal_mmseg_per_domain_with_each_test_cfg(tiny,
                                                           monkeypatch):
    slide_calls = []
    slide = EncoderDecoder.slide_inference

    def counting_slide(self, inputs, metas):
        slide_calls.append(len(inputs))
        return slide(self, inputs, metas)

    monkeypatch.setattr(EncoderDecoder, 'slide_inference', counting_slide)
    result, run = evaluate(tiny, num_show=2, shifts=['grey'])
    # gta5 (and gta5@grey) with sliding windows, cityscapes whole images
    assert sum(slide_calls) == 2 * NUM_SAMPLES['gta5']
    assert result.rows == ['cityscapes', 'gta5', 'cityscapes@grey',
                           'gta5@grey']
    assert result.details['num_samples'] == dict(
        NUM_SAMPLES, **{f'{d}@grey': n for d, n in NUM_SAMPLES.items()})
    # a shifted row is not a target
    assert result.details['targets'] == ['gta5']
    assert result.details['shift_cfg'] == dict(
        grey=dict(type='Desaturate', strength=1.0))
    for domain in ('cityscapes', 'gta5'):
        expected = mmseg_metrics_alone(tiny, domain)
        got = run.metrics
        assert got[metric_key(domain, 'aAcc')] == pytest.approx(
            expected['aAcc'] * 100, abs=1e-6)
        assert got[metric_key(domain, 'mIoU')] == pytest.approx(
            np.nanmean(expected['IoU']) * 100, abs=1e-6)
        np.testing.assert_allclose(
            result.class_ious(domain), expected['IoU'] * 100, atol=1e-6)
    assert got['target/mIoU'] == got['gta5/mIoU']
    # the first samples are kept for the strips, at the evaluated size
    assert [len(run.samples[d]) for d in result.rows] == [2, 2, 2, 2]
    sample = run.samples['gta5'][0]
    assert sample.image.shape == (*sample.gt.shape, 3)
    assert sample.pred.shape == sample.gt.shape


@pytest.mark.slow
def test_missing_domain_data(tiny, tmp_path):
    roots = dict(tiny['roots'], gta5=str(tmp_path / 'no_gta5'))
    config = write_config(tmp_path / 'missing.py', roots)
    with pytest.raises(MissingDomainDataError,
                       match="domain 'gta5'.*--skip-missing"):
        evaluate(tiny, config)
    result, run = evaluate(tiny, config, skip_missing=True)
    assert result.rows == ['cityscapes']
    assert list(result.details['skipped']) == ['gta5']
    assert 'target/mIoU' not in run.metrics
    # the source cannot be skipped
    roots = dict(tiny['roots'], cityscapes=str(tmp_path / 'no_cityscapes'))
    config = write_config(tmp_path / 'no_source.py', roots)
    with pytest.raises(MissingDomainDataError,
                       match="domain 'cityscapes'.*cannot be skipped"):
        evaluate(tiny, config, skip_missing=True)


def _evaluate_metrics(tiny):
    return evaluate(tiny)[1].metrics


@pytest.mark.slow
def test_distributed_run_drops_each_domains_padding(tiny, tmp_path):
    """3 samples per domain on 2 ranks: each domain's sampler pads one
    sample, which must not be counted (nor lost) in either domain."""
    distributed = run_distributed(_evaluate_metrics, (tiny, ), tmp_path)
    single = _evaluate_metrics(tiny)
    assert distributed.keys() == single.keys()
    np.testing.assert_allclose(
        list(distributed.values()), list(single.values()), atol=1e-9)


@pytest.mark.slow
def test_the_configs_metric_and_its_options_are_the_evaluations(tiny):
    """The config's CrossDomainIoUMetric subclass (as the BDD drivable
    configs have) and its options (SYNTHIA's class_subsets) score it."""

    @METRICS.register_module(force=True)
    class _MetricWithExtraKey(CrossDomainIoUMetric):

        def compute_metrics(self, results):
            metrics = super().compute_metrics(results)
            metrics.update({f'{row}/extra': 1.0 for row in
                            {k.split('/')[0] for k in metrics}})
            return metrics

    cfg = Config.fromfile(tiny['config'])
    cfg.test_evaluator = dict(
        type='_MetricWithExtraKey', source_domain='cityscapes',
        class_subsets=dict(mIoU2=['road', 'car']))
    result, run = evaluate_checkpoint(cfg, tiny['checkpoint'], 'tiny',
                                      progress=False)
    assert run.metrics['gta5/extra'] == 1.0
    road, car = result.classes.index('road'), result.classes.index('car')
    for row in ('cityscapes', 'gta5'):
        ious = result.scores[row]['IoU']
        assert result.scores[row]['mIoU2'] == pytest.approx(
            np.nanmean([ious[road], ious[car]]), nan_ok=True)
        assert run.metrics[metric_key(row, 'mIoU2')] == \
            result.scores[row]['mIoU2']
