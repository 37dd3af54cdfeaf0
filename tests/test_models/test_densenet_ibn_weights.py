"""Weights in the published DenseNet-IBN-a format (and torchvision's DenseNet
formats, current and older key names) load strictly into IBNDenseNet and
give the published model's block outputs.

The reference below is written for this test from the published layout
(key names, where IBN sits, which part comes first) with plain torch
modules and no ibnseg import."""
import re
from collections import OrderedDict

import pytest
import torch
import torch.nn as nn
from mmengine.registry import init_default_scope
from mmseg.registry import MODELS

import ibnseg  # noqa: F401
from ibnseg.models.backbones.ibn_weights import _layout
from tests.helpers.published_layout import PublishedResNet, randomize

init_default_scope('mmseg')

# stem channels, growth rate, layers per block
ARCHS = {121: (64, 32, (6, 12, 24, 16)), 169: (64, 32, (6, 12, 32, 32)),
         161: (96, 48, (6, 12, 36, 24)), 201: (64, 32, (6, 12, 48, 32))}


class BNThenIN(nn.Module):
    """The published DenseNet IBN norm: BN on the first int(C * 0.6)
    channels, affine IN on the rest, concatenated."""

    def __init__(self, channels):
        super().__init__()
        self.num_bn = int(channels * 0.6)
        self.BN = nn.BatchNorm2d(self.num_bn)
        self.IN = nn.InstanceNorm2d(channels - self.num_bn, affine=True)

    def forward(self, x):
        return torch.cat([self.BN(x[:, :self.num_bn].contiguous()),
                          self.IN(x[:, self.num_bn:].contiguous())], 1)


class RefDenseLayer(nn.Sequential):

    def __init__(self, channels, growth, ibn):
        super().__init__(OrderedDict([
            ('norm1', BNThenIN(channels) if ibn else nn.BatchNorm2d(channels)),
            ('relu1', nn.ReLU()),
            ('conv1', nn.Conv2d(channels, 4 * growth, 1, bias=False)),
            ('norm2', nn.BatchNorm2d(4 * growth)),
            ('relu2', nn.ReLU()),
            ('conv2', nn.Conv2d(4 * growth, growth, 3, padding=1,
                                bias=False)),
        ]))

    def forward(self, x):
        return torch.cat([x, super().forward(x)], 1)


class PublishedDenseNet(nn.Module):
    """torchvision-named DenseNet; ``ibn``: norm1 of denselayer 1, 4, 7,
    ... of blocks 1-3 is BNThenIN (DenseNet-IBN-a). Has the classifier."""

    def __init__(self, depth, ibn):
        super().__init__()
        stem, growth, blocks = ARCHS[depth]
        features = OrderedDict([
            ('conv0', nn.Conv2d(3, stem, 7, 2, 3, bias=False)),
            ('norm0', nn.BatchNorm2d(stem)), ('relu0', nn.ReLU()),
            ('pool0', nn.MaxPool2d(3, 2, 1))])
        channels = stem
        for i, count in enumerate(blocks):
            features[f'denseblock{i + 1}'] = nn.Sequential(OrderedDict(
                (f'denselayer{j + 1}',
                 RefDenseLayer(channels + j * growth, growth,
                               ibn and i < 3 and j % 3 == 0))
                for j in range(count)))
            channels += count * growth
            if i < 3:
                features[f'transition{i + 1}'] = nn.Sequential(OrderedDict([
                    ('norm', nn.BatchNorm2d(channels)), ('relu', nn.ReLU()),
                    ('conv', nn.Conv2d(channels, channels // 2, 1,
                                       bias=False)),
                    ('pool', nn.AvgPool2d(2, 2))]))
                channels //= 2
        features['norm5'] = nn.BatchNorm2d(channels)
        self.features = nn.Sequential(features)
        self.classifier = nn.Linear(channels, 1000)

    def stages(self, x):
        """Each dense block's output; the last one through norm5 + ReLU."""
        outs = []
        for name, module in self.features.named_children():
            x = module(x)
            if name.startswith('denseblock'):
                outs.append(x)
            if name == 'norm5':
                outs[-1] = torch.relu(x)
        return outs


def legacy_keys(state_dict):
    """torchvision's DenseNet files: 'denselayer1.norm.1.weight'."""
    return {re.sub(r'(denselayer\d+\.(?:norm|conv))([12])\.', r'\1.\2.', k):
            v for k, v in state_dict.items()}


def _build(path, **cfg):
    model = MODELS.build(dict(
        dict(type='IBNDenseNet', **cfg),
        init_cfg=dict(type='Pretrained', checkpoint=str(path))))
    model.init_weights()
    return model.eval()


