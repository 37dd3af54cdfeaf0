"""mmseg's visualization hook with pictures named by domain (one file name in
two domains would otherwise paint one picture over the other)."""
import logging
import os.path as osp
from typing import Sequence

import mmcv
from mmengine import fileio
from mmengine.logging import print_log
from mmseg.engine.hooks import SegVisualizationHook
from mmseg.registry import HOOKS
from mmseg.structures import SegDataSample

from ..runner_state import built_train_loop


def picture_name(mode: str, data_sample: SegDataSample) -> str:
    """``<mode>_<domain>_<image file name>``, or mmseg's
    ``<mode>_<image file name>`` for a sample without a domain."""
    name = osp.basename(data_sample.img_path)
    domain = data_sample.get('domain')
    return f'{mode}_{name}' if domain is None else f'{mode}_{domain}_{name}'


def _current_iter(runner) -> int:
    """``runner.iter`` without building the training loop (and dataset)."""
    loop = built_train_loop(runner)
    return 0 if loop is None else loop.iter


@HOOKS.register_module()
class DomainSegVisualizationHook(SegVisualizationHook):
    """mmseg's ``SegVisualizationHook`` (same arguments) naming pictures
    ``<mode>_<domain>_<file name>`` (:func:`picture_name`). An evaluation of
    fewer batches than ``interval`` paints its last batch, with a warning,
    instead of nothing; :attr:`painted` counts the last one's pictures."""

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        self.painted = 0
        self._every = self.interval  # the interval of this evaluation

    def _fit_interval(self, loader, mode: str) -> None:
        self.painted, self._every = 0, self.interval
        total = len(loader)
        if self.draw and 0 < total < self.interval:
            self._every = total
            print_log(
                f'{mode}: {total} batches, fewer than the visualization '
                f'interval {self.interval} '
                '(default_hooks.visualization.interval): painting the last '
                'batch', logger='current', level=logging.WARNING)

    def before_val_epoch(self, runner) -> None:
        self._fit_interval(runner.val_dataloader, 'val')

    def before_test_epoch(self, runner) -> None:
        self._fit_interval(runner.test_dataloader, 'test')

    def _after_iter(self,
                    runner,
                    batch_idx: int,
                    data_batch: dict,
                    outputs: Sequence[SegDataSample],
                    mode: str = 'val') -> None:
        if self.draw is False or mode == 'train':
            return
        if not self.every_n_inner_iters(batch_idx, self._every):
            return
        step = _current_iter(runner)
        for output in outputs:
            img_bytes = fileio.get(
                output.img_path, backend_args=self.backend_args)
            img = mmcv.imfrombytes(img_bytes, channel_order='rgb')
            self._visualizer.add_datasample(
                picture_name(mode, output),
                img,
                data_sample=output,
                show=self.show,
                wait_time=self.wait_time,
                step=step)
            self.painted += 1
