"""The one evaluation route (MultiDomainValLoop / MultiDomainTestLoop and
evaluate_checkpoint) on a tiny checkpoint and two generated domains, in
process (the tool around it: tests/e2e/test_cross_domain_eval.py)."""
import copy
from types import SimpleNamespace

import numpy as np
import pytest
import torch
import torch.distributed as torch_dist
from mmengine.config import Config, ConfigDict
from mmengine.evaluator import Evaluator
from mmengine.registry import init_default_scope
from mmengine.runner import Runner
from mmseg.evaluation.metrics import IoUMetric
from mmseg.models import EncoderDecoder
from mmseg.registry import DATASETS, METRICS

from ibnseg.apis import load_segmentor
from ibnseg.datasets.subsets import seeded_subset, select_subset
from ibnseg.engine.runner_setup import load_config
from ibnseg.evaluation import (CrossDomainIoUMetric, MissingDomainDataError,
                               cross_domain_evaluator, evaluate_checkpoint,
                               loops, metric_key, parse_cross_domain)
from tests.helpers.tiny_setup import (IMAGE_SIZE, NUM_SAMPLES,
                                      cross_domain_section, make_domains,
                                      save_checkpoint, tiny_model,
                                      write_config)
from tests.helpers.tools import mmengine_log
from tests.helpers.datasets import names

init_default_scope('mmseg')


@pytest.fixture(scope='module')
def tiny(tmp_path_factory):
    torch.set_num_threads(1)
    root = tmp_path_factory.mktemp('tiny')
    roots = make_domains(str(root / 'data'))
    config = write_config(root / 'tiny.py', roots)
    return dict(roots=roots, config=config,
                checkpoint=save_checkpoint(config, root / 'tiny.pth'))


def evaluate(tiny, cfg=None, **kwargs):
    return evaluate_checkpoint(cfg or load_config(tiny['config']),
                               tiny['checkpoint'], 'tiny', progress=False,
                               **kwargs)


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


@METRICS.register_module(force=True)
class _MetricWithExtraKey(CrossDomainIoUMetric):

    def compute_metrics(self, results):
        metrics = super().compute_metrics(results)
        metrics.update({f'{row}/extra': 1.0 for row in
                        {k.split('/')[0] for k in metrics}})
        return metrics


@pytest.fixture(scope='module')
def evaluated(tiny):
    """Both domains and their grey rows, scored by the config's metric (a
    CrossDomainIoUMetric subclass, as the BDD drivable configs have) and
    options (SYNTHIA's class_subsets): (result, run, sliding windows)."""
    cfg = load_config(tiny['config'])
    cfg.test_evaluator = dict(
        type='_MetricWithExtraKey', source_domain='cityscapes',
        class_subsets=dict(mIoU2=['road', 'car']))
    slide_calls = []
    slide = EncoderDecoder.slide_inference

    def counting_slide(self, inputs, metas):
        slide_calls.append(len(inputs))
        return slide(self, inputs, metas)

    with pytest.MonkeyPatch.context() as patch:
        patch.setattr(EncoderDecoder, 'slide_inference', counting_slide)
        result, run = evaluate(tiny, cfg, num_show=2, shifts=['grey'])
    return result, run, sum(slide_calls)


@pytest.mark.slow
def test_numbers_equal_mmseg_per_domain_with_each_test_cfg(tiny, evaluated):
    result, run, slid = evaluated
    # gta5 (and gta5@grey) with sliding windows, cityscapes whole images
    # (the rows, their sizes and target mean: tests/e2e, through the tool)
    assert slid == 2 * NUM_SAMPLES['gta5']
    # a shifted row is not a target
    assert result.details['targets'] == ['gta5']
    assert result.details['shift_cfg'] == dict(
        grey=dict(type='Desaturate', strength=1.0))
    got = run.metrics
    for domain in ('cityscapes', 'gta5'):
        expected = mmseg_metrics_alone(tiny, domain)
        assert got[metric_key(domain, 'aAcc')] == pytest.approx(
            expected['aAcc'] * 100, abs=1e-6)
        assert got[metric_key(domain, 'mIoU')] == pytest.approx(
            np.nanmean(expected['IoU']) * 100, abs=1e-6)
        np.testing.assert_allclose(
            result.class_ious(domain), expected['IoU'] * 100, atol=1e-6)
    # the config's metric and options
    assert got['gta5/extra'] == 1.0
    road, car = result.classes.index('road'), result.classes.index('car')
    for row in ('cityscapes', 'gta5'):
        ious = result.scores[row]['IoU']
        assert result.scores[row]['mIoU2'] == pytest.approx(
            np.nanmean([ious[road], ious[car]]), nan_ok=True)
        assert got[metric_key(row, 'mIoU2')] == result.scores[row]['mIoU2']
    # the first samples are kept for the strips, at the evaluated size
    assert [len(run.samples[d]) for d in result.rows] == [2, 2, 2, 2]
    sample = run.samples['gta5'][0]
    assert sample.image.shape == (*sample.gt.shape, 3)
    assert sample.pred.shape == sample.gt.shape


