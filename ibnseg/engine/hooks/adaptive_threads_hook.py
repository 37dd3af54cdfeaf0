"""Training threads that follow the CPU other processes leave free."""
import time
from typing import Optional

import torch
from mmengine.hooks import Hook

from mmseg.registry import HOOKS
from ..cpu import OtherCpuLoad, available_cores, threads_for_load


@HOOKS.register_module()
class AdaptiveThreadsHook(Hook):
    """Every ``interval`` (default 20) training iterations, give torch the
    CPU cores the other processes left free since the last check, at most
    ``cores`` (default: those this process may run on); nothing on a GPU or
    without ``/proc/stat``."""
    priority = 'VERY_LOW'

    def __init__(self, interval: int = 20, cores: Optional[int] = None):
        if not isinstance(interval, int) or interval < 1:
            raise ValueError(
                f'AdaptiveThreadsHook: interval must be an int >= 1, got '
                f'{interval!r}')
        self.interval = interval
        self.cores = cores or available_cores()
        self.load: Optional[OtherCpuLoad] = None
        self.history = []  # (iteration, other load, threads) per check

    def before_train(self, runner) -> None:
        self.load = OtherCpuLoad()
        # a first look over a short window: the load the run starts into
        time.sleep(0.2)
        self._adapt(runner, runner.iter)

    def after_train_iter(self, runner, batch_idx, data_batch=None,
                         outputs=None) -> None:
        if (runner.iter + 1) % self.interval == 0:
            self._adapt(runner, runner.iter + 1)

    def _adapt(self, runner, iteration: int) -> None:
        if self.load is None or _on_gpu(runner):
            return
        other = self.load.sample()
        if other is None:
            return
        threads = threads_for_load(self.cores, other)
        if threads != torch.get_num_threads():
            runner.logger.info(
                f'other processes use {other:.1f} of {self.cores} cores: '
                f'training with {threads} thread(s)')
            torch.set_num_threads(threads)
        self.history.append((iteration, other, threads))


def _on_gpu(runner) -> bool:
    try:
        return next(runner.model.parameters()).is_cuda
    except (StopIteration, AttributeError):
        return False
