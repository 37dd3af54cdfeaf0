"""AtomicCheckpointHook's use of mmengine: which public routes it takes, and
its refusal of an mmengine without the one private method it replaces.
(Its atomic saves and resume behaviour: test_checkpoint_hook.py.)"""
import pytest
import torch
from mmengine.hooks import CheckpointHook

from ibnseg.engine.hooks import RNG_STATE_KEY, AtomicCheckpointHook
from ibnseg.utils import load_checkpoint_safely
from tests.helpers.toy_runner import RecordRNGHook, toy_runner


def test_resume_is_recognised_without_the_runners_resume_flag(tmp_path):
    """A run resumed by calling Runner.resume (cfg.resume unset, as a
    script driving the runner does) continues with the saved RNG states."""
    toy_runner(tmp_path, max_iters=2).train()
    saved = load_checkpoint_safely(
        tmp_path / 'iter_2.pth')[RNG_STATE_KEY]['cpu']
    probe = RecordRNGHook()
    runner = toy_runner(tmp_path / 'resumed', max_iters=3,
                        custom_hooks=[probe])
    runner.resume(str(tmp_path / 'iter_2.pth'))
    runner.train()
    assert runner.iter == 3
    assert torch.equal(probe.state, saved)


def test_refuses_an_mmengine_without_the_replaced_method(monkeypatch):
    monkeypatch.delattr(CheckpointHook, '_save_checkpoint_with_step')
    with pytest.raises(RuntimeError,
                       match=r'mmengine .*_save_checkpoint_with_step\(\).*'
                       r'mmengine 0\.10\.7'):
        AtomicCheckpointHook(interval=1)