@pytest.mark.slow
def test_a_target_without_data_is_skipped_on_request(tiny, tmp_path):
    """(Failing without --skip-missing: test_loops.py.)"""
    roots = dict(tiny['roots'], gta5=str(tmp_path / 'no_gta5'))
    config = write_config(tmp_path / 'missing.py', roots)
    result, run = evaluate(tiny, load_config(config), skip_missing=True)
    assert result.rows == ['cityscapes']
    assert list(result.details['skipped']) == ['gta5']
    assert 'target/mIoU' not in run.metrics


def _rank_main(rank, init_file, tiny, out_file):
    torch.set_num_threads(1)
    torch_dist.init_process_group('gloo', init_method=f'file://{init_file}',
                                  rank=rank, world_size=2)
    try:
        metrics = evaluate(tiny)[1].metrics
        if rank == 0:
            torch.save(metrics, out_file)
    finally:
        torch_dist.destroy_process_group()


@pytest.mark.slow
def test_distributed_run_drops_each_domains_padding(tiny, evaluated,
                                                    tmp_path):
    """3 samples per domain on 2 ranks: each domain's sampler pads one
    sample, which must not be counted (nor lost) in either domain. The
    ranks are forked: spawned ones would each import torch and mmseg."""
    out_file = tmp_path / 'rank0.pth'
    torch.multiprocessing.start_processes(
        _rank_main, args=(tmp_path / 'init', tiny, out_file), nprocs=2,
        start_method='fork')
    distributed = torch.load(out_file, weights_only=True)
    single = evaluated[1].metrics  # its rows and the grey ones
    assert distributed == {key: single[key] for key in distributed}
    assert {key.split('/')[0] for key in distributed} == {
        'cityscapes', 'gta5', 'target', 'drop'}


def runner_for(section, work_dir, model=None, **kwargs):
    """A Runner as tools/train.py and tools/test.py build one from a config
    with a cross_domain section (Runner.from_cfg passes cfg too)."""
    source = section['domains'][section['source']]['dataloader']
    evaluator = cross_domain_evaluator(section)
    return Runner(
        model=ConfigDict(model or tiny_model()),
        work_dir=str(work_dir),
        val_dataloader=source,
        val_cfg=kwargs.pop('val_cfg', dict(type='MultiDomainValLoop')),
        val_evaluator=evaluator,
        test_dataloader=kwargs.pop('test_dataloader', source),
        test_cfg=dict(type='MultiDomainTestLoop'),
        test_evaluator=evaluator,
        default_scope='mmseg',
        default_hooks=dict(logger=dict(type='LoggerHook', interval=1)),
        # unformatted: yapf's formatting for the log took seconds
        cfg=Config(dict(cross_domain=section), format_python_code=False),
        **kwargs)


def test_seeded_subset_is_select_subset_of_the_sample_names(tiny):
    section = cross_domain_section(tiny['roots'])
    dataset = DATASETS.build(
        section['domains']['gta5']['dataloader']['dataset'])
    subset = seeded_subset(dataset, count=2, seed=3)
    assert names(subset) == select_subset(names(dataset), count=2, seed=3)
    assert seeded_subset(dataset, count=len(dataset), seed=3) is dataset


