"""IBN-Net ResNets on top of mmseg's ResNet: every variant of the paper."""
import torch.nn as nn
import torch.utils.checkpoint as cp
from mmcv.cnn import build_conv_layer, is_norm
from mmseg.models.backbones.resnet import BasicBlock, Bottleneck, ResNet
from mmseg.models.backbones.resnext import Bottleneck as ResNeXtBottleneck
from mmseg.registry import MODELS
from torch.nn.modules.batchnorm import _BatchNorm

from ..arg_checks import (check_bools, check_choice, check_int,
                          check_not_given, check_number)
from ..layers import (IBN, InstanceNormSizeError, ParallelIBN,
                      PartialInstanceNorm, SqueezeExcitation)
from .ibn_weights import load_checkpoint_strictly

# Where each variant puts Instance Normalization (see IBNResNet's docstring).
#   block_norms: indices of the block norms that become IBN layers
#   parallel:    norm1 becomes IN and BN side by side (IBN-c)
#   post_add:    IN after the residual addition of a stage's last block:
#                'all' channels or the 'ratio' slice
#   stem:        the stem's norm becomes 'in' (IN) or 'ibn' (IBN layer)
_LAYOUTS = {
    None: dict(),
    'a': dict(block_norms=(1, )),
    'b': dict(post_add='all', stem='in'),
    'c': dict(parallel=True),
    'd': dict(post_add='ratio', stem='ibn'),
    'a&d': dict(block_norms=(1, ), post_add='ratio', stem='ibn'),
    'ax2': dict(block_norms=(1, 2)),
}
# Default stages of the in-block part and of the post-addition part.
_BLOCK_STAGES = (True, True, True, False)
_POST_ADD_STAGES = (True, True, False, False)


class IBNBlockMixin:
    """IBN options for an mmseg residual block.

    Mixed in front of mmseg's ``BasicBlock``/``Bottleneck``/ResNeXt
    ``Bottleneck``; with no option set the block computes exactly what the
    mmseg block computes, with the same parameter names.

    Args:
        ibn_norms (tuple[int]): Indices ``k`` of the norms ``normk`` that
            become :class:`IBN` layers (IBN-a: ``(1, )``, IBN-ax2:
            ``(1, 2)``). Default: ().
        ibn_ratio (float): IN fraction of those IBN layers. Default: 0.5.
        parallel_ibn (bool): ``norm1`` becomes :class:`ParallelIBN` (IN and
            BN of the same input, concatenated) and ``conv2`` takes twice
            the channels (IBN-c). Default: False.
        se_reduction (int, optional): Squeeze-and-excitation with this
            reduction on the residual branch before the addition, as module
            ``se``. Default: None.
        **kwargs: The arguments of the mmseg block.
    """

    def __init__(self,
                 *args,
                 ibn_norms=(),
                 ibn_ratio=0.5,
                 parallel_ibn=False,
                 se_reduction=None,
                 **kwargs):
        super().__init__(*args, **kwargs)
        norm_cfg = kwargs.get('norm_cfg', dict(type='BN'))
        for idx in ibn_norms:
            self._replace_norm(idx, IBN(self._width(idx), ibn_ratio, norm_cfg))
        if parallel_ibn:
            if kwargs.get('dcn') is not None:
                raise ValueError('IBN-c doubles the input of conv2 and cannot '
                                 'be combined with dcn')
            self._replace_norm(1, ParallelIBN(self._width(1), norm_cfg))
            conv = self.conv2
            self.conv2 = build_conv_layer(
                kwargs.get('conv_cfg'),
                conv.in_channels * 2,
                conv.out_channels,
                kernel_size=conv.kernel_size,
                stride=conv.stride,
                padding=conv.padding,
                dilation=conv.dilation,
                groups=conv.groups,
                bias=conv.bias is not None)
        self.se = SqueezeExcitation(
            self._out_channels(), se_reduction) if se_reduction else None
        self.IN = None

    def _width(self, idx):
        norm = getattr(self, f'norm{idx}')
        return getattr(norm, 'num_features', getattr(norm, 'num_channels',
                                                     None))

    def _out_channels(self):
        return self._width(3 if hasattr(self, 'conv3') else 2)

    def _replace_norm(self, idx, layer):
        self.add_module(getattr(self, f'norm{idx}_name'), layer)

    def add_post_add_norm(self, ratio):
        """Put IN after the residual addition, on ``int(C * ratio)``
        channels (IBN-b with ``ratio=1``, IBN-d with the IBN ratio)."""
        self.IN = PartialInstanceNorm(self._out_channels(), ratio)

    def _residual(self, x):
        num_convs = 3 if hasattr(self, 'conv3') else 2
        out = x
        for idx in range(1, num_convs + 1):
            out = getattr(self, f'norm{idx}')(getattr(self, f'conv{idx}')(out))
            if idx < num_convs:
                out = self.relu(out)
            if getattr(self, 'with_plugins', False):
                out = self.forward_plugin(
                    out, getattr(self, f'after_conv{idx}_plugin_names'))
        if self.se is not None:
            out = self.se(out)
        return out

    def forward(self, x):
        """Residual branch (+SE) + identity, post-addition IN, ReLU."""

        def _inner_forward(x):
            identity = x if self.downsample is None else self.downsample(x)
            out = self._residual(x) + identity
            return out if self.IN is None else self.IN(out)

        if self.with_cp and x.requires_grad:
            out = cp.checkpoint(_inner_forward, x, use_reentrant=False)
        else:
            out = _inner_forward(x)
        return self.relu(out)


