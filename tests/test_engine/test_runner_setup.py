import argparse
import os
import os.path as osp
import sys

import pytest
import torch
from mmengine.config import Config

import ibnseg.engine.runner_setup
from ibnseg.engine.runner_setup import (add_runner_args, enable_amp,
                                        enable_tta, load_config,
                                        parse_runner_args, save_predictions,
                                        set_resume, set_work_dir,
                                        use_atomic_checkpoints)
from ibnseg.utils import CheckpointError
from tests.helpers.tools import REPO_ROOT, must_not_run, run_in_process


def _config(**fields):
    return Config(dict(fields))


def test_load_config(tmp_path):
    path = tmp_path / 'exp.py'
    path.write_text("model = dict(type='EncoderDecoder', pretrained=None)\n"
                    "train_cfg = dict(max_iters=100)\n")
    cfg = load_config(str(path), {'train_cfg.max_iters': 3}, 'pytorch')
    assert cfg.train_cfg.max_iters == 3
    assert cfg.launcher == 'pytorch'
    assert cfg.default_scope == 'mmseg'
    path.write_text("default_scope = 'mmengine'\n")
    assert load_config(str(path)).default_scope == 'mmengine'


@pytest.mark.parametrize('fields, option, work_dir', [
    (dict(work_dir='from_config'), 'from_cli', 'from_cli'),
    (dict(work_dir='from_config'), None, 'from_config'),
    ({}, None, osp.join('./work_dirs', 'ibn_b_cityscapes'))])
def test_set_work_dir_priority(fields, option, work_dir):
    cfg = _config(**fields)
    set_work_dir(cfg, option, 'configs/ibn_b_cityscapes.py')
    assert cfg.work_dir == work_dir


def test_enable_amp(monkeypatch):
    # a GPU run: mmengine's AmpOptimWrapper (CPU: tests/e2e/test_tool_options)
    monkeypatch.setattr(ibnseg.engine.runner_setup, 'get_device',
                        lambda: 'cuda')
    cfg = _config(optim_wrapper=dict(type='OptimWrapper', optimizer={}))
    enable_amp(cfg)
    assert cfg.optim_wrapper.type == 'AmpOptimWrapper'
    assert cfg.optim_wrapper.loss_scale == 'dynamic'
    enable_amp(cfg)  # already AMP: unchanged
    assert cfg.optim_wrapper.type == 'AmpOptimWrapper'
    cfg = _config(optim_wrapper=dict(type='OptimWrapperDict'))
    with pytest.raises(ValueError, match="--amp needs .*'OptimWrapperDict'"):
        enable_amp(cfg)


def test_use_atomic_checkpoints():
    cfg = _config(default_hooks=dict(
        checkpoint=dict(type='CheckpointHook', interval=5, by_epoch=False)))
    use_atomic_checkpoints(cfg)
    assert cfg.default_hooks.checkpoint == dict(
        type='AtomicCheckpointHook', interval=5, by_epoch=False)
    custom = dict(type='MyCheckpointHook')
    cfg = _config(default_hooks=dict(checkpoint=custom))
    use_atomic_checkpoints(cfg)
    assert cfg.default_hooks.checkpoint.type == 'MyCheckpointHook'
    use_atomic_checkpoints(_config())  # no hooks at all: nothing to do


TTA_PIPELINE = [
    dict(type='LoadImageFromFile'),
    dict(type='TestTimeAug', transforms=[
        [dict(type='Resize', scale_factor=r, keep_ratio=True)
         for r in (0.5, 1.0)],
        [dict(type='RandomFlip', prob=0.), dict(type='RandomFlip', prob=1.)],
        [dict(type='LoadAnnotations')], [dict(type='PackSegInputs')]])
]


def _test_pipeline(scale):
    return [dict(type='LoadImageFromFile'),
            dict(type='Resize', scale=scale, keep_ratio=True),
            dict(type='LoadLabelIdAnnotations'),
            dict(type='PackSegInputs')]


