"""Squeeze-and-excitation as laid out in the published SE-ResNet-IBN-a."""
import torch.nn as nn

from ..arg_checks import check_int


class SqueezeExcitation(nn.Module):
    """Channel attention: global average pool, bias-free ``fc.0``, ReLU,
    bias-free ``fc.2`` (the published key names), sigmoid scales the input.

    Args:
        channels (int): Number of input (and output) channels.
        reduction (int): Channel reduction of the bottleneck FC; its width
            is ``int(channels / reduction)``. Default: 16.
    """

    def __init__(self, channels, reduction=16):
        super().__init__()
        channels = check_int('SqueezeExcitation', 'channels', channels,
                             minimum=1)
        reduction = check_int('SqueezeExcitation', 'reduction', reduction,
                              minimum=1)
        hidden = int(channels / reduction)
        if hidden < 1:
            raise ValueError(f'SqueezeExcitation: reduction {reduction} '
                             f'leaves no hidden unit for {channels} channels')
        self.fc = nn.Sequential(
            nn.Linear(channels, hidden, bias=False), nn.ReLU(inplace=True),
            nn.Linear(hidden, channels, bias=False), nn.Sigmoid())

    def forward(self, x):
        weights = self.fc(x.mean(dim=(2, 3)))
        return x * weights[:, :, None, None]
