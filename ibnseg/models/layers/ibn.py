"""The norm layers of IBN-Net. Every one traces (``torch.jit.trace``) and
exports (``torch.export``, ONNX) with the image size left symbolic."""
import math

import torch
import torch.nn as nn
import torch.nn.functional as F
from mmcv.cnn import build_norm_layer
from mmseg.registry import MODELS

from ..arg_checks import (check_bool, check_choice, check_dict, check_int,
                          check_number)
from .ibn_fused import fused_ibn, fusable


class InstanceNormSizeError(ValueError):
    """Instance Normalization met a feature map with one spatial element."""


def spatial_size(x):
    """``x.shape[2:]`` for a size check that must not fix the size of a
    traced or exported model: symbolic under ``torch.export``; numbers via
    ``numel()`` under ``torch.jit.trace``, whose sizes are tensors (a check
    on those would be recorded as a constant)."""
    if torch.jit.is_tracing():
        return tuple(x.shape[i:i + 1].numel() for i in range(2, x.dim()))
    return tuple(x.shape[2:])


def check_instance_norm_size(x, where):
    """Raise :class:`InstanceNormSizeError` if ``x`` has one spatial element
    (whose IN output is the bias alone); exported: an assertion."""
    size_ok = math.prod(spatial_size(x)) > 1
    if torch.compiler.is_dynamo_compiling():
        # Dynamo (torch.compile, strict torch.export) records a torch._check
        # with neither an error type nor a message
        torch._check(size_ok)
        return
    torch._check_with(
        InstanceNormSizeError, size_ok,
        lambda: (f'{where}: instance normalization needs more than one '
                 f'spatial element per channel, got a feature map of shape '
                 f'{tuple(x.shape)}; use a larger input image'))


@MODELS.register_module()
class IBN(nn.Module):
    """Instance-Batch Normalization (the norm of IBN-Net's IBN-a block).

    Affine IN on ``int(num_features * ratio)`` leading channels, the norm
    of ``norm_cfg`` on the rest, as submodules ``IN`` and ``BN`` (the
    published key names; ``None`` when empty). ``order='BN-IN'`` (DenseNet)
    puts BN first, on ``int(num_features * (1 - ratio))`` channels.
    ``build_norm_layer`` names it ``bn<postfix>``, as torchvision. The fused
    paths of :mod:`.ibn_fused` compute the published split path's numbers
    faster for a stock ``_BatchNorm`` on fp32/fp64 input.

    Args:
        num_features (int): Number of channels.
        ratio (float): Fraction of channels with IN, in [0, 1]. Default: 0.5.
        norm_cfg (dict): Config of the BN part. Default: dict(type='BN').
        eps (float): Epsilon of the IN part. Default: 1e-5.
        fused (bool): Take the fused paths where they apply (False: the
            split path, for benchmarks). Default: True.
        order (str): ``'IN-BN'`` or ``'BN-IN'``. Default: 'IN-BN'.
    """

    ORDERS = ('IN-BN', 'BN-IN')

    _abbr_ = 'bn'

    def __init__(self,
                 num_features,
                 ratio=0.5,
                 norm_cfg=dict(type='BN'),
                 eps=1e-5,
                 fused=True,
                 order='IN-BN'):
        super().__init__()
        num_features = check_int('IBN', 'num_features', num_features,
                                 minimum=1)
        check_number('IBN', 'ratio', ratio, 0, 1)
        check_dict('IBN', 'norm_cfg', norm_cfg)
        check_number('IBN', 'eps', eps, 0, min_open=True)
        check_bool('IBN', 'fused', fused)
        check_choice('IBN', 'order', order, self.ORDERS)
        if norm_cfg.get('type') == 'IBN':
            raise ValueError('IBN: norm_cfg names the norm of the BN part and '
                             'cannot be IBN itself')
        self.num_features = num_features
        self.ratio = ratio
        self.order = order
        if order == 'IN-BN':
            self.num_in = int(num_features * ratio)
            num_bn = num_features - self.num_in
        else:
            # the published DenseNet-IBN-a counts the (leading) BN part
            num_bn = int(num_features * (1 - ratio))
            self.num_in = num_features - num_bn
        self.fused = fused
        self.IN = nn.InstanceNorm2d(
            self.num_in, eps=eps, affine=True) if self.num_in else None
        self.BN = build_norm_layer(norm_cfg, num_bn)[1] if num_bn else None

    def forward(self, x):
        if self.IN is not None:
            check_instance_norm_size(x, f'IBN({self.num_features})')
        if self.fused and fusable(x, self.BN):
            return fused_ibn(x, self.IN, self.BN,
                             in_first=self.order == 'IN-BN')
        return self._forward_split(x)

    def _forward_split(self, x):
        parts = [(self.IN, self.num_in),
                 (self.BN, self.num_features - self.num_in)]
        if self.order == 'BN-IN':
            parts.reverse()
        chunks = x.split([width for _, width in parts], dim=1)
        outs = [part(chunk.contiguous())
                for (part, _), chunk in zip(parts, chunks) if part is not None]
        return outs[0] if len(outs) == 1 else torch.cat(outs, dim=1)

    def extra_repr(self):
        return (f'{self.num_features}, ratio={self.ratio}, '
                f'num_in={self.num_in}, order={self.order!r}, '
                f'fused={self.fused}')


