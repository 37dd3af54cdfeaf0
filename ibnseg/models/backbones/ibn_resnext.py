"""ResNeXt-IBN and SE-ResNet-IBN backbones (the published layouts)."""
from mmseg.models.backbones.resnext import ResNeXt
from mmseg.registry import MODELS

from ..arg_checks import check_int
from .ibn_resnet import IBNResNet


@MODELS.register_module()
class IBNResNeXt(IBNResNet, ResNeXt):
    """ResNeXt with IBN (:class:`IBNResNet`'s variants on mmseg's
    ``ResNeXt``). The defaults give the published ResNeXt-101-IBN-a 32x4d
    with ``depth=101``: grouped 3x3 convs, IBN on the first norm of the
    blocks of stages 1-3 (its width is ``groups * floor(planes * base_width
    / 64)``).

    Args:
        depth (int): From {50, 101, 152}.
        groups (int): Number of groups of the 3x3 convs. Default: 32.
        base_width (int): Width of each group at ``base_channels=64``.
            Default: 4.
        **kwargs: The options of :class:`IBNResNet` (``ibn``, ``ibn_ratio``,
            ``ibn_stages``, and mmseg's ResNet options).
    """

    def __init__(self, groups=32, base_width=4, **kwargs):
        name = type(self).__name__
        groups = check_int(name, 'groups', groups, minimum=1)
        base_width = check_int(name, 'base_width', base_width, minimum=1)
        super().__init__(groups=groups, base_width=base_width, **kwargs)


@MODELS.register_module()
class IBNSEResNet(IBNResNet):
    """SE-ResNet with IBN: squeeze-and-excitation (module ``se``, two
    bias-free FC layers ``se.fc.0``/``se.fc.2``) on the residual branch of
    every block, before the addition. With ``depth=101`` and the defaults
    this is the published SE-ResNet-101-IBN-a.

    Args:
        se_reduction (int): Reduction of the SE bottleneck. Default: 16.
        **kwargs: The options of :class:`IBNResNet`.
    """

    def __init__(self, se_reduction=16, **kwargs):
        self.se_reduction = check_int(type(self).__name__, 'se_reduction',
                                      se_reduction, minimum=1)
        super().__init__(**kwargs)
