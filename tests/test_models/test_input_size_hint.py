"""The input-size error of an IBN backbone suggests a size that the whole
backbone accepts, not just the layer that failed first."""
import re

import pytest
import torch

from ibnseg.models import (IBNResNet, IBNResNetV1c, IBNResNeXt,
                           InstanceNormSizeError)


SMALL = dict(base_channels=8, stem_channels=8)
D8 = dict(strides=(1, 2, 1, 1), dilations=(1, 1, 2, 4))


def _suggested(model, height, width, batch=1):
    """The error for a ``height`` x ``width`` input, the size it suggests."""
    with pytest.raises(InstanceNormSizeError) as info:
        model(torch.randn(batch, 3, height, width))
    message = str(info.value)
    sizes = re.findall(r'e\.g\. (\d+)x(\d+)', message)
    assert sizes, message
    return message, tuple(int(s) for s in sizes[-1])


@pytest.mark.parametrize('cls,ibn,kwargs,deepest,stride', [
    (IBNResNet, 'a', {}, 'stage 3 (layer3)', 16),
    (IBNResNet, 'b', {}, 'stage 2 (layer2)', 8),
    # Bottleneck blocks for the variants that change them most
    (IBNResNet, 'c', dict(depth=50), 'stage 3 (layer3)', 16),
    (IBNResNet, 'd', dict(depth=50), 'stage 2 (layer2)', 8),
    (IBNResNet, 'a&d', {}, 'stage 3 (layer3)', 16),
    (IBNResNet, 'ax2', dict(depth=50), 'stage 3 (layer3)', 16),
    (IBNResNet, 'a', D8, 'stage 3 (layer3)', 8),
    (IBNResNet, 'b', dict(ibn_stages=(True, ) * 4), 'stage 4 (layer4)', 32),
    (IBNResNetV1c, 'b', {}, 'stage 2 (layer2)', 8),
    (IBNResNeXt, 'a', dict(depth=50, groups=2), 'stage 3 (layer3)', 16),
])
def test_suggested_size_runs_through_the_whole_backbone(
        cls, ibn, kwargs, deepest, stride):
    kwargs = dict(SMALL, **kwargs)
    kwargs.setdefault('depth', 18)
    model = cls(ibn=ibn, **kwargs).eval()
    message, (height, width) = _suggested(model, 4, 4)
    # names the layer that failed and the one that sets the minimum
    assert 'stage 1 (layer1)' in message or 'the stem' in message
    assert f'{deepest}' in message and f'total stride {stride}' in message
    assert (height, width) == (stride + 1, stride + 1), message
    with torch.no_grad():
        model(torch.randn(1, 3, height, width))
    model.train()(torch.randn(2, 3, height, width))
    # and it is the smallest square that does
    with pytest.raises(InstanceNormSizeError):
        model(torch.randn(2, 3, stride, stride))


def test_a_batch_of_one_in_training_needs_batch_norm_to_work_too():
    """BN after the last IN then needs more than one element too."""
    model = IBNResNet(depth=18, ibn='b', **SMALL).train()
    message, size = _suggested(model, 4, 4, batch=1)
    assert 'stage 4 (layer4)' in message and size == (33, 33), message
    model(torch.randn(1, 3, *size))
    with pytest.raises(ValueError):
        model(torch.randn(1, 3, 32, 32))
    # a bigger batch needs only the instance normalization's size
    _, size = _suggested(model, 4, 4, batch=2)
    assert size == (9, 9)
    model(torch.randn(2, 3, *size))
