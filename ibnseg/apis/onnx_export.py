"""Export a segmentor to ONNX and check the file against PyTorch: the
library behind ``tools/pytorch2onnx.py``. The graph is
:class:`SegmentorForExport`'s; the test pipeline's resize stays outside
(``ibnseg.apis.onnx_inference``). An exporter can fix a dynamic size
silently, so :func:`export_onnx` refuses a fixed input and
:func:`verify_onnx` runs a second size.
"""
import copy
import io
import json
import os.path as osp
from dataclasses import dataclass
from typing import List, Optional, Sequence, Tuple

import numpy as np
import torch
import torch.nn as nn
import torch.nn.functional as F
from mmengine.config import Config

from ..engine.fileio import atomic_write

__all__ = [
    'EXPORTERS', 'ExportError', 'ParityResult', 'SegmentorForExport',
    'check_exportable', 'export_onnx', 'import_onnx_package',
    'onnx_session', 'second_shape', 'verify_onnx'
]

#: ``torch.onnx.export(dynamo=True)`` or the legacy TorchScript exporter.
EXPORTERS = ('dynamo', 'torchscript')

#: Prefix of the file's ``metadata_props`` that onnx_inference reads.
META_PREFIX = 'ibnseg.'

INPUT_NAME = 'image'


class ExportError(ValueError):
    """A model that cannot be exported, or an export that failed or came
    out wrong; the message says why in one line."""


def import_onnx_package(name: str):
    """``onnx`` or ``onnxruntime`` (test dependencies), or an
    :class:`ExportError` that says how to install it."""
    import importlib
    try:
        return importlib.import_module(name)
    except ImportError:
        raise ExportError(
            f'{name} is not installed: pip install -r requirements/tests.txt '
            '(the ONNX packages ibnseg is tested with)') from None


def onnx_session(onnx_file: str):
    """An onnxruntime CPU session of ``onnx_file``, or an ExportError."""
    ort = import_onnx_package('onnxruntime')
    try:
        return ort.InferenceSession(onnx_file,
                                    providers=['CPUExecutionProvider'])
    except Exception as error:  # onnxruntime raises its own types
        raise ExportError(
            f'{onnx_file}: onnxruntime cannot load it: '
            f'{str(error).strip().splitlines()[0]}') from None


@dataclass(frozen=True)
class ParityResult:
    """onnxruntime against PyTorch on one (N, 3, H, W) batch: the largest
    absolute logit difference (NaN for a labels graph), that over the
    largest absolute logit (element-wise ratios blow up near zero), and the
    fraction of pixels whose argmax agrees."""
    shape: Tuple[int, ...]
    max_abs: float
    max_rel: float
    agreement: float

    def describe(self) -> str:
        n, _, h, w = self.shape
        errors = '' if np.isnan(self.max_abs) else (
            f'max abs error {self.max_abs:.3g}, max rel error '
            f'{self.max_rel:.3g}, ')
        return (f'{h}x{w} batch {n}: {errors}argmax agreement '
                f'{100 * self.agreement:.3f}%')


def check_exportable(cfg: Config) -> None:
    """Raise :class:`ExportError` unless ``cfg``'s model is one the graph
    computes exactly: an ``EncoderDecoder`` in whole-image test mode,
    without test-time padding, with a logit per class."""
    model = cfg.get('model') or {}
    where = f'config {cfg.filename}'
    if model.get('type') != 'EncoderDecoder':
        raise ExportError(
            f'{where}: model type {model.get("type")!r}; the exporter '
            'handles EncoderDecoder (one decode head; the auxiliary head is '
            'left out as in inference)')
    mode = (model.get('test_cfg') or {}).get('mode', 'whole')
    if mode != 'whole':
        raise ExportError(
            f'{where}: model.test_cfg.mode={mode!r}; only whole-image '
            'inference is exported (a sliding window stays outside the '
            "graph): pass --cfg-options model.test_cfg.mode=whole")
    preprocessor = model.get('data_preprocessor') or {}
    if preprocessor.get('test_cfg'):
        raise ExportError(
            f'{where}: data_preprocessor.test_cfg pads test images '
            f'({preprocessor["test_cfg"]}); the exported graph does not pad')
    heads = model.get('decode_head')
    if isinstance(heads, (list, tuple)):
        raise ExportError(f'{where}: a list of decode heads (a cascade); '
                          'one decode head is exported')
    if (heads or {}).get('out_channels', 2) == 1 or \
            (heads or {}).get('num_classes', 2) == 1:
        raise ExportError(f'{where}: a one-channel (sigmoid) decode head; '
                          'the exporter handles heads with a logit per class')