def test_enable_tta():
    model = dict(type='EncoderDecoder')
    cfg = _config(
        model=model, tta_model=dict(type='SegTTAModel'),
        tta_pipeline=TTA_PIPELINE,
        test_dataloader=dict(dataset=dict(pipeline=_test_pipeline((64, 32)))),
        cross_domain=dict(source='a', domains=dict(
            a=dict(dataloader=dict(dataset=dict(
                pipeline=_test_pipeline((64, 32))))),
            b=dict(dataloader=dict(dataset=dict(
                pipeline=_test_pipeline((80, 40))))))))
    enable_tta(cfg)
    assert cfg.model == dict(type='SegTTAModel', module=model)
    # each domain: its own scale, then the ratios of it and the flips of
    # tta_pipeline, then its own labels and packing
    for pipeline, scale in (
            (cfg.test_dataloader.dataset.pipeline, (64, 32)),
            (cfg.cross_domain.domains.b.dataloader.dataset.pipeline,
             (80, 40))):
        assert pipeline == [
            dict(type='LoadImageFromFile'),
            dict(type='Resize', scale=scale, keep_ratio=True),
            dict(type='TestTimeAug', transforms=[
                *TTA_PIPELINE[1]['transforms'][:2],
                [dict(type='LoadLabelIdAnnotations')],
                [dict(type='PackSegInputs')]])]
    with pytest.raises(ValueError, match='--tta needs tta_pipeline and '
                       'tta_model'):
        enable_tta(_config(model=model))
    tta = dict(model=model, tta_model=dict(type='SegTTAModel'))
    for tta_pipeline, pipeline, message in [
            (['tta'], ['plain'], 'tta_pipeline needs a TestTimeAug step '
             'whose transforms hold resize and flip choices'),
            (TTA_PIPELINE, None, 'test_dataloader.dataset has no pipeline'),
            (TTA_PIPELINE, TTA_PIPELINE, 'test_dataloader.dataset.pipeline '
             'already has a TestTimeAug step')]:
        with pytest.raises(ValueError, match=message):
            enable_tta(_config(**tta, tta_pipeline=tta_pipeline,
                               test_dataloader=dict(dataset=dict(
                                   pipeline=pipeline) if pipeline else {})))


def test_save_predictions_single_and_several_metrics():
    cfg = _config(test_evaluator=dict(type='IoUMetric'))
    save_predictions(cfg, 'preds')
    assert cfg.test_evaluator.output_dir == 'preds'
    cfg = _config(test_evaluator=[dict(type='IoUMetric'),
                                  dict(type='IoUMetric')])
    save_predictions(cfg, 'preds')
    assert [e['output_dir'] for e in cfg.test_evaluator] == ['preds'] * 2


def test_runner_args(monkeypatch):
    parser = argparse.ArgumentParser()
    add_runner_args(parser)
    monkeypatch.delenv('LOCAL_RANK', raising=False)
    monkeypatch.setattr(sys, 'argv', [
        'train.py', '--local-rank', '3', '--launcher', 'pytorch',
        '--cfg-options', 'train_cfg.max_iters=7', 'model.pretrained=None'
    ])
    args = parse_runner_args(parser)
    assert args.launcher == 'pytorch'
    assert args.cfg_options == {
        'train_cfg.max_iters': 7, 'model.pretrained': None}
    assert os.environ['LOCAL_RANK'] == '3'
    # torchrun's LOCAL_RANK wins over the option's default.
    monkeypatch.setenv('LOCAL_RANK', '1')
    monkeypatch.setattr(sys, 'argv', ['train.py'])
    parse_runner_args(parser)
    assert os.environ['LOCAL_RANK'] == '1'


def test_set_resume_loads_the_checkpoint_before_the_runner(tmp_path):
    """--resume continues the work dir's run from the checkpoint its
    last_checkpoint names, loaded at once; without a last_checkpoint the
    run starts from load_from (a fine-tune run's source) as without."""
    source = 'work_dirs/source/last_checkpoint'
    cfg = _config(work_dir=str(tmp_path), load_from=source)
    set_resume(cfg, True)
    assert (cfg.resume, cfg.load_from) == (False, source)
    checkpoint = tmp_path / 'iter_4.pth'
    (tmp_path / 'last_checkpoint').write_text(str(checkpoint))
    set_resume(cfg, False)
    assert (cfg.resume, cfg.load_from) == (False, source)
    with pytest.raises(FileNotFoundError, match='--resume: .*last_checkpoint '
                       "names '.*iter_4.pth', which does not exist"):
        set_resume(cfg, True)
    checkpoint.write_bytes(b'')
    with pytest.raises(CheckpointError, match='iter_4.pth: not a checkpoint '
                       'torch can read'):
        set_resume(cfg, True)
    torch.save({'state_dict': {'w': torch.zeros(2)}}, checkpoint)
    with pytest.raises(CheckpointError, match='iter_4.pth: cannot resume '
                       'from it: it has no meta epoch and iter'):
        set_resume(cfg, True)
    torch.save({'meta': dict(epoch=0, iter=4)}, checkpoint)
    set_resume(cfg, True)  # mmengine resumes from the work dir's record
    assert (cfg.resume, cfg.load_from) == (True, None)


SYNTAX_ERROR = ('child.py', None, 'bad.py (a base config of child.py), line '
                '3: invalid syntax\n    pretrained=None,,\n')
