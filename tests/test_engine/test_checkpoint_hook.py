import itertools
import os
import os.path as osp

import pytest
import torch
from mmengine.fileio.backends import local_backend
from mmengine.hooks import Hook
from mmengine.model import BaseModel
from mmengine.runner import Runner
from torch.utils.data import Dataset

from ibnseg.engine import fileio as ibnseg_fileio
from ibnseg.engine.fileio import PARTIAL_SUFFIX
from ibnseg.engine.hooks import RNG_STATE_KEY
from ibnseg.utils import load_checkpoint_safely


class ToyModel(BaseModel):
    """A linear layer with dropout: training draws from torch's RNG."""

    def __init__(self):
        super().__init__()
        self.linear = torch.nn.Linear(4, 1)
        self.dropout = torch.nn.Dropout(0.5)

    def forward(self, inputs, targets, mode='tensor'):
        out = self.linear(self.dropout(torch.stack(inputs)))
        if mode == 'loss':
            return dict(loss=((out - torch.stack(targets))**2).mean())
        return out


class ToyDataset(Dataset):

    def __len__(self):
        return 8

    def __getitem__(self, index):
        return dict(inputs=torch.full((4, ), float(index)),
                    targets=torch.tensor([1.0]))


class RecordRNGHook(Hook):
    """Records torch's RNG state when the first training iteration starts."""
    priority = 'LOWEST'

    def before_train_iter(self, runner, batch_idx, data_batch=None):
        if not hasattr(self, 'state'):
            self.state = torch.get_rng_state()


_RUN_IDS = itertools.count()


def _runner(work_dir, max_iters, resume=False, load_from=None,
            hook_type='AtomicCheckpointHook', max_keep_ckpts=1,
            custom_hooks=()):
    return Runner(
        model=ToyModel(),
        work_dir=str(work_dir),
        train_dataloader=dict(
            dataset=ToyDataset(), batch_size=2, num_workers=0,
            sampler=dict(type='InfiniteSampler', shuffle=True)),
        optim_wrapper=dict(optimizer=dict(type='SGD', lr=0.01)),
        train_cfg=dict(by_epoch=False, max_iters=max_iters),
        default_hooks=dict(
            checkpoint=dict(type=hook_type, by_epoch=False, interval=1,
                            max_keep_ckpts=max_keep_ckpts),
            logger=dict(type='LoggerHook', interval=100)),
        custom_hooks=list(custom_hooks),
        randomness=dict(seed=0),
        default_scope='mmseg',
        resume=resume,
        load_from=load_from,
        # mmengine keeps loggers and message hubs by experiment name.
        experiment_name=f'toy_{next(_RUN_IDS)}')


def _last_checkpoint(work_dir):
    with open(osp.join(work_dir, 'last_checkpoint')) as f:
        return f.read()


def _checkpoints(work_dir):
    return sorted(n for n in os.listdir(work_dir) if n.endswith('.pth'))


class _HalfWriter:
    """A file whose write stores half the bytes, then fails."""

    def __init__(self, file):
        self.file = file

    def __enter__(self):
        return self

    def __exit__(self, *exc_info):
        self.file.close()

    def write(self, data):
        self.file.write(data[:len(data) // 2])
        self.file.flush()
        raise OSError('killed midway')


def _break_nth_checkpoint_write(monkeypatch, writer_module, nth):
    """Make the ``nth`` checkpoint (``*.pth*``) file that ``writer_module``
    opens for writing fail halfway through: a save killed midway."""
    opened = []

    def fake_open(file, mode='r', *args, **kwargs):
        handle = open(file, mode, *args, **kwargs)
        if ('w' in mode or 'x' in mode) and '.pth' in osp.basename(file):
            opened.append(file)
            if len(opened) == nth:
                return _HalfWriter(handle)
        return handle

    # A module-level name shadows the builtin for that module only.
    monkeypatch.setattr(writer_module, 'open', fake_open, raising=False)


def test_saves_keeps_and_points_at_last(tmp_path):
    _runner(tmp_path, max_iters=3, max_keep_ckpts=2).train()
    assert _checkpoints(tmp_path) == ['iter_2.pth', 'iter_3.pth']
    assert _last_checkpoint(tmp_path) == str(tmp_path / 'iter_3.pth')
    checkpoint = load_checkpoint_safely(tmp_path / 'iter_3.pth')
    assert checkpoint['meta']['iter'] == 3
    assert checkpoint['message_hub']['runtime_info']['keep_ckpt_ids'] == [
        2, 3]
    assert checkpoint[RNG_STATE_KEY]['cpu'].dtype == torch.uint8


def test_interrupted_save_keeps_previous_checkpoint(tmp_path, monkeypatch):
    _break_nth_checkpoint_write(monkeypatch, ibnseg_fileio, nth=3)
    with pytest.raises(OSError, match='killed midway'):
        _runner(tmp_path, max_iters=4).train()
    monkeypatch.undo()
    assert _checkpoints(tmp_path) == ['iter_2.pth']
    assert _last_checkpoint(tmp_path) == str(tmp_path / 'iter_2.pth')
    assert not [n for n in os.listdir(tmp_path) if PARTIAL_SUFFIX in n]
    checkpoint = load_checkpoint_safely(tmp_path / 'iter_2.pth')
    assert checkpoint['meta']['iter'] == 2

    runner = _runner(tmp_path, max_iters=4, resume=True)
    runner.train()
    assert runner.iter == 4
    assert _checkpoints(tmp_path) == ['iter_4.pth']


def test_mmengine_hook_loses_the_run_on_the_same_fault(tmp_path, monkeypatch):
    """Why the hook exists: mmengine's deletes the old checkpoint first."""
    _break_nth_checkpoint_write(monkeypatch, local_backend, nth=3)
    with pytest.raises(OSError, match='killed midway'):
        _runner(tmp_path, max_iters=4, hook_type='CheckpointHook').train()
    assert _checkpoints(tmp_path) == ['iter_3.pth']  # truncated
    assert not osp.exists(_last_checkpoint(tmp_path))  # iter_2, deleted


def test_partial_files_of_a_killed_save_are_removed(tmp_path):
    leftover = tmp_path / f'.iter_3.pth.99.0000abcd{PARTIAL_SUFFIX}'
    leftover.write_bytes(b'half a checkpoint')
    _runner(tmp_path, max_iters=1).train()
    assert not leftover.exists()


def test_resume_restores_rng_state_but_load_from_does_not(tmp_path):
    _runner(tmp_path, max_iters=2).train()
    saved = load_checkpoint_safely(tmp_path / 'iter_2.pth')[RNG_STATE_KEY]['cpu']

    probe = RecordRNGHook()
    _runner(tmp_path / 'resumed', max_iters=3, resume=True,
            load_from=str(tmp_path / 'iter_2.pth'),
            custom_hooks=[probe]).train()
    assert torch.equal(probe.state, saved)

    probe = RecordRNGHook()
    _runner(tmp_path / 'finetuned', max_iters=1,
            load_from=str(tmp_path / 'iter_2.pth'),
            custom_hooks=[probe]).train()
    assert not torch.equal(probe.state, saved)