class SegmentorForExport(nn.Module):
    """An ``EncoderDecoder`` from images (``image``: float32 N x 3 x H x W,
    RGB, 0-255), normalised as its ``data_preprocessor`` does, to logits
    at the input size (N x C x H x W) or labels (int64 N x H x W).

    Args:
        segmentor (EncoderDecoder): In eval mode, on the CPU.
        with_argmax (bool): Output the argmax over classes (int64).
        fp16 (bool): The network takes float16 (converted by
            :func:`half_but_instance_norm`); input and logits stay float32.
    """

    def __init__(self, segmentor, with_argmax=False, fp16=False):
        super().__init__()
        preprocessor = segmentor.data_preprocessor
        self.segmentor = segmentor
        # the preprocessor flips mmcv's BGR; a model trained without the
        # flip takes BGR
        self.rgb_to_model = not getattr(preprocessor, 'channel_conversion',
                                        False)
        normalize = getattr(preprocessor, '_enable_normalize', False)
        mean = preprocessor.mean if normalize else torch.zeros(3, 1, 1)
        std = preprocessor.std if normalize else torch.ones(3, 1, 1)
        self.register_buffer('mean', mean.float().reshape(1, 3, 1, 1).clone())
        self.register_buffer('std', std.float().reshape(1, 3, 1, 1).clone())
        self.align_corners = bool(segmentor.decode_head.align_corners)
        self.with_argmax = with_argmax
        self.fp16 = fp16

    def forward(self, image):
        if self.rgb_to_model:
            image = image.flip(1)
        x = (image - self.mean) / self.std
        if self.fp16:
            x = x.half()
        logits = self.segmentor.decode_head(self.segmentor.extract_feat(x))
        # mmseg's decode_head.predict_by_feat: back to the input's size
        logits = F.interpolate(
            logits.float(), size=image.shape[2:], mode='bilinear',
            align_corners=self.align_corners)
        return logits.argmax(1) if self.with_argmax else logits


def half_but_instance_norm(segmentor: nn.Module) -> int:
    """Convert ``segmentor`` to float16 except its outermost IBN,
    ParallelIBN and InstanceNorm2d modules (whole IBN layers: the fused path
    computes both halves), which stay float32 and cast around themselves:
    a variance over a whole feature map overflows or loses its small terms
    in float16. Returns how many modules were kept."""
    from ..models.layers.ibn import IBN, ParallelIBN
    kinds = (IBN, ParallelIBN, nn.InstanceNorm2d)
    kept = [m for name, m in segmentor.named_modules()
            if isinstance(m, kinds) and not isinstance(
                segmentor.get_submodule(name.rpartition('.')[0]), kinds)]
    segmentor.half()
    for module in kept:
        module.float()
        module.register_forward_pre_hook(
            lambda m, args: tuple(a.float() for a in args))
        module.register_forward_hook(lambda m, args, out: out.half())
    return len(kept)


def _export_proto(wrapper: nn.Module, example: torch.Tensor, exporter: str,
                  dynamic: bool, opset: Optional[int], output_name: str):
    onnx = import_onnx_package('onnx')
    if exporter == 'dynamo':
        from torch.export import Dim
        dynamic_shapes = {INPUT_NAME: {0: Dim.DYNAMIC, 2: Dim.DYNAMIC,
                                       3: Dim.DYNAMIC}} if dynamic else None
        program = torch.onnx.export(
            wrapper, (example, ), dynamo=True, input_names=[INPUT_NAME],
            output_names=[output_name], dynamic_shapes=dynamic_shapes,
            opset_version=opset, verbose=False)
        return program.model_proto
    axes = {0: 'batch', 2: 'height', 3: 'width'}
    out_axes = {0: 'batch', 1: 'height', 2: 'width'} if \
        output_name == 'labels' else axes
    buffer = io.BytesIO()
    torch.onnx.export(
        wrapper, (example, ), buffer, dynamo=False, input_names=[INPUT_NAME],
        output_names=[output_name],
        dynamic_axes={INPUT_NAME: axes, output_name: out_axes}
        if dynamic else None,
        opset_version=opset if opset is not None else 17,
        # torch 2.13 merges equal initializers (an untrained IBN-a's IN
        # weights) but leaves nodes naming the merged ones, which onnxruntime
        # refuses; initializers as inputs skip that pass (undone below)
        keep_initializers_as_inputs=True)
    proto = onnx.load_from_string(buffer.getvalue())
    initializers = {init.name for init in proto.graph.initializer}
    inputs = [i for i in proto.graph.input if i.name not in initializers]
    del proto.graph.input[:]
    proto.graph.input.extend(inputs)
    return proto


def _fixed_input_dims(proto) -> List[str]:
    dims = proto.graph.input[0].type.tensor_type.shape.dim
    return [f'{name} {dim.dim_value}'
            for name, dim in zip(('batch', '', 'height', 'width'), dims)
            if name and dim.HasField('dim_value')]


