"""The routes a user takes to a checkpoint URL (``tools/test.py``,
``init_model``, ``init_cfg`` ``Pretrained``, resume from a
``last_checkpoint``) refuse a malicious pickle served on 127.0.0.1 before it
runs, and load a benign checkpoint.
"""
import pytest
import torch
from mmseg.apis import init_model
from mmseg.registry import MODELS

import ibnseg  # noqa: F401  (installs the safe loaders)
from ibnseg.utils import load_checkpoint_safely
from tests.helpers.crafted_checkpoints import touch
from tests.helpers.served_checkpoints import assert_refused
from tests.helpers.tiny_experiment import (RESNET18_TINY, make_tiny_cityscapes,
                                           write_tiny_config)
from tests.helpers.tools import run_tool
from tests.helpers.toy_runner import toy_runner


def _tiny_segmentor_checkpoint(config):
    torch.manual_seed(1)
    model = init_model(config, checkpoint=None, device='cpu')
    return dict(state_dict=model.state_dict(),
                meta=dict(dataset_meta=dict(classes=tuple(map(str, range(19))),
                                            palette=[[0, 0, 0]] * 19)))


def test_init_model_url(server, marker, tmp_path):
    config = write_tiny_config(tmp_path / 'tiny.py', tmp_path / 'no-data')
    url = server.serve_malicious('evil.pth', marker)
    assert_refused(lambda: init_model(config, url, device='cpu'), marker, url)

    checkpoint = _tiny_segmentor_checkpoint(config)
    url = server.serve('segmentor.pth', checkpoint)
    model = init_model(config, url, device='cpu')
    for key, value in model.state_dict().items():
        assert torch.equal(value, checkpoint['state_dict'][key]), key
    assert model.dataset_meta['classes'][0] == '0'


@pytest.mark.parametrize('backbone', [
    dict(type='ResNet'), dict(type='IBNResNet', ibn='a')])
def test_backbone_pretrained_url(server, marker, backbone):
    """mmengine's PretrainedInit (ResNet) and ibnseg's strict loader
    (IBNResNet) both take a URL as ``init_cfg.checkpoint``."""
    cfg = dict(RESNET18_TINY, **backbone)
    url = server.serve_malicious('evil.pth', marker)
    model = MODELS.build(
        dict(cfg, init_cfg=dict(type='Pretrained', checkpoint=url)))
    assert_refused(model.init_weights, marker, url)

    torch.manual_seed(2)
    weights = MODELS.build(cfg).state_dict()
    url = server.serve('backbone.pth', weights)
    model = MODELS.build(
        dict(cfg, init_cfg=dict(type='Pretrained', checkpoint=url)))
    model.init_weights()
    for key, value in model.state_dict().items():
        assert torch.equal(value, weights[key]), key


def _train(work_dir, max_iters, resume):
    runner = toy_runner(work_dir, max_iters, resume=resume,
                        hook_type='CheckpointHook', max_keep_ckpts=-1)
    runner.train()
    return runner


def test_resume_from_url_in_last_checkpoint(server, marker, tmp_path):
    """``tools/train.py --resume`` reads the work dir's ``last_checkpoint``,
    which may hold a URL; Runner.resume would execute meta['config'] text,
    which unpickling safely lets through: it is dropped."""
    work_dir = tmp_path / 'evil_run'
    work_dir.mkdir()
    url = server.serve_malicious('iter_2.pth', marker)
    (work_dir / 'last_checkpoint').write_text(url)
    assert_refused(lambda: _train(work_dir, 3, resume=True), marker, url)

    _train(tmp_path / 'first_run', 2, resume=False)
    checkpoint = load_checkpoint_safely(tmp_path / 'first_run' / 'iter_2.pth')
    checkpoint['meta']['config'] = touch(marker)
    work_dir = tmp_path / 'resumed_run'
    work_dir.mkdir()
    (work_dir / 'last_checkpoint').write_text(
        server.serve('ok_iter_2.pth', checkpoint))
    assert _train(work_dir, 3, resume=True).iter == 3
    assert not marker.exists(), 'the config text in the checkpoint ran'
    # resumed at iteration 2: only the third was trained here
    assert sorted(p.name for p in work_dir.glob('iter_*.pth')) == \
        ['iter_3.pth']


@pytest.mark.slow
def test_tools_test_url(server, marker, tmp_path):
    """A refusal ends ``tools/test.py CONFIG URL`` with one line before the
    runner is built; a benign checkpoint is tested."""
    data = make_tiny_cityscapes(tmp_path / 'cityscapes', train=0, val=1)
    config = write_tiny_config(tmp_path / 'tiny.py', data.root)
    url = server.serve_malicious('evil.pth', marker)
    proc = run_tool('test.py', [config, url, '--work-dir', tmp_path / 'evil'],
                    check=False)
    assert proc.returncode == 2, proc.stdout[-3000:]
    last = proc.stdout.splitlines()[-1]
    assert last.startswith('error: '), proc.stdout[-3000:]
    assert 'refused to load this checkpoint' in last and url in last
    assert 'Traceback' not in proc.stdout
    assert 'Runner' not in proc.stdout and 'Config:' not in proc.stdout
    assert not marker.exists(), 'the pickled command must never run'

    url = server.serve('segmentor.pth', _tiny_segmentor_checkpoint(config))
    log = run_tool('test.py', ['--verbose', config, url, '--work-dir',
                               tmp_path / 'ok']).stdout
    assert f'Load checkpoint from {url}' in log
    assert 'mIoU' in log
