"""Test-only hooks that let a test watch or pace a training run that runs
in another process (configs import this module with ``custom_imports``)."""
import os
import os.path as osp
import time

import torch
import torch.distributed as torch_dist
from mmengine.hooks import Hook
from mmengine.model import is_model_wrapper

from mmseg.registry import HOOKS


@HOOKS.register_module()
class SaveRankWeightsHook(Hook):
    """Write ``<out_dir>/rank<r>.pth``: the rank's parameters, world size,
    process-group backend and model wrapper type.

    Args:
        out_dir (str): Folder for the files.
    """

    def __init__(self, out_dir: str):
        self.out_dir = out_dir

    def after_train(self, runner) -> None:
        model = runner.model.module if is_model_wrapper(runner.model) \
            else runner.model
        os.makedirs(self.out_dir, exist_ok=True)
        torch.save(
            dict(
                world_size=runner.world_size,
                backend=torch_dist.get_backend()
                if torch_dist.is_initialized() else None,
                wrapper=type(runner.model).__name__,
                params={name: p.detach().clone()
                        for name, p in model.named_parameters()}),
            osp.join(self.out_dir, f'rank{runner.rank}.pth'))


@HOOKS.register_module()
class SlowDownHook(Hook):
    """Sleep after every training iteration, so that a test can reliably
    kill a run between two checkpoints however fast the machine is.

    Args:
        seconds (float): Pause after each iteration.
    """

    def __init__(self, seconds: float):
        self.seconds = seconds

    def after_train_iter(self, runner, batch_idx, data_batch=None,
                         outputs=None) -> None:
        time.sleep(self.seconds)