def export_onnx(segmentor, output_file: str, shape: Sequence[int],
                exporter: str = 'dynamo', dynamic: bool = True,
                with_argmax: bool = False, fp16: bool = False,
                opset: Optional[int] = None,
                metadata: Optional[dict] = None) -> dict:
    """Write :class:`SegmentorForExport`'s graph of ``segmentor`` (eval, CPU,
    not modified) to ``output_file`` atomically; return the metadata written.
    :class:`ExportError`: the exporter failed or fixed a dynamic size.

    Args:
        shape (Sequence[int]): (H, W) of the example image.
        exporter (str): One of :data:`EXPORTERS`.
        dynamic (bool): Batch, height and width dynamic, else 1 x H x W.
        with_argmax (bool): Output labels instead of logits.
        fp16 (bool): See :class:`SegmentorForExport`.
        opset (int, optional): Default: dynamo's own, 17 for torchscript.
        metadata (dict, optional): More ``metadata_props``.
    """
    if exporter not in EXPORTERS:
        raise ExportError(f'exporter {exporter!r}: expected one of '
                          f'{EXPORTERS}')
    onnx = import_onnx_package('onnx')
    if fp16:
        segmentor = copy.deepcopy(segmentor)
        half_but_instance_norm(segmentor)
    wrapper = SegmentorForExport(segmentor, with_argmax, fp16).eval()
    output_name = 'labels' if with_argmax else 'logits'
    example = torch.rand(1, 3, *shape) * 255
    try:
        with torch.no_grad():
            proto = _export_proto(wrapper, example, exporter, dynamic, opset,
                                  output_name)
    except Exception as error:  # the exporters raise many types
        first = (str(error).strip().splitlines() or [''])[0]
        other = [e for e in EXPORTERS if e != exporter][0]
        raise ExportError(
            f'the {exporter} exporter failed: {type(error).__name__}: '
            f'{first} (try --exporter {other}; see docs/deployment.md)'
        ) from error
    fixed = _fixed_input_dims(proto) if dynamic else []
    if fixed:
        raise ExportError(
            f'the {exporter} exporter fixed {", ".join(fixed)} of the input '
            'that was to be dynamic (something in the model guards on the '
            'size); export with --static, or try the other exporter')
    props = {
        'input': f'{INPUT_NAME}: float32 N x 3 x H x W, RGB, 0-255; '
        'normalised inside',
        'output': output_name,
        'align_corners': json.dumps(wrapper.align_corners),
        'dynamic': json.dumps(dynamic),
        'fp16': json.dumps(fp16),
        'exporter': exporter,
        'example_shape': json.dumps(list(shape)),
    }
    props.update(metadata or {})
    props = {META_PREFIX + k: str(v) for k, v in props.items()}
    onnx.helper.set_model_props(proto, props)
    atomic_write(output_file, proto.SerializeToString())
    return props


def second_shape(shape: Sequence[int]) -> Tuple[int, int]:
    """3/4 of the height and 5/8 of the width, multiples of 8 (at least 32):
    a second size that changes both sides and the aspect ratio."""
    h, w = shape
    return (max(32, 3 * h // 4 // 8 * 8), max(32, 5 * w // 8 // 8 * 8))


def verify_onnx(onnx_file: str, reference: nn.Module,
                shapes: Sequence[Tuple[int, int, int]],
                seed: int = 0) -> List[ParityResult]:
    """A :class:`ParityResult` per (N, H, W) in ``shapes``: ``onnx_file``
    in onnxruntime against ``reference`` (a float32 logits
    :class:`SegmentorForExport`) on random images from ``seed``; an
    :class:`ExportError` names a size onnxruntime fails on."""
    session = onnx_session(onnx_file)
    generator = torch.Generator().manual_seed(seed)
    results = []
    for n, h, w in shapes:
        image = torch.rand(n, 3, h, w, generator=generator) * 255
        with torch.no_grad():
            expected = reference(image).numpy()
        try:
            got = session.run(None, {INPUT_NAME: image.numpy()})[0]
        except Exception as error:
            raise ExportError(
                f'{osp.basename(onnx_file)} fails in onnxruntime on a '
                f'{h}x{w} batch of {n}: {str(error).strip().splitlines()[0]}'
            ) from error
        labels = expected.argmax(1)
        if got.ndim == 3:  # labels
            results.append(ParityResult(
                image.shape, float('nan'), float('nan'),
                float((got == labels).mean())))
            continue
        diff = float(np.abs(got.astype(np.float64) - expected).max())
        scale = float(np.abs(expected).max()) or 1.0
        results.append(ParityResult(image.shape, diff, diff / scale,
                                    float((got.argmax(1) == labels).mean())))
    return results
