import os
import os.path as osp

import pytest
import torch
from mmengine.hooks import CheckpointHook

from ibnseg.engine import fileio as ibnseg_fileio
from ibnseg.engine.fileio import PARTIAL_SUFFIX
from ibnseg.engine.hooks import RNG_STATE_KEY, AtomicCheckpointHook
from ibnseg.utils import load_checkpoint_safely
from tests.helpers.toy_runner import RecordRNGHook, toy_runner


def _last_checkpoint(work_dir):
    with open(osp.join(work_dir, 'last_checkpoint')) as f:
        return f.read()


def _checkpoints(work_dir):
    return sorted(n for n in os.listdir(work_dir) if n.endswith('.pth'))


def test_saves_keeps_and_points_at_last(tmp_path):
    leftover = tmp_path / f'.iter_3.pth.99.0000abcd{PARTIAL_SUFFIX}'
    leftover.write_bytes(b'half a checkpoint of a killed save')
    toy_runner(tmp_path, max_iters=3, max_keep_ckpts=2).train()
    assert not leftover.exists()
    assert _checkpoints(tmp_path) == ['iter_2.pth', 'iter_3.pth']
    assert _last_checkpoint(tmp_path) == str(tmp_path / 'iter_3.pth')
    checkpoint = load_checkpoint_safely(tmp_path / 'iter_3.pth')
    assert checkpoint['meta']['iter'] == 3
    assert checkpoint['message_hub']['runtime_info']['keep_ckpt_ids'] == [
        2, 3]
    assert checkpoint[RNG_STATE_KEY]['cpu'].dtype == torch.uint8


def test_interrupted_save_keeps_previous_checkpoint(tmp_path, monkeypatch):
    # the 3rd checkpoint save fails after its bytes are written and before
    # they replace anything: the moment a kill does the most damage
    saves, replace = [], os.replace

    def killed(src, dst, *args, **kwargs):
        if dst.endswith('.pth'):
            saves.append(dst)
            if len(saves) == 3:
                raise OSError('killed midway')
        return replace(src, dst, *args, **kwargs)

    monkeypatch.setattr(ibnseg_fileio.os, 'replace', killed)
    with pytest.raises(OSError, match='killed midway'):
        toy_runner(tmp_path, max_iters=4).train()
    monkeypatch.undo()
    assert _checkpoints(tmp_path) == ['iter_2.pth']
    assert _last_checkpoint(tmp_path) == str(tmp_path / 'iter_2.pth')
    assert not [n for n in os.listdir(tmp_path) if PARTIAL_SUFFIX in n]
    checkpoint = load_checkpoint_safely(tmp_path / 'iter_2.pth')
    assert checkpoint['meta']['iter'] == 2

    runner = toy_runner(tmp_path, max_iters=4, resume=True)
    runner.train()
    assert runner.iter == 4
    assert _checkpoints(tmp_path) == ['iter_4.pth']


def test_resume_restores_rng_state_but_load_from_does_not(tmp_path):
    toy_runner(tmp_path, max_iters=2).train()
    saved = load_checkpoint_safely(
        tmp_path / 'iter_2.pth')[RNG_STATE_KEY]['cpu']

    probe = RecordRNGHook()
    toy_runner(tmp_path / 'resumed', max_iters=3, resume=True,
               load_from=str(tmp_path / 'iter_2.pth'),
               custom_hooks=[probe]).train()
    assert torch.equal(probe.state, saved)

    # Runner.resume without cfg.resume, as a script driving the runner does
    probe = RecordRNGHook()
    runner = toy_runner(tmp_path / 'resumed_by_call', max_iters=3,
                        custom_hooks=[probe])
    runner.resume(str(tmp_path / 'iter_2.pth'))
    runner.train()
    assert runner.iter == 3 and torch.equal(probe.state, saved)

    probe = RecordRNGHook()
    toy_runner(tmp_path / 'finetuned', max_iters=1,
               load_from=str(tmp_path / 'iter_2.pth'),
               custom_hooks=[probe]).train()
    assert not torch.equal(probe.state, saved)


def test_refuses_an_mmengine_without_the_replaced_method(monkeypatch):
    monkeypatch.delattr(CheckpointHook, '_save_checkpoint_with_step')
    with pytest.raises(RuntimeError,
                       match=r'mmengine .*_save_checkpoint_with_step\(\).*'
                       r'mmengine 0\.10\.7'):
        AtomicCheckpointHook(interval=1)
