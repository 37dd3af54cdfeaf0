"""mmseg's visualization hook, with pictures named by domain.

``tools/test.py --show-dir`` draws predictions with mmseg's
``SegVisualizationHook``, which names each picture ``<mode>_<image file
name>``; mmengine's ``LocalVisBackend`` saves it as ``<name>_<step>.png``,
the step being the training iteration (0 in ``tools/test.py``). A cross-domain
test set can hold the same file name in two domains (a domain and the same
images under an appearance shift, or two datasets numbering their frames
alike), and the later picture would overwrite the earlier one.
"""
import os.path as osp
from typing import Sequence

import mmcv
from mmengine import fileio
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
    """mmseg's ``SegVisualizationHook`` (same arguments and drawing) that
    puts the sample's domain (``metainfo['domain']``, see
    ``PackDomainSegInputs``) into the picture's name, so pictures of
    different domains never overwrite each other, e.g.
    ``test_gta5_00001.png_0.png``. ``tools/test.py --show/--show-dir`` uses
    it in place of ``SegVisualizationHook``.
    """

    def _after_iter(self,
                    runner,
                    batch_idx: int,
                    data_batch: dict,
                    outputs: Sequence[SegDataSample],
                    mode: str = 'val') -> None:
        if self.draw is False or mode == 'train':
            return
        if not self.every_n_inner_iters(batch_idx, self.interval):
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
