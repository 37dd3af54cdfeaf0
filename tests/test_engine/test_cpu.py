"""CPU threads and allocator (ibnseg/engine/cpu.py, AdaptiveThreadsHook)."""
import os
import time
from types import SimpleNamespace

import pytest
import torch
from mmengine.logging import MMLogger
from mmseg.registry import HOOKS

from ibnseg.engine import cpu
from ibnseg.engine.cpu import OtherCpuLoad, available_cores, threads_for_load
from ibnseg.engine.hooks import AdaptiveThreadsHook


@pytest.mark.parametrize('cores, other, threads', [
    (2, 0.0, 2), (2, 0.4, 2), (2, 0.6, 1), (2, 1.0, 1), (2, 3.0, 1),
    (8, 2.0, 6), (8, 0.0, 8), (1, 0.0, 1)])
def test_threads_leave_the_others_their_cores(cores, other, threads):
    assert threads_for_load(cores, other) == threads


def test_available_cores_is_the_affinity_mask(monkeypatch):
    monkeypatch.setattr(os, 'sched_getaffinity', lambda pid: {0, 3})
    assert available_cores() == 2


def test_other_load_is_the_machines_busy_time_less_this_processs(
        tmp_path, monkeypatch):
    """A fake /proc/stat and clocks: the real machine's load includes
    whatever else runs on it, which no assertion can foresee."""
    stat, clock = tmp_path / 'stat', SimpleNamespace(wall=0.0, own=0.0)
    monkeypatch.setattr(cpu.OtherCpuLoad, 'STAT', str(stat))
    monkeypatch.setattr(cpu, 'time', SimpleNamespace(
        monotonic=lambda: clock.wall, process_time=lambda: clock.own))

    def machine(user, system, idle, iowait, wall, own):
        # cpu user nice system idle iowait irq softirq steal guest (ticks)
        stat.write_text(f'cpu  {user} 0 {system} {idle} {iowait} 0 0 0 9\n')
        clock.wall, clock.own = wall, own

    machine(user=100, system=50, idle=900, iowait=20, wall=10, own=1)
    load = OtherCpuLoad()
    tick = load._tick
    # 3 s busy in 2 s (1 of them this process's), waiting on I/O is idle
    machine(100 + 2 * tick, 50 + tick, 900 + tick, 20 + 5 * tick, 12, 2)
    assert load.sample() == pytest.approx(1.0)
    machine(100 + 3 * tick, 50 + tick, 900 + tick, 20 + 5 * tick, 13, 4)
    assert load.sample() == 0.0  # own time past the busy time: no others
    assert load.sample() is None  # no time has passed
    stat.unlink()
    assert load.sample() is None  # not Linux


def test_hook_follows_the_other_load(monkeypatch):
    threads = torch.get_num_threads()
    try:
        hook = AdaptiveThreadsHook(interval=10, cores=2)
        runner = SimpleNamespace(iter=0, model=torch.nn.Linear(1, 1),
                                 logger=MMLogger.get_current_instance())
        monkeypatch.setattr(time, 'sleep', lambda seconds: None)
        monkeypatch.setattr(
            'ibnseg.engine.hooks.adaptive_threads_hook.OtherCpuLoad',
            lambda: SimpleNamespace(sample=iter([0.1, 1.2, 0.0]).__next__))
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
