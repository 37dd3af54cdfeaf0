"""DenseNet and DenseNet-IBN-a (IBN-Net's DenseNet placement) as an mmseg
backbone: multi-scale outputs and a dilated mode for segmentation."""
from collections import OrderedDict

import torch
import torch.nn as nn
import torch.nn.functional as F
import torch.utils.checkpoint as cp
from mmcv.cnn import build_conv_layer, build_norm_layer
from mmengine.model import BaseModule
from mmseg.registry import MODELS
from torch.nn.modules.batchnorm import _BatchNorm

from ..arg_checks import (check_bool, check_bools, check_choice, check_dict,
                          check_int, check_ints, check_number)
from ..layers import IBN, InstanceNormSizeError, spatial_size
from .ibn_resnet import _ibn_init_cfg


class DenseLayer(nn.Module):
    """torchvision's ``_DenseLayer`` (norm1, relu1, 1x1 conv1, norm2, relu2,
    3x3 conv2 dilated by ``dilation``) on the concatenation of the block's
    earlier maps, with ``norm1`` given (BN or IBN); ``with_cp`` recomputes
    the concatenation and bottleneck in backward."""

    def __init__(self, in_channels, growth_rate, bn_size, dilation, norm1,
                 conv_cfg, norm_cfg, with_cp):
        super().__init__()
        width = bn_size * growth_rate
        self.norm1 = norm1
        self.relu1 = nn.ReLU(inplace=True)
        self.conv1 = build_conv_layer(
            conv_cfg, in_channels, width, kernel_size=1, bias=False)
        self.norm2 = build_norm_layer(norm_cfg, width)[1]
        self.relu2 = nn.ReLU(inplace=True)
        self.conv2 = build_conv_layer(
            conv_cfg, width, growth_rate, kernel_size=3, padding=dilation,
            dilation=dilation, bias=False)
        self.with_cp = with_cp

    def _bottleneck(self, *features):
        return self.conv1(self.relu1(self.norm1(torch.cat(features, 1))))

    def forward(self, features):
        if self.with_cp and any(f.requires_grad for f in features):
            out = cp.checkpoint(self._bottleneck, *features,
                                use_reentrant=False)
        else:
            out = self._bottleneck(*features)
        return self.conv2(self.relu2(self.norm2(out)))


class DenseBlock(nn.ModuleDict):
    """``denselayer1`` ... ``denselayerN``; the output is the input and every
    layer's new maps, concatenated."""

    def forward(self, x):
        features = [x]
        for layer in self.values():
            features.append(layer(features))
        return torch.cat(features, 1)