SYNTAX_ERRORS = [
    ('bad.py', None, 'bad.py, line 3: invalid syntax\n    pretrained=None,,'),
    SYNTAX_ERROR,
    ('grandchild.py', None, 'bad.py (a base config of grandchild.py, via '
     'child.py), line 3: invalid syntax\n    pretrained=None,,'),
    # the bases of a lazy-import config are not walked
    ('lazy.py', None, 'lazy.py (or one of its base configs), line 3: '
     'invalid syntax\n    pretrained=None,,'),
]


BAD_INPUT = [
    ('exp.py', 'foo', "argument --cfg-options: 'foo': expected KEY=VALUE"),
    ('exp.py', 'model..x=1', "argument --cfg-options: 'model..x=1': "
     'expected KEY=VALUE with a dotted KEY of non-empty parts'),
    ('exp.py', 'train_cfg.stages=[1,2', "argument --cfg-options: "
     "'train_cfg.stages=[1,2': the value does not parse ('[' is never "
     'closed)'),
    ('exp.py', 'train_cfg.stages=(1,[2)]', "argument --cfg-options: "
     "'train_cfg.stages=(1,[2)]': the value does not parse (')' closes no "
     'bracket opened before it)'),
    ('exp.py', 'train_cfg.max_iters.x=1', '--cfg-options '
     'train_cfg.max_iters.x=1 does not fit the config exp.py: '
     "train_cfg.max_iters is 100 (int), which holds no key 'x'"),
    ('exp.py', 'model.heads.2.x=1', '--cfg-options model.heads.2.x=1 does '
     'not fit the config exp.py: model.heads is a list of 2 item(s): '
     "expected an index 0..1, got '2'"),
    ('exp.py', 'visualizer.vis_backends=[1]', 'visualizer.vis_backends must '
     "be a list of dicts with a type, e.g. [dict(type='LocalVisBackend')]; "
     'got [1]'),
    *SYNTAX_ERRORS,
    # an import makes mmengine read the file as a lazy-import config, which
    # cannot have a plain _base_
    ('lazy/cfg.py', None, 'lazy/cfg.py: The configuration file type in the '
     'inheritance chain must match'),
    # '{{$IBNSEG_CITYSCAPES_ROOT:...}}' set but empty
    (osp.join(REPO_ROOT, 'configs', 'ibn_b_cityscapes.py'), None,
     f'{REPO_ROOT}/configs/ibn_b_cityscapes.py: $IBNSEG_CITYSCAPES_ROOT is '
     'set but empty; set it to the cityscapes data root or unset it '
     '(default: data/cityscapes/)\n'),
]


@pytest.mark.parametrize('tool, config, option, message', [
    (tool, *case) for tool in ('train.py', 'test.py') for case in BAD_INPUT
] + [('cross_domain_eval.py', *SYNTAX_ERROR)])
def test_tools_name_bad_configs_and_cfg_options(
        tool, config, option, message, tmp_path, monkeypatch, capsys):
    """One usage error naming the file or option, before the Runner."""
    (tmp_path / 'exp.py').write_text(
        "model = dict(type='EncoderDecoder', heads=[dict(), dict()])\n"
        "train_cfg = dict(max_iters=100)\n")
    (tmp_path / 'lazy').mkdir()
    (tmp_path / 'lazy' / 'base.py').write_text('x = 1\n')
    (tmp_path / 'lazy' / 'cfg.py').write_text(
        "import os\n_base_ = ['base.py']\n")
    # bad.py: a syntax error on line 3 (the second comma); child.py inherits
    # from it, grandchild.py from child.py; lazy.py imports it
    (tmp_path / 'bad.py').write_text(
        "model = dict(\n    type='EncoderDecoder',\n"
        "    pretrained=None,,\n)\n")
    (tmp_path / 'child.py').write_text("_base_ = ['./bad.py']\nx = 1\n")
    (tmp_path / 'good_base.py').write_text('y = 2\n')
    (tmp_path / 'grandchild.py').write_text(
        "_base_ = ['./good_base.py', 'child.py']\n")
    (tmp_path / 'lazy.py').write_text(
        'from mmengine.config import read_base\n\n'
        'with read_base():\n    from .bad import *\n')
    torch.save(dict(state_dict={}), tmp_path / 'ckpt.pth')
    monkeypatch.setenv('IBNSEG_CITYSCAPES_ROOT', '')
    monkeypatch.chdir(tmp_path)
    monkeypatch.setattr(ibnseg.engine.runner_setup, 'build_runner',
                        must_not_run('building the Runner'))
    argv = [config] + (['ckpt.pth'] if tool != 'train.py' else []) + (
        ['--cfg-options', option] if option else [])
    code, err = run_in_process(tool, argv, monkeypatch, capsys)
    assert code == 2  # argparse's usage error, not an exception
    assert f'{tool}: error: {message}' in err, err
