"""ResNeXt-IBN and SE-ResNet-IBN backbones (the published layouts)."""
from mmseg.models.backbones.resnext import ResNeXt
from mmseg.registry import MODELS

from ..arg_checks import check_int
from .ibn_resnet import IBNResNet


@MODELS.register_module()
class IBNResNeXt(IBNResNet, ResNeXt):
    """:class:`IBNResNet`'s variants on mmseg's ``ResNeXt``; with
    ``depth=101`` the defaults give the published ResNeXt-101-IBN-a 32x4d.

    Args:
        depth (int): From {50, 101, 152}.
        groups (int): Number of groups of the 3x3 convs. Default: 32.
        base_width (int): Width of each group at ``base_channels=64``.
            Default: 4.
        **kwargs: The options of :class:`IBNResNet`.
    """

    def __init__(self, groups=32, base_width=4, **kwargs):
        name = type(self).__name__
        groups = check_int(name, 'groups', groups, minimum=1)
        base_width = check_int(name, 'base_width', base_width, minimum=1)
        super().__init__(groups=groups, base_width=base_width, **kwargs)


@MODELS.register_module()
class IBNSEResNet(IBNResNet):
    """SE-ResNet with IBN: squeeze-and-excitation (module ``se``) on every
    block's residual branch; with ``depth=101`` the defaults give the
    published SE-ResNet-101-IBN-a.

    Args:
        se_reduction (int): Reduction of the SE bottleneck. Default: 16.
        **kwargs: The options of :class:`IBNResNet`.
    """

    def __init__(self, se_reduction=16, **kwargs):
        self.se_reduction = check_int(type(self).__name__, 'se_reduction',
                                      se_reduction, minimum=1)
        super().__init__(**kwargs)