class ParallelIBN(nn.Module):
    """IN and BN side by side on all channels, concatenated (IBN-c):
    ``2 * num_features`` channels out, from submodules ``IN`` and ``BN``.

    Args:
        num_features (int): Number of input channels.
        norm_cfg (dict): Config of the BN branch. Default: dict(type='BN').
        eps (float): Epsilon of the IN branch. Default: 1e-5.
    """

    _abbr_ = 'bn'

    def __init__(self, num_features, norm_cfg=dict(type='BN'), eps=1e-5):
        super().__init__()
        num_features = check_int('ParallelIBN', 'num_features', num_features,
                                 minimum=1)
        check_dict('ParallelIBN', 'norm_cfg', norm_cfg)
        check_number('ParallelIBN', 'eps', eps, 0, min_open=True)
        self.num_features = num_features
        self.IN = nn.InstanceNorm2d(num_features, eps=eps, affine=True)
        self.BN = build_norm_layer(norm_cfg, num_features)[1]

    def forward(self, x):
        check_instance_norm_size(x, f'ParallelIBN({self.num_features})')
        return torch.cat([self.IN(x), self.BN(x)], dim=1)


class PartialInstanceNorm(nn.InstanceNorm2d):
    """Affine IN on the first ``int(num_features * ratio)`` channels, the
    others unchanged: IBN-d's post-addition norm; with ``ratio=1`` IBN-b's.

    Args:
        num_features (int): Number of channels of the input.
        ratio (float): Fraction of channels normalised, in (0, 1].
        eps (float): Epsilon of the IN. Default: 1e-5.
    """

    def __init__(self, num_features, ratio=1.0, eps=1e-5):
        name = 'PartialInstanceNorm'
        num_features = check_int(name, 'num_features', num_features,
                                 minimum=1)
        check_number(name, 'ratio', ratio, 0, 1, min_open=True)
        check_number(name, 'eps', eps, 0, min_open=True)
        num_in = int(num_features * ratio)
        if num_in < 1:
            raise ValueError(
                f'PartialInstanceNorm: ratio {ratio} of {num_features} '
                f'channels normalises no channel')
        super().__init__(num_in, eps=eps, affine=True)
        self.total_features = num_features

    def forward(self, x):
        check_instance_norm_size(x, f'InstanceNorm({self.num_features})')
        k = self.num_features
        # group_norm with one group per channel is IN, and its native kernel
        # is several times cheaper than instance_norm's batch_norm route
        if k == self.total_features:
            return F.group_norm(x, k, self.weight, self.bias, self.eps)
        return torch.cat([
            F.group_norm(x[:, :k], k, self.weight, self.bias, self.eps),
            x[:, k:]
        ], dim=1)
