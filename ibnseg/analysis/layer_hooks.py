"""Find a ResNet-style backbone's residual layers and record their outputs:
stages listed in ``backbone.res_layers`` (mmseg's ResNets, ibnseg's
IBNResNet family) or, failing that, children named ``layer1``, ``layer2``,
..., each stage a sequence of residual blocks."""
import re
from collections import OrderedDict
from typing import Dict

import torch
from torch import nn

from .divergence import ChannelMeanStats

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
    """The residual blocks (``'layer1.0'``, ...) or stages (``'layer1'``,
    ...) of a segmentor's backbone or of a backbone, in forward order;
    ``level`` is one of :data:`LAYER_LEVELS`."""
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
    """Forward hooks folding each layer's output into ``stats`` (layer name
    -> a new :class:`ChannelMeanStats`), pooled inside the hook so that no
    feature map outlives its layer; registered on ``with``, removed on
    exit."""

    def __init__(self, layers: Dict[str, nn.Module]):
        self.layers = layers
        self.stats = {name: ChannelMeanStats() for name in layers}
        self._handles = []

    def _make_hook(self, name: str):

        def hook(module, inputs, output):
            if not isinstance(output, torch.Tensor):
                raise TypeError(
                    f'layer {name} returned {type(output).__name__}; feature '
                    'statistics need a tensor output shaped (N, C, H, W)')
            self.stats[name].update(output)

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
