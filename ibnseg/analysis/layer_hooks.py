"""Find a ResNet-style backbone's residual layers and record their outputs.

Works for any model whose backbone follows mmseg's ``ResNet`` layout (mmseg
``ResNet``/``ResNetV1c``/``ResNetV1d``/``ResNeXt``, ibnseg's ``IBNResNet``
family): stages listed in ``backbone.res_layers`` or, failing that, children
named ``layer1``, ``layer2``, ..., each stage a sequence of residual blocks.
"""
import re
from collections import OrderedDict
from typing import Dict

import torch
from torch import nn

from .divergence import ChannelMeanStats

__all__ = ['LAYER_LEVELS', 'get_backbone', 'find_residual_layers',
           'ChannelStatsRecorder']

#: ``'block'``: every residual block (``layerX.i``); ``'stage'``: every stage
#: (``layerX``, i.e. the output of its last block).
LAYER_LEVELS = ('block', 'stage')

_STAGE_NAME = re.compile(r'^layer(\d+)$')


def get_backbone(model: nn.Module) -> nn.Module:
    """``model.backbone`` for a segmentor, else the model itself."""
    backbone = getattr(model, 'backbone', None)
    return backbone if isinstance(backbone, nn.Module) else model


def _stage_names(backbone: nn.Module) -> list:
    names = list(getattr(backbone, 'res_layers', None) or [])
    if names:
        return names
    numbered = [(int(match.group(1)), name)
                for name, _ in backbone.named_children()
                if (match := _STAGE_NAME.match(name))]
    return [name for _, name in sorted(numbered)]


def find_residual_layers(model: nn.Module,
                         level: str = 'block') -> Dict[str, nn.Module]:
    """The backbone's residual blocks or stages, in forward order.

    Args:
        model (nn.Module): A segmentor with a ``backbone`` or a backbone.
        level (str): One of :data:`LAYER_LEVELS`.

    Returns:
        OrderedDict[str, nn.Module]: ``'layer1.0'``, ``'layer1.1'``, ... for
        blocks; ``'layer1'``, ... for stages (names relative to the backbone).
    """
    if level not in LAYER_LEVELS:
        raise ValueError(
            f'level must be one of {LAYER_LEVELS}, got {level!r}')
    backbone = get_backbone(model)
    stage_names = _stage_names(backbone)
    if not stage_names:
        raise ValueError(
            f'{type(backbone).__name__} has no residual stages: expected a '
            '`res_layers` list or children named layer1, layer2, ... '
            '(the layout of mmseg ResNet backbones)')
    layers = OrderedDict()
    for stage_name in stage_names:
        stage = getattr(backbone, stage_name)
        if level == 'stage':
            layers[stage_name] = stage
            continue
        blocks = list(stage.named_children())
        if not blocks:
            raise ValueError(f'{type(backbone).__name__}.{stage_name} has no '
                             'blocks to hook; use level="stage"')
        for block_name, block in blocks:
            layers[f'{stage_name}.{block_name}'] = block
    return layers


class ChannelStatsRecorder:
    """Forward hooks that fold each layer's output into ChannelMeanStats.

    Use as a context manager: hooks are registered on enter and removed on
    exit. Within it, ``record_into(stats)`` selects the dict (layer name ->
    :class:`ChannelMeanStats`) that the next forward passes update; with no
    target selected the hooks do nothing. Each output is pooled to per-image
    channel means inside the hook, so no feature map outlives its layer.

    Args:
        layers (dict[str, nn.Module]): Layers to hook, e.g. from
            :func:`find_residual_layers`.
    """

    def __init__(self, layers: Dict[str, nn.Module]):
        self.layers = layers
        self._target = None
        self._handles = []

    def record_into(self, stats: Dict[str, ChannelMeanStats]) -> None:
        missing = set(self.layers) - set(stats)
        if missing:
            raise KeyError(f'no ChannelMeanStats for layers {sorted(missing)}')
        self._target = stats

    def _make_hook(self, name: str):

        def hook(module, inputs, output):
            if self._target is None:
                return
            if not isinstance(output, torch.Tensor):
                raise TypeError(
                    f'layer {name} returned {type(output).__name__}; feature '
                    'statistics need a tensor output shaped (N, C, H, W)')
            self._target[name].update(output)

        return hook

    def __enter__(self):
        self._handles = [
            module.register_forward_hook(self._make_hook(name))
            for name, module in self.layers.items()
        ]
        return self

    def __exit__(self, *exc_info):
        for handle in self._handles:
            handle.remove()
        self._handles = []
        self._target = None
