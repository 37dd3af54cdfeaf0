"""Segment images with an exported ONNX file in onnxruntime, without the
PyTorch model: ``tools/infer.py --backend onnxruntime``.
"""
import copy
import json
from typing import List

import torch
import torch.nn.functional as F
from mmengine.config import Config
from mmengine.registry import init_default_scope
from mmengine.structures import PixelData
from mmseg.structures import SegDataSample

from .onnx_export import INPUT_NAME, META_PREFIX, ExportError, onnx_session

__all__ = ['BACKENDS', 'OnnxModelError', 'OnnxSegmentor']

#: What runs the model in ``tools/infer.py``.
BACKENDS = ('pytorch', 'onnxruntime')


class OnnxModelError(ValueError):
    """An ONNX file that onnxruntime cannot load, or that was not exported
    by ``tools/pytorch2onnx.py`` for the config's classes."""


class OnnxSegmentor:
    """A ``tools/pytorch2onnx.py`` file run by onnxruntime on the CPU, with
    what ``inference_model`` and :func:`ibnseg.apis.segment_images` use of a
    segmentor (``cfg``, ``dataset_meta``, ``test_step``).

    Args:
        onnx_file (str): The exported file.
        cfg (Config): The model's config (its ``test_pipeline``).
        dataset_meta (dict): Classes and palette.

    Raises:
        OnnxModelError: See the class; the message names the file.
    """

    def __init__(self, onnx_file: str, cfg: Config, dataset_meta: dict):
        try:
            self.session = onnx_session(onnx_file)
        except ExportError as error:
            raise OnnxModelError(str(error)) from None
        props = {
            key[len(META_PREFIX):]: value for key, value in
            self.session.get_modelmeta().custom_metadata_map.items()
            if key.startswith(META_PREFIX)
        }
        if 'output' not in props:
            raise OnnxModelError(
                f'{onnx_file}: no ibnseg metadata; export the model with '
                'tools/pytorch2onnx.py, which records what the graph takes '
                'and gives')
        classes = json.loads(props.get('classes', 'null'))
        if classes is not None and tuple(classes) != tuple(
                dataset_meta['classes']):
            raise OnnxModelError(
                f'{onnx_file}: exported for {len(classes)} classes '
                f'({props.get("config", "another config")}) but the config '
                f'{cfg.filename} has {len(dataset_meta["classes"])} '
                f'({", ".join(dataset_meta["classes"][:3])}, ...)')
        self.onnx_file = onnx_file
        self.labels_out = props['output'] == 'labels'
        self.align_corners = json.loads(props.get('align_corners', 'false'))
        self.cfg = copy.deepcopy(cfg)  # inference_model edits its pipeline
        # the pipeline's transforms live in the config's scope (as
        # init_model arranges for the PyTorch model)
        init_default_scope(cfg.get('default_scope', 'mmseg'))
        self.dataset_meta = dataset_meta

    def test_step(self, data: dict) -> List[SegDataSample]:
        """mmseg's preprocessor, network and ``postprocess_result`` for a
        batch of one size (BGR uint8); the graph takes RGB."""
        images = torch.stack(data['inputs']).flip(1).float()
        output = torch.from_numpy(
            self.session.run(None, {INPUT_NAME: images.numpy()})[0])
        results = []
        for i, sample in enumerate(data['data_samples']):
            size = sample.metainfo['ori_shape'][:2]
            if self.labels_out:
                # labels resize as labels (nearest); logits before argmax
                pred = F.interpolate(
                    output[i:i + 1, None].float(), size=size,
                    mode='nearest')[0].long()
            else:
                logits = F.interpolate(
                    output[i:i + 1].float(), size=size, mode='bilinear',
                    align_corners=self.align_corners)[0]
                pred = logits.argmax(dim=0, keepdim=True)
            result = SegDataSample(metainfo=sample.metainfo)
            result.pred_sem_seg = PixelData(data=pred)
            results.append(result)
        return results