@MODELS.register_module()
class IBNDenseNet(BaseModule):
    """DenseNet-BC (Huang et al., CVPR 2017) and DenseNet-IBN-a (Pan et al.,
    ECCV 2018) as an mmseg backbone, with torchvision's key names under
    ``features.``: stem ``conv0``/``norm0``/``pool0``, ``denseblock1-4`` of
    :class:`DenseLayer` s, ``transition1-3`` (norm, ReLU, 1x1 conv halving
    the channels, 2x2 average pool), ``norm5``.

    ``ibn='a'`` (as published): ``norm1`` of dense layers 1, 4, 7, ... of
    blocks 1-3 is an :class:`~ibnseg.models.layers.IBN` layer with
    ``order='BN-IN'``.

    Stage ``i`` is ``denseblock{i+1}`` with the transition before it (the
    last one through ``norm5`` and ReLU); ``strides=(1, 2, 1, 1),
    dilations=(1, 1, 2, 4)`` gives output stride 8.

    ``init_cfg``'s ``Pretrained`` loads strictly
    (:class:`StrictPretrainedInit`) the published and torchvision files, also
    with torchvision's older key names. Default init: Kaiming convs, norms 1.

    Args:
        depth (int): 121, 161, 169 or 201. Default: 121.
        ibn (str | None): ``'a'`` or None (plain DenseNet). Default: 'a'.
        ibn_ratio (float): IN fraction of the IBN layers, in [0, 1].
            Default: 0.4 (as published).
        ibn_stages (Sequence[bool], optional): Per block, whether it gets
            IBN layers. Default: None (blocks 1-3).
        in_channels (int): Input channels. Default: 3.
        strides (Sequence[int]): Per stage, 1 (no transition pool) or 2;
            the first must be 1. Default: (1, 2, 2, 2).
        dilations (Sequence[int]): Per stage, of its 3x3 convs.
            Default: (1, 1, 1, 1).
        out_indices (Sequence[int]): Stages returned. Default: (0, 1, 2, 3).
        frozen_stages (int): Freeze the stem and stages 1 to this (with their
            transitions); -1: none. Default: -1.
        conv_cfg (dict, optional): Config of the convs. Default: None.
        norm_cfg (dict): Config of every BN and BN part.
            Default: dict(type='BN').
        norm_eval (bool): Keep BN parts in eval mode in training.
            Default: False.
        with_cp (bool): Recompute each dense layer's bottleneck in backward.
            Default: False.
        init_cfg (dict | list[dict], optional): Default: None.
    """

    arch_settings = {
        121: (64, 32, (6, 12, 24, 16)),
        161: (96, 48, (6, 12, 36, 24)),
        169: (64, 32, (6, 12, 32, 32)),
        201: (64, 32, (6, 12, 48, 32)),
    }
    bn_size = 4
    ibn_interval = 3  # norm1 of denselayer 1, 4, 7, ... is IBN

    def __init__(self,
                 depth=121,
                 ibn='a',
                 ibn_ratio=0.4,
                 ibn_stages=None,
                 in_channels=3,
                 strides=(1, 2, 2, 2),
                 dilations=(1, 1, 1, 1),
                 out_indices=(0, 1, 2, 3),
                 frozen_stages=-1,
                 conv_cfg=None,
                 norm_cfg=dict(type='BN'),
                 norm_eval=False,
                 with_cp=False,
                 init_cfg=None):
        name = type(self).__name__
        depth = check_int(name, 'depth', depth,
                          choices=sorted(self.arch_settings))
        check_choice(name, 'ibn', ibn, (None, 'a'))
        check_number(name, 'ibn_ratio', ibn_ratio, 0, 1)
        ibn_stages = ((True, True, True, False) if ibn_stages is None else
                      check_bools(name, 'ibn_stages', ibn_stages, 4))
        in_channels = check_int(name, 'in_channels', in_channels, minimum=1)
        self.strides = check_ints(name, 'strides', strides, (1, 2), 4)
        if self.strides[0] != 1:
            raise ValueError(f'{name}: strides[0] must be 1 (the stem has its '
                             f'own stride 4), got strides={strides!r}')
        self.dilations = check_ints(name, 'dilations', dilations, length=4)
        self.out_indices = check_ints(name, 'out_indices', out_indices,
                                      (0, 1, 2, 3))
        if not self.out_indices or len(set(self.out_indices)) != len(
                self.out_indices):
            raise ValueError(f'{name}: out_indices must be distinct stage '
                             f'indices from 0-3, got {out_indices!r}')
        self.frozen_stages = check_int(name, 'frozen_stages', frozen_stages,
                                       minimum=-1, maximum=4)
        check_dict(name, 'norm_cfg', norm_cfg)
        self.norm_eval = check_bool(name, 'norm_eval', norm_eval)
        self.with_cp = check_bool(name, 'with_cp', with_cp)
        if init_cfg is None:
            init_cfg = [
                dict(type='Kaiming', layer='Conv2d'),
                dict(type='Constant', val=1, layer=['_BatchNorm', 'GroupNorm'])
            ]
        super().__init__(_ibn_init_cfg(init_cfg))
        self.depth = depth
        self.ibn = ibn
        self.ibn_ratio = ibn_ratio
        self.ibn_stages = ibn_stages if ibn else (False, ) * 4

        stem_channels, growth_rate, block_config = self.arch_settings[depth]
        features = OrderedDict([
            ('conv0', build_conv_layer(conv_cfg, in_channels, stem_channels,
                                       kernel_size=7, stride=2, padding=3,
                                       bias=False)),
            ('norm0', build_norm_layer(norm_cfg, stem_channels)[1]),
            ('relu0', nn.ReLU(inplace=True)),
            ('pool0', nn.MaxPool2d(kernel_size=3, stride=2, padding=1)),
        ])
        channels = stem_channels
        out_channels = []
        for i, num_layers in enumerate(block_config):
            if i > 0:
                features[f'transition{i}'] = self._make_transition(
                    channels, channels // 2, self.strides[i], conv_cfg,
                    norm_cfg)
                channels //= 2
            block = DenseBlock()
            for j in range(num_layers):
                width = channels + j * growth_rate
                if self.ibn_stages[i] and j % self.ibn_interval == 0:
                    norm1 = IBN(width, ibn_ratio, norm_cfg, order='BN-IN')
                else:
                    norm1 = build_norm_layer(norm_cfg, width)[1]
                block[f'denselayer{j + 1}'] = DenseLayer(
                    width, growth_rate, self.bn_size, self.dilations[i],
                    norm1, conv_cfg, norm_cfg, with_cp)
            features[f'denseblock{i + 1}'] = block
            channels += num_layers * growth_rate
            out_channels.append(channels)
        features['norm5'] = build_norm_layer(norm_cfg, channels)[1]
        self.features = nn.Sequential(features)
        self.out_channels = tuple(out_channels)
        self._freeze_stages()

    @staticmethod
    def _make_transition(in_channels, out_channels, stride, conv_cfg,
                         norm_cfg):
        layers = OrderedDict([
            ('norm', build_norm_layer(norm_cfg, in_channels)[1]),
            ('relu', nn.ReLU(inplace=True)),
            ('conv', build_conv_layer(conv_cfg, in_channels, out_channels,
                                      kernel_size=1, bias=False)),
        ])
        if stride == 2:
            layers['pool'] = nn.AvgPool2d(kernel_size=2, stride=2)
        return nn.Sequential(layers)

    def _freeze_stages(self):
        f = self.features
        for stage in range(self.frozen_stages + 1):
            # the stem, or a block with the transition before it (norm5)
            modules = [f.conv0, f.norm0] if stage == 0 else [
                getattr(f, f'transition{stage - 1}', None),
                getattr(f, f'denseblock{stage}'), stage == 4 and f.norm5]
            for module in filter(None, modules):
                module.eval()
                module.requires_grad_(False)

    def _map_sizes(self, height, width):
        height, width = -(-height // 4), -(-width // 4)
        sizes = []
        for stride in self.strides:
            if stride == 2:
                height, width = height // 2, width // 2
            sizes.append((height, width))
        return sizes

    def _check_input_size(self, x):
        """Refuse an input for which an IBN layer would normalise a single
        element, suggesting the smallest square input."""
        if not any(self.ibn_stages) or self.ibn_ratio == 0:
            return

        def failing_block(height, width):
            return next((i for i, ((h, w), has_in) in enumerate(
                zip(self._map_sizes(height, width), self.ibn_stages))
                         if has_in and h * w <= 1), None)

        height, width = spatial_size(x)
        block = failing_block(height, width)
        if block is None:
            return
        smallest = next(n for n in range(1, 4096)
                        if failing_block(n, n) is None)
        size = 'x'.join(map(str, self._map_sizes(height, width)[block]))
        raise InstanceNormSizeError(
            f'{type(self).__name__}(ibn={self.ibn!r}): the IBN layers of '
            f'denseblock{block + 1} would normalise a {size} feature map for '
            f'a {height}x{width} input; use an input of at least '
            f'{smallest}x{smallest} pixels')

    def forward(self, x):
        self._check_input_size(x)
        f = self.features
        x = f.pool0(f.relu0(f.norm0(f.conv0(x))))
        outs = []
        for i in range(4):
            if i > 0:
                x = getattr(f, f'transition{i}')(x)
            x = getattr(f, f'denseblock{i + 1}')(x)
            if i == 3:
                x = F.relu(f.norm5(x), inplace=True)
            if i in self.out_indices:
                outs.append(x)
        return tuple(outs)

    def train(self, mode=True):
        """Keeps frozen stages (``norm_eval``: every BN) in eval mode."""
        super().train(mode)
        self._freeze_stages()
        if mode and self.norm_eval:
            for module in self.modules():
                if isinstance(module, _BatchNorm):
                    module.eval()
        return self