class IBNBasicBlock(IBNBlockMixin, BasicBlock):
    """mmseg's ``BasicBlock`` with the options of :class:`IBNBlockMixin`."""


class IBNBottleneck(IBNBlockMixin, Bottleneck):
    """mmseg's ``Bottleneck`` with the options of :class:`IBNBlockMixin`."""


class IBNResNeXtBottleneck(IBNBlockMixin, ResNeXtBottleneck):
    """mmseg's ResNeXt ``Bottleneck`` with the options of
    :class:`IBNBlockMixin`."""


_IBN_BLOCKS = {
    BasicBlock: IBNBasicBlock,
    Bottleneck: IBNBottleneck,
    ResNeXtBottleneck: IBNResNeXtBottleneck,
}


@MODELS.register_module()
class IBNResNet(ResNet):
    """IBN-Net ResNet: mmseg's ``ResNet`` with Instance Normalization placed
    as in "Two at Once: Enhancing Learning and Generalization Capacities via
    IBN-Net" (Pan et al., ECCV 2018).

    ``ibn`` picks the variant; "IBN stages" are ``ibn_stages`` (default:
    stages 1-3 for the in-block part, stages 1-2 for the post-addition part):

    - ``None``: no IN; a plain ResNet with the same stem and key names (the
      fair baseline; torchvision ResNet weights load into it).
    - ``'a'``: the norm after the first conv of EVERY block of the IBN stages
      (``layerX.Y.bn1``) is an :class:`IBN` layer: IN on the first
      ``int(C * ibn_ratio)`` channels, BN on the rest (keys ``bn1.IN.*``,
      ``bn1.BN.*``). No extra parameter. As published.
    - ``'b'``: the stem norm (``bn1``) is affine IN; affine IN (``IN``) after
      the residual addition, before the ReLU, of the LAST block of each IBN
      stage (default stages 1-2). As published.
    - ``'c'``: in every block of the IBN stages, the output of the first conv
      is normalised by IN and by BN side by side (all channels each), the
      two maps are concatenated, and the second conv takes twice the
      channels (keys ``bn1.IN.*``, ``bn1.BN.*``).
    - ``'d'``: IBN-b on a channel slice: the stem norm is an :class:`IBN`
      layer, and after the addition of the last block of each IBN stage
      (default 1-2) affine IN normalises the first ``int(C * ibn_ratio)``
      channels while the other channels pass unchanged (``IN``).
    - ``'a&d'``: ``'a'`` (default stages 1-3) and ``'d'`` (default 1-2).
    - ``'ax2'``: ``'a'`` plus an :class:`IBN` layer in the second norm of the
      block too (``bn1`` and ``bn2``).

    An explicit ``ibn_stages`` applies to every part of the variant. IN never
    sees a map with one spatial element: ``forward`` checks the input size
    and names the stage and the smallest input that works.

    The published ImageNet weights (plain state_dict or
    ``{'state_dict': {'module.' + key: ...}}``) load with
    ``init_cfg=dict(type='Pretrained', checkpoint=PATH_OR_URL)``; a file that
    does not fit raises, naming missing/unexpected keys and the model it
    looks like. Only ``fc.*`` may be left over. ``prefix`` in that init_cfg
    selects a sub-module of a bigger checkpoint (e.g. ``'backbone.'``).

    Args:
        depth (int): Depth of the ResNet, from {18, 34, 50, 101, 152}.
        ibn (str | None): ``'a'``, ``'b'``, ``'c'``, ``'d'``, ``'a&d'``,
            ``'ax2'`` or None. Default: 'a'.
        ibn_ratio (float): Fraction of channels with IN in IBN layers and the
            IBN-d slice, in [0, 1]. Default: 0.5.
        ibn_stages (Sequence[bool], optional): Which stages get the variant's
            IN (one flag per stage). Default: None (the paper's placement).
        **kwargs: Every option of mmseg's ``ResNet`` (``strides``,
            ``dilations``, ``contract_dilation``, ``out_indices``,
            ``frozen_stages`` (freezes the IN affine parameters too),
            ``norm_eval`` (puts the BN parts in eval mode), ``with_cp``,
            ``norm_cfg`` (``BN``, ``SyncBN``, ...), ``init_cfg``, ...).
    """

    # Squeeze-and-excitation reduction of every block (IBNSEResNet sets it).
    se_reduction = None

    def __init__(self,
                 depth,
                 ibn='a',
                 ibn_ratio=0.5,
                 ibn_stages=None,
                 **kwargs):
        name = type(self).__name__
        depth = check_int(name, 'depth', depth,
                          choices=sorted(self.arch_settings))
        check_choice(name, 'ibn', ibn, tuple(_LAYOUTS))
        check_number(name, 'ibn_ratio', ibn_ratio, 0, 1)
        num_stages = check_int(name, 'num_stages',
                               kwargs.get('num_stages', 4), minimum=1,
                               maximum=4)
        if ibn_stages is not None:
            ibn_stages = check_bools(name, 'ibn_stages', ibn_stages,
                                     num_stages)
        layout = _LAYOUTS[ibn]
        if layout.get('post_add') == 'ratio' and ibn_ratio == 0:
            raise ValueError(f'{name}: ibn={ibn!r} needs ibn_ratio > 0')
        self.ibn = ibn
        self.ibn_ratio = ibn_ratio
        self._layout = layout
        self.block_ibn_stages = tuple(
            ibn_stages or _BLOCK_STAGES[:num_stages]) if (
                layout.get('block_norms') or layout.get('parallel')) else (
                    False, ) * num_stages
        self.post_add_stages = tuple(
            ibn_stages or _POST_ADD_STAGES[:num_stages]) if layout.get(
                'post_add') else (False, ) * num_stages
        super().__init__(depth=depth, **kwargs)
        self._init_instance_norms_like_batch_norms()

    def _init_instance_norms_like_batch_norms(self):
        # mmseg's default init only names _BatchNorm/GroupNorm; give the IN
        # affine parameters the same constant init.
        for cfg in self.init_cfg if isinstance(self.init_cfg, list) else []:
            if cfg.get('type') == 'Constant' and '_BatchNorm' in cfg.get(
                    'layer', []):
                cfg['layer'] = list(cfg['layer']) + ['_InstanceNorm']

    def _make_stem_layer(self, in_channels, stem_channels):
        super()._make_stem_layer(in_channels, stem_channels)
        kind = self._layout.get('stem')
        if kind is None:
            return
        layer = (
            PartialInstanceNorm(stem_channels) if kind == 'in' else
            IBN(stem_channels, self.ibn_ratio, self.norm_cfg))
        if self.deep_stem:
            # the deep stem's last norm plays the 7x7 stem norm's role
            last = [i for i, m in enumerate(self.stem) if is_norm(m)][-1]
            self.stem[last] = layer
        else:
            self.add_module(self.norm1_name, layer)

    def make_res_layer(self, **kwargs):
        """Build a stage from the IBN version of mmseg's block."""
        stage = (kwargs['planes'] // self.base_channels).bit_length() - 1
        kwargs['block'] = _IBN_BLOCKS[kwargs['block']]
        if self.block_ibn_stages[stage]:
            kwargs.update(
                ibn_norms=self._layout.get('block_norms', ()),
                ibn_ratio=self.ibn_ratio,
                parallel_ibn=self._layout.get('parallel', False))
        if self.se_reduction:
            kwargs['se_reduction'] = self.se_reduction
        res_layer = super().make_res_layer(**kwargs)
        if self.post_add_stages[stage]:
            res_layer[-1].add_post_add_norm(
                1.0 if self._layout['post_add'] == 'all' else self.ibn_ratio)
        return res_layer

    def _norm_places(self):
        """``(total stride, name, module, has IN)`` of the stem's norm and of
        each stage, in forward order. Every norm of a stage but the first
        block's ``bn1`` (which may see the stage's input) works at the
        stage's stride, and each conv keeps ``ceil(size / stride)``, so a
        place's map is ``ceil(H / stride) x ceil(W / stride)``."""
        stem = self.stem if self.deep_stem else getattr(self, self.norm1_name)
        places = [(2, 'the stem', stem, bool(self._layout.get('stem')))]
        stride = 4
        for i, name in enumerate(self.res_layers):
            stride *= self.strides[i]
            places.append((stride, f'stage {i + 1} ({name})',
                           getattr(self, name), self.block_ibn_stages[i]
                           or self.post_add_stages[i]))
        return places

    def _check_input_size(self, x):
        """Refuse inputs for which some IN would see a single element, and
        suggest the smallest input that the whole backbone takes."""
        batch, height, width = x.shape[0], x.shape[-2], x.shape[-1]

        def one_element(stride):
            return -(-height // stride) * -(-width // stride) <= 1

        places = self._norm_places()
        with_in = [(s, where) for s, where, _, has_in in places if has_in]
        failed = [(s, where) for s, where in with_in if one_element(s)]
        if not failed:
            return
        stride, where = failed[0]
        deepest = max(s for s, _ in with_in)
        deepest_where = [w for s, w in with_in if s == deepest][-1]
        message = (
            f'{type(self).__name__}(ibn={self.ibn!r}): {where} applies '
            f'instance normalization to a 1x1 feature map for a '
            f'{height}x{width} input (total stride {stride}). The deepest '
            f'instance normalization, in {deepest_where}, is at total stride '
            f'{deepest}')
        # Training batch normalization needs more than one value per
        # channel too, which a batch of one gets only from the map itself.
        training_bn = [(s, w) for s, w, module, _ in places
                       if batch == 1 and any(
                           isinstance(m, _BatchNorm) and m.training
                           for m in module.modules())]
        needed = deepest
        if training_bn and max(s for s, _ in training_bn) > deepest:
            needed = max(s for s, _ in training_bn)
            bn_where = [w for s, w in training_bn if s == needed][-1]
            message += (
                f', and with a batch of one in training, batch normalization '
                f'in {bn_where} (total stride {needed}) needs more than one '
                f'element per channel as well')
        raise InstanceNormSizeError(
            f'{message}: use an input with a height or width of at least '
            f'{needed + 1} pixels, e.g. {needed + 1}x{needed + 1}')

    def forward(self, x):
        """Forward function (mmseg's), after the input size check."""
        if any(self.block_ibn_stages + self.post_add_stages) or \
                self._layout.get('stem'):
            self._check_input_size(x)
        return super().forward(x)

    def train(self, mode=True):
        """mmseg's ``train`` (frozen stages, ``norm_eval``), returning self
        like ``nn.Module.train`` so that ``model.eval()`` chains."""
        super().train(mode)
        return self

    def init_weights(self):
        """mmseg's init, but a ``Pretrained`` init_cfg is loaded strictly."""
        cfgs = self.init_cfg if isinstance(self.init_cfg, list) else [
            self.init_cfg
        ] if self.init_cfg else []
        pretrained = [c for c in cfgs if c.get('type') == 'Pretrained']
        if not pretrained or self._is_init:
            return super().init_weights()
        all_cfgs = self.init_cfg
        self.init_cfg = [c for c in cfgs if c not in pretrained] or None
        try:
            super().init_weights()
        finally:
            self.init_cfg = all_cfgs
        cfg = pretrained[-1]
        load_checkpoint_strictly(
            self,
            cfg['checkpoint'],
            map_location=cfg.get('map_location', 'cpu'),
            prefix=cfg.get('prefix'))


@MODELS.register_module()
class IBNResNetV1c(IBNResNet):
    """:class:`IBNResNet` with mmseg's ResNetV1c deep stem (three 3x3
    convs); for IBN-b/d the deep stem's last norm becomes IN/IBN. Takes
    mmseg's V1c weights, not the published (7x7-stem) IBN-Net weights."""

    def __init__(self, **kwargs):
        check_not_given(
            type(self).__name__, kwargs, deep_stem=True, avg_down=False)
        super().__init__(deep_stem=True, avg_down=False, **kwargs)


@MODELS.register_module()
class IBNResNetV1d(IBNResNet):
    """:class:`IBNResNetV1c` plus average-pool downsampling in the shortcut
    (mmseg's ResNetV1d)."""

    def __init__(self, **kwargs):
        check_not_given(
            type(self).__name__, kwargs, deep_stem=True, avg_down=True)
        super().__init__(deep_stem=True, avg_down=True, **kwargs)
