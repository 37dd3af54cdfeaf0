"""CPU threads and allocator (ibnseg/engine/cpu.py, AdaptiveThreadsHook)."""
import os
import subprocess
import sys
import time
from types import SimpleNamespace

import pytest
import torch
from mmengine.logging import MMLogger
from mmseg.registry import HOOKS

from ibnseg.engine.cpu import OtherCpuLoad, available_cores, threads_for_load
from ibnseg.engine.hooks import AdaptiveThreadsHook

linux_only = pytest.mark.skipif(not sys.platform.startswith('linux'),
                                reason='reads /proc/stat')


@pytest.mark.parametrize('cores, other, threads', [
    (2, 0.0, 2), (2, 0.4, 2), (2, 0.6, 1), (2, 1.0, 1), (2, 3.0, 1),
    (8, 2.0, 6), (8, 0.0, 8), (1, 0.0, 1)])
def test_threads_leave_the_others_their_cores(cores, other, threads):
    assert threads_for_load(cores, other) == threads


def test_available_cores_is_the_affinity_mask(monkeypatch):
    monkeypatch.setattr(os, 'sched_getaffinity', lambda pid: {0, 3})
    assert available_cores() == 2


@pytest.mark.slow
@linux_only
def test_other_load_counts_other_processes_not_this_one():
    load = OtherCpuLoad()
    end = time.monotonic() + 0.6
    while time.monotonic() < end:  # this process is busy: not "other"
        pass
    assert load.sample() < 0.5
    spinner = subprocess.Popen([sys.executable, '-c', 'while True: pass'])
    try:
        time.sleep(0.3)  # let it start
        load.sample()
        time.sleep(0.8)
        assert load.sample() > 0.6
    finally:
        spinner.kill()
        spinner.wait()


def _runner(iteration=0):
    return SimpleNamespace(iter=iteration, model=torch.nn.Linear(1, 1),
                           logger=MMLogger.get_current_instance())


class FakeLoad:
    def __init__(self, values):
        self.values = list(values)

    def sample(self):
        return self.values.pop(0)


def test_hook_follows_the_other_load(monkeypatch):
    threads = torch.get_num_threads()
    try:
        hook = AdaptiveThreadsHook(interval=10, cores=2)
        runner = _runner()
        monkeypatch.setattr(time, 'sleep', lambda seconds: None)
        monkeypatch.setattr(
            'ibnseg.engine.hooks.adaptive_threads_hook.OtherCpuLoad',
            lambda: FakeLoad([0.1, 1.2, 0.0]))
        hook.before_train(runner)
        assert torch.get_num_threads() == 2
        for it in range(20):  # checks after iterations 10 and 20
            runner.iter = it
            hook.after_train_iter(runner, it)
            if it == 9:
                assert torch.get_num_threads() == 1  # another process came
        assert torch.get_num_threads() == 2  # and went
        assert [(i, t) for i, _, t in hook.history] == [
            (0, 2), (10, 1), (20, 2)]
    finally:
        torch.set_num_threads(threads)


def test_hook_is_registered_and_refuses_a_bad_interval():
    with pytest.raises(ValueError, match='AdaptiveThreadsHook: interval must '
                       'be an int >= 1, got 0'):
        HOOKS.build(dict(type='AdaptiveThreadsHook', interval=0))
