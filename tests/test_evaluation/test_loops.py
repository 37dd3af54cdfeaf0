"""MultiDomainValLoop / MultiDomainTestLoop through mmengine's Runner: every
domain of the cross_domain section with its own dataloader and test_cfg,
validation on a seeded subset during training and the full splits after
the last iteration, missing data found when the loop is built."""
import copy
import glob
import os.path as osp

import pytest
import torch
from mmengine.config import Config, ConfigDict
from mmengine.registry import init_default_scope
from mmengine.runner import Runner
from mmseg.registry import DATASETS

import ibnseg  # noqa: F401
from ibnseg.datasets.subsets import seeded_subset, select_subset
from ibnseg.evaluation import (cross_domain_evaluator, evaluate_checkpoint,
                               loops)
from tests.helpers.tiny_setup import (IMAGE_SIZE, cross_domain_section,
                                      make_domains, save_checkpoint,
                                      tiny_model, write_config)

init_default_scope('mmseg')


@pytest.fixture(scope='module')
def roots(tmp_path_factory):
    return make_domains(str(tmp_path_factory.mktemp('loops') / 'data'))


def train_dataloader(roots):
    """GTA5's generated frames as a training set (2 per batch)."""
    return dict(
        batch_size=2,
        num_workers=0,
        sampler=dict(type='InfiniteSampler', shuffle=True),
        dataset=dict(
            type='GTA5Dataset',
            data_root=roots['gta5'],
            pipeline=[
                dict(type='LoadImageFromFile'),
                dict(type='LoadLabelIdAnnotations'),
                dict(type='PackSegInputs')
            ]))


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
        cfg=dict(cross_domain=section),
        **kwargs)


def test_seeded_subset_is_select_subset_of_the_sample_names(roots):
    section = cross_domain_section(roots)
    dataset = DATASETS.build(
        section['domains']['gta5']['dataloader']['dataset'])
    names = [dataset.get_data_info(i)['sample_name']
             for i in range(len(dataset))]
    subset = seeded_subset(dataset, count=2, seed=3)
    assert [subset.get_data_info(i)['sample_name'] for i in range(2)] == \
        select_subset(names, count=2, seed=3)
    assert seeded_subset(dataset, count=len(dataset), seed=3) is dataset


@pytest.mark.slow
def test_validation_subset_during_training_full_splits_at_the_end(
        roots, tmp_path):
    torch.manual_seed(0)
    model = tiny_model()
    model['data_preprocessor']['size'] = IMAGE_SIZE  # batches of frames
    runner = runner_for(
        cross_domain_section(roots), tmp_path, model,
        train_dataloader=train_dataloader(roots),
        train_cfg=dict(
            type='IterBasedTrainLoop', max_iters=2, val_interval=1),
        val_cfg=dict(type='MultiDomainValLoop', subset=dict(count=2,
                                                            seed=0)),
        optim_wrapper=dict(
            type='OptimWrapper', optimizer=dict(type='SGD', lr=0.01)))
    runner.train()
    log = open(glob.glob(osp.join(tmp_path, '*', '*.log'))[0]).read()
    # iteration 1: the subset; iteration 2 (the last): every sample
    assert log.count('val: 2 domains on a seeded subset (at most 2 '
                     'samples, seed 0): cityscapes 2, gta5 2') == 1
    assert log.count('val: 2 domains on the full splits: cityscapes 3, '
                     'gta5 3') == 1
    assert log.index('seeded subset') < log.index('full splits')
    assert log.count('cityscapes/mIoU') >= 2 and log.count('gta5/mIoU') >= 2


@pytest.mark.slow
def test_test_loop_numbers_are_the_offline_evaluation(roots, tmp_path):
    """tools/test.py's route (the config's loop) and that of
    tools/cross_domain_eval.py (evaluate_checkpoint) give the same numbers.
    """
    section = cross_domain_section(roots)
    config = write_config(tmp_path / 'tiny.py', roots)
    checkpoint = save_checkpoint(config, tmp_path / 'tiny.pth')
    runner = runner_for(section, tmp_path / 'work', load_from=checkpoint)
    metrics = runner.test()

    offline = evaluate_checkpoint(Config.fromfile(config), checkpoint,
                                  'tiny', progress=False)[1].metrics
    assert metrics == offline
    # the sliding window was used for GTA5 only, and the model's own
    # test_cfg is back afterwards
    assert runner.model.test_cfg == dict(mode='whole')


@pytest.mark.slow
@pytest.mark.parametrize('gta5_dataset, error, message', [
    (dict(data_root='nowhere'), FileNotFoundError,
     "domain 'gta5' of the cross_domain section"),
    # the metric would count one domain's class indices as the other's
    (dict(metainfo=dict(classes=('road', 'sidewalk'))), ValueError,
     "domains 'cityscapes' and 'gta5' have different classes"),
])
def test_bad_domains_fail_when_the_loop_is_built(roots, tmp_path,
                                                 gta5_dataset, error,
                                                 message):
    section = copy.deepcopy(cross_domain_section(roots))
    section['domains']['gta5']['dataloader']['dataset'].update(gta5_dataset)
    with pytest.raises(error, match=message):
        runner_for(section, tmp_path).test()


def test_a_config_dataloader_that_is_not_evaluated_is_named(
        roots, tmp_path, monkeypatch):
    """The rows use the section's dataloaders: a test_dataloader that is not
    the source's (here its batch size) would be ignored silently."""
    logged = []
    monkeypatch.setattr(loops, 'print_log',
                        lambda message, **kwargs: logged.append(message))
    section = cross_domain_section(roots)
    source = section['domains']['cityscapes']['dataloader']
    runner = runner_for(section, tmp_path,
                        test_dataloader=dict(source, batch_size=4))
    assert runner.val_loop.source == runner.test_loop.source == 'cityscapes'
    assert [m for m in logged if 'not evaluated' in m] == [
        'test_dataloader of the config is not evaluated: with a '
        'cross_domain section each domain is evaluated with its own '
        'dataloader; set cross_domain.domains.cityscapes.dataloader '
        'instead, and make test_dataloader the same']
