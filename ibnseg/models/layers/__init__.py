from .ibn import (IBN, InstanceNormSizeError, ParallelIBN, PartialInstanceNorm,
                  check_instance_norm_size, spatial_size)
from .se_layer import SqueezeExcitation

__all__ = [
    'IBN', 'ParallelIBN', 'PartialInstanceNorm', 'InstanceNormSizeError',
    'check_instance_norm_size', 'spatial_size', 'SqueezeExcitation'
]
