"""IBN-Net ResNets on top of mmseg's ResNet: every variant of the paper."""
from operator import itemgetter

import torch.utils.checkpoint as cp
from mmcv.cnn import build_conv_layer, is_norm
from mmseg.models.backbones.resnet import BasicBlock, Bottleneck, ResNet
from mmseg.models.backbones.resnext import Bottleneck as ResNeXtBottleneck
from mmseg.registry import MODELS
from torch.nn.modules.batchnorm import _BatchNorm

from ..arg_checks import check_int, check_not_given
from ..layers import (IBN, InstanceNormSizeError, ParallelIBN,
                      PartialInstanceNorm, SqueezeExcitation, spatial_size)
from . import ibn_weights  # noqa: F401  (registers StrictPretrained)
from .ibn_layout import IBNLayout, StageLayout


class IBNBlockMixin:
    """IBN options for mmseg's ``BasicBlock``/``Bottleneck``/ResNeXt
    ``Bottleneck``; with none set, the mmseg block's computation and names.

    Args:
        ibn_layout (StageLayout): Which norms become :class:`IBN` or
            :class:`ParallelIBN` (conv2 then takes twice the channels).
            Default: none.
        se_reduction (int, optional): Squeeze-and-excitation (module ``se``)
            with this reduction before the addition. Default: None.
        **kwargs: The arguments of the mmseg block.
    """

    def __init__(self,
                 *args,
                 ibn_layout=StageLayout(),
                 se_reduction=None,
                 **kwargs):
        super().__init__(*args, **kwargs)
        norm_cfg = kwargs.get('norm_cfg', dict(type='BN'))
        for idx in ibn_layout.block_norms:
            self._replace_norm(
                idx, IBN(self._width(idx), ibn_layout.ratio, norm_cfg))
        if ibn_layout.parallel:
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
    """IBN-Net ResNet (Pan et al., ECCV 2018): mmseg's ``ResNet`` with
    Instance Normalization placed by the variant ``ibn``:

    - ``None``: a plain ResNet with the same key names (torchvision weights).
    - ``'a'``: ``bn1`` of every block of stages 1-3 is an :class:`IBN`
      layer (keys ``bn1.IN.*``, ``bn1.BN.*``); no extra parameter.
    - ``'b'``: the stem norm is affine IN, and affine IN (``IN``) follows
      the residual addition of the last block of stages 1-2.
    - ``'c'``: ``bn1`` of every block of stages 1-3 is a
      :class:`ParallelIBN`; conv2 takes twice the channels.
    - ``'d'``: ``'b'`` on a channel slice: the stem norm is an :class:`IBN`
      layer, the post-addition IN covers ``int(C * ibn_ratio)`` channels.
    - ``'a&d'``: both; ``'ax2'``: ``'a'`` in ``bn2`` too.

    ``layout`` (:class:`IBNLayout`) holds the resolved placement. ``forward``
    refuses an input for which some IN would see a single element, naming
    the smallest input that works. ``init_cfg``'s ``Pretrained`` loads
    strictly (:class:`StrictPretrainedInit`); a ``Constant`` init of
    ``_BatchNorm`` covers IN too.

    Args:
        depth (int): Depth of the ResNet, from {18, 34, 50, 101, 152}.
        ibn (str | None): ``'a'``, ``'b'``, ``'c'``, ``'d'``, ``'a&d'``,
            ``'ax2'`` or None. Default: 'a'.
        ibn_ratio (float): Fraction of channels with IN in IBN layers and the
            IBN-d slice, in [0, 1]. Default: 0.5.
        ibn_stages (Sequence[bool], optional): Per stage, whether it gets
            the variant. Default: None (the paper's).
        **kwargs: The options of mmseg's ``ResNet`` (``norm_eval``: the BN
            parts only).
    """

    se_reduction = None  # of every block's SE (IBNSEResNet)
    fixed_options = {}  # mmseg ResNet options a subclass fixes (V1c, V1d)

    def __init__(self,
                 depth,
                 ibn='a',
                 ibn_ratio=0.5,
                 ibn_stages=None,
                 **kwargs):
        name = type(self).__name__
        check_not_given(name, kwargs, **self.fixed_options)
        kwargs.update(self.fixed_options)
        depth = check_int(name, 'depth', depth,
                          choices=sorted(self.arch_settings))
        # before mmseg's __init__, which builds through the hooks below
        self.layout = IBNLayout.resolve(name, ibn, ibn_ratio, ibn_stages,
                                        kwargs.get('num_stages', 4))
        super().__init__(depth=depth, **kwargs)
        self.ibn = ibn
        self.ibn_ratio = ibn_ratio
        self.init_cfg = _ibn_init_cfg(self.init_cfg)

    def _make_stem_layer(self, in_channels, stem_channels):
        super()._make_stem_layer(in_channels, stem_channels)
        if self.layout.stem is None:
            return
        layer = (
            PartialInstanceNorm(stem_channels) if self.layout.stem == 'IN'
            else IBN(stem_channels, self.layout.ratio, self.norm_cfg))
        if self.deep_stem:
            # the deep stem's last norm plays the 7x7 stem norm's role
            last = [i for i, m in enumerate(self.stem) if is_norm(m)][-1]
            self.stem[last] = layer
        else:
            self.add_module(self.norm1_name, layer)

    def make_res_layer(self, block, **kwargs):
        # mmseg appends each built stage's name to res_layers
        stage = self.layout.stages[len(self.res_layers)]
        res_layer = super().make_res_layer(
            block=_IBN_BLOCKS[block],
            ibn_layout=stage,
            se_reduction=self.se_reduction,
            **kwargs)
        if stage.post_add_ratio:
            res_layer[-1].add_post_add_norm(stage.post_add_ratio)
        return res_layer

    def _norm_places(self):
        """``(total stride, name, module, has IN)`` of the stem and of each
        stage."""
        stem = self.stem if self.deep_stem else self.norm1
        places = [(2, 'the stem', stem, self.layout.stem is not None)]
        stride = 4
        for i, (name, stage) in enumerate(
                zip(self.res_layers, self.layout.stages)):
            stride *= self.strides[i]
            places.append((stride, f'stage {i + 1} ({name})',
                           getattr(self, name), stage.has_in))
        return places

    def _check_input_size(self, x):
        """Refuse inputs for which some IN would see a single element,
        suggesting the smallest one that the whole backbone takes."""
        height, width = spatial_size(x)
        places = self._norm_places()
        with_in = [(s, where) for s, where, _, has_in in places if has_in]
        failed = [(s, where) for s, where in with_in
                  if -(-height // s) * -(-width // s) <= 1]
        if not failed:
            return
        stride, where = failed[0]
        # the last of the deepest places
        deepest, deepest_where = max(reversed(with_in), key=itemgetter(0))
        message = (
            f'{type(self).__name__}(ibn={self.ibn!r}): {where} applies '
            f'instance normalization to a 1x1 feature map for a '
            f'{height}x{width} input (total stride {stride}). The deepest '
            f'instance normalization, in {deepest_where}, is at total stride '
            f'{deepest}')
        # Training batch normalization needs more than one value per
        # channel too, which a batch of one gets only from the map itself.
        training_bn = [(s, w) for s, w, module, _ in places
                       if x.shape[0] == 1 and any(
                           isinstance(m, _BatchNorm) and m.training
                           for m in module.modules())]
        needed = deepest
        if training_bn and max(training_bn)[0] > deepest:
            needed, bn_where = max(reversed(training_bn), key=itemgetter(0))
            message += (
                f', and with a batch of one in training, batch normalization '
                f'in {bn_where} (total stride {needed}) needs more than one '
                f'element per channel as well')
        raise InstanceNormSizeError(
            f'{message}: use an input with a height or width of at least '
            f'{needed + 1} pixels, e.g. {needed + 1}x{needed + 1}')

    def forward(self, x):
        if self.layout.has_in:
            self._check_input_size(x)
        return super().forward(x)

    def train(self, mode=True):
        """mmseg's ``train``, returning self (``model.eval()`` chains)."""
        super().train(mode)
        return self


def _ibn_init_cfg(init_cfg):
    """``Pretrained`` loads strictly and last; a ``Constant`` init of
    ``_BatchNorm`` (mmseg's default) covers ``_InstanceNorm`` too."""
    cfgs = []
    for cfg in init_cfg if isinstance(init_cfg, list) else [init_cfg]:
        if not cfg:
            continue
        cfg = dict(cfg)
        layers = cfg.get('layer', [])
        layers = [layers] if isinstance(layers, str) else list(layers)
        if cfg['type'] == 'Pretrained':
            cfg['type'] = 'StrictPretrained'
        elif cfg['type'] == 'Constant' and '_BatchNorm' in layers:
            # mmengine matches a layer's class and its direct bases only:
            # InstanceNorm2d names PartialInstanceNorm's base too.
            cfg['layer'] = layers + ['_InstanceNorm', 'InstanceNorm2d']
        cfgs.append(cfg)
    # mmengine runs its own Pretrained after the others: keep that order.
    cfgs.sort(key=lambda cfg: cfg['type'] == 'StrictPretrained')
    return cfgs or None


@MODELS.register_module()
class IBNResNetV1c(IBNResNet):
    """:class:`IBNResNet` with mmseg's ResNetV1c deep stem, whose last norm
    is the IN/IBN of IBN-b/d (mmseg's V1c weights, not IBN-Net's)."""

    fixed_options = dict(deep_stem=True, avg_down=False)


@MODELS.register_module()
class IBNResNetV1d(IBNResNet):
    """:class:`IBNResNetV1c` plus average-pool downsampling in the shortcut
    (mmseg's ResNetV1d)."""

    fixed_options = dict(deep_stem=True, avg_down=True)