@pytest.mark.slow
def test_validation_subset_during_training_full_splits_at_the_end(
        tiny, tmp_path):
    torch.manual_seed(0)
    model = tiny_model()
    model['data_preprocessor']['size'] = IMAGE_SIZE  # batches of frames
    # GTA5's frames as the training set
    train_set = cross_domain_section(tiny['roots'])['domains']['gta5']
    runner = runner_for(
        cross_domain_section(tiny['roots']), tmp_path, model,
        train_dataloader=dict(
            train_set['dataloader'],
            sampler=dict(type='InfiniteSampler', shuffle=True)),
        train_cfg=dict(
            type='IterBasedTrainLoop', max_iters=2, val_interval=1),
        val_cfg=dict(type='MultiDomainValLoop', subset=dict(count=2,
                                                            seed=0)),
        optim_wrapper=dict(
            type='OptimWrapper', optimizer=dict(type='SGD', lr=0.01)))
    runner.train()
    log = mmengine_log(tmp_path)
    # iteration 1: the subset; iteration 2 (the last): every sample
    assert log.count('val: 2 domains on a seeded subset (at most 2 '
                     'samples, seed 0): cityscapes 2, gta5 2') == 1
    assert log.count('val: 2 domains on the full splits: cityscapes 3, '
                     'gta5 3') == 1
    assert log.index('seeded subset') < log.index('full splits')
    assert log.count('cityscapes/mIoU') >= 2 and log.count('gta5/mIoU') >= 2


@pytest.mark.slow
def test_test_loop_numbers_are_the_offline_evaluation(tiny, evaluated,
                                                      tmp_path):
    """tools/test.py's route (the config's loop) and that of
    tools/cross_domain_eval.py (evaluate_checkpoint) give the same numbers.
    """
    runner = runner_for(cross_domain_section(tiny['roots']), tmp_path,
                        load_from=tiny['checkpoint'])
    metrics = runner.test()
    offline = evaluated[1].metrics  # its rows and the grey ones
    assert metrics == {key: offline[key] for key in metrics}
    # the sliding window was used for GTA5 only, and the model's own
    # test_cfg is back afterwards
    assert runner.model.test_cfg == dict(mode='whole')


def build_loop(section, dataloader=None, **kwargs):
    """The test loop as the Runner builds it, given the runner parts it
    reads: the rows' datasets are built, no model."""
    runner = SimpleNamespace(
        cfg=Config(dict(cross_domain=section)), seed=0,
        build_dataloader=Runner.build_dataloader, visualizer=SimpleNamespace())
    return loops.MultiDomainTestLoop(runner, dataloader, Evaluator([]),
                                     **kwargs)


@pytest.mark.parametrize('domain, dataset, skip_missing, error, message', [
    ('gta5', dict(data_root='nowhere'), False, MissingDomainDataError,
     "domain 'gta5' of the cross_domain section: data not found.*"
     'pass --skip-missing to evaluate the other domains'),
    ('cityscapes', dict(data_root='nowhere'), True, MissingDomainDataError,
     "domain 'cityscapes'.*the source domain cannot be skipped"),
    # the metric would count one domain's class indices as the other's
    ('gta5', dict(metainfo=dict(classes=('road', 'sidewalk'))), False,
     ValueError, "domains 'cityscapes' and 'gta5' have different classes"),
])
def test_bad_domains_fail_when_the_loop_is_built(tiny, domain, dataset,
                                                 skip_missing, error,
                                                 message):
    section = copy.deepcopy(cross_domain_section(tiny['roots']))
    section['domains'][domain]['dataloader']['dataset'].update(dataset)
    with pytest.raises(error, match=message):
        build_loop(section, skip_missing=skip_missing)


def test_a_config_dataloader_that_is_not_evaluated_is_named(
        tiny, monkeypatch):
    """The rows use the section's dataloaders: a test_dataloader that is not
    the source's (here its batch size) would be ignored silently."""
    logged = []
    monkeypatch.setattr(loops, 'print_log',
                        lambda message, **kwargs: logged.append(message))
    section = cross_domain_section(tiny['roots'])
    source = section['domains']['cityscapes']['dataloader']
    loop = build_loop(section, dict(source, batch_size=4))
    assert loop.source == 'cityscapes'
    assert [m for m in logged if 'not evaluated' in m] == [
        'test_dataloader of the config is not evaluated: with a '
        'cross_domain section each domain is evaluated with its own '
        'dataloader; set cross_domain.domains.cityscapes.dataloader '
        'instead, and make test_dataloader the same']
