from .densenet_ibn import IBNDenseNet
from .ibn_layout import IBNLayout, StageLayout
from .ibn_resnet import IBNResNet, IBNResNetV1c, IBNResNetV1d
from .ibn_resnext import IBNResNeXt, IBNSEResNet
from .ibn_weights import StrictPretrainedInit, load_checkpoint_strictly

__all__ = [
    'IBNLayout', 'StageLayout', 'IBNResNet', 'IBNResNetV1c', 'IBNResNetV1d',
    'IBNResNeXt', 'IBNSEResNet', 'IBNDenseNet', 'StrictPretrainedInit',
    'load_checkpoint_strictly'
]
