from .ibn_resnet import IBNResNet, IBNResNetV1c, IBNResNetV1d
from .ibn_resnext import IBNResNeXt, IBNSEResNet
from .ibn_weights import describe_state_dict, load_checkpoint_strictly

__all__ = [
    'IBNResNet', 'IBNResNetV1c', 'IBNResNetV1d', 'IBNResNeXt', 'IBNSEResNet',
    'describe_state_dict', 'load_checkpoint_strictly'
]