def _max_diff(outs_a, outs_b):
    return max((a.double() - b.double()).abs().max().item()
               for a, b in zip(outs_a, outs_b))


@pytest.mark.slow
@pytest.mark.parametrize('depth,ibn,key_style', [
    pytest.param(121, 'a', 'current', id='densenet121_ibn_a'),
    pytest.param(121, None, 'legacy', id='tv_densenet121-norm.1-keys'),
    pytest.param(121, 'a', 'module', id='densenet121_ibn_a-module'),
    pytest.param(169, 'a', 'current', id='densenet169_ibn_a'),
])
def test_published_weights_give_the_published_outputs(tmp_path, depth, ibn,
                                                      key_style):
    torch.manual_seed(depth)
    reference = randomize(PublishedDenseNet(depth, ibn is not None))
    state = reference.state_dict()
    if key_style == 'legacy':
        state = legacy_keys(state)
        assert 'features.denseblock1.denselayer1.norm.1.weight' in state
    elif key_style == 'module':  # the older DataParallel .pth.tar format
        state = {'state_dict': {'module.' + k: v for k, v in state.items()}}
    torch.save(state, tmp_path / 'w.pth')
    model = _build(tmp_path / 'w.pth', depth=depth, ibn=ibn)
    reference, model = reference.double(), model.double()
    x = torch.randn(2, 3, 64, 64, dtype=torch.float64)
    with torch.no_grad():
        expected = reference.stages(x)
        got = model(x)
    assert [o.shape for o in got] == [o.shape for o in expected]
    assert _max_diff(got, expected) <= 1e-9
    # and training mode (batch statistics) agrees too
    with torch.no_grad():
        got = model.train()(x)
        expected = reference.train().stages(x)
    assert _max_diff(got, expected) <= 1e-9


def test_the_same_file_loads_into_the_dilated_backbone(tmp_path):
    reference = randomize(PublishedDenseNet(121, True)).double()
    torch.save(reference.state_dict(), tmp_path / 'w.pth')
    model = _build(tmp_path / 'w.pth', strides=(1, 2, 1, 1),
                   dilations=(1, 1, 2, 4)).double()
    x = torch.randn(1, 3, 64, 64, dtype=torch.float64)
    with torch.no_grad():
        outs = model(x)
        expected = reference.stages(x)
    assert [o.shape[-2:] for o in outs] == [(16, 16)] + [(8, 8)] * 3
    # blocks 1 and 2 are not dilated: the published model's outputs
    assert _max_diff(outs[:2], expected[:2]) <= 1e-9


def test_a_resnet_file_says_what_it_is_and_what_the_model_is(tmp_path):
    torch.save(PublishedResNet(18, 'a').state_dict(), tmp_path / 'r.pth')
    with pytest.raises(ValueError) as error:
        _build(tmp_path / 'r.pth')
    dense_in = ', '.join(f'features.denseblock{i}.denselayer*.norm1.IN'
                         for i in (1, 2, 3))
    assert str(error.value).splitlines()[:3] == [
        f'{tmp_path / "r.pth"} does not fit IBNDenseNet.',
        '  the file looks like: 2x2x2x2 blocks, IN at layer1.*.bn1.IN, '
        'layer2.*.bn1.IN, layer3.*.bn1.IN (the layout of '
        'resnet18_ibn_a-2f571257.pth)',
        f'  the model is:        6x12x24x16 blocks, IN at {dense_in} (the '
        'layout of densenet121_ibn_a-e4af5cc1.pth)']


def test_a_file_of_another_densenet_names_both_layouts(tmp_path):
    state = legacy_keys(PublishedDenseNet(121, False).state_dict())
    torch.save(state, tmp_path / 'tv121.pth')
    with pytest.raises(ValueError) as error:
        _build(tmp_path / 'tv121.pth', depth=169)
    message = str(error.value)
    assert '(the layout of densenet121-a639ec97.pth)' in message
    assert '(the layout of densenet169_ibn_a-9f32c161.pth)' in message
    assert 'missing keys: features.denseblock1.denselayer1.norm1.IN' in message
    assert 'unexpected keys: features.denseblock1.denselayer1.norm1.weight' \
        in message
    assert ('shape mismatches (file vs model): features.transition3.norm.'
            'weight (1024,) vs (1280,)') in message


@pytest.mark.parametrize('depth,name', [(161, 'densenet161-8d451a50.pth'),
                                        (201, 'densenet201-c1103571.pth')])
def test_plain_densenet_files_are_named(depth, name):
    with torch.device('meta'):  # keys and shapes only
        state = PublishedDenseNet(depth, False).state_dict()
    blocks = 'x'.join(map(str, ARCHS[depth][2]))
    assert _layout(state) == f'{blocks} blocks, no IN (the layout of {name})'
