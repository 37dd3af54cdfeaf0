"""Weights in the published formats load into the ibnseg backbones and give
the published model's stage outputs; ``StrictPretrained`` (what an IBN
backbone's ``Pretrained`` becomes) refuses what does not fit, naming it."""
import copy
import re
from collections import OrderedDict

import pytest
import torch
import torch.nn as nn
from mmengine.registry import init_default_scope
from mmseg.registry import MODELS

import ibnseg  # noqa: F401
from ibnseg.models.backbones.ibn_weights import WEIGHT_URLS, _layout
from tests.helpers.published_layout import PublishedResNet, randomize
from tests.helpers.tiny_experiment import assert_same_weights

init_default_scope('mmseg')
SMALL = dict(depth=18, base_channels=8, stem_channels=8)


def _save(state_dict, path, wrapped):
    if wrapped:  # the older DataParallel .pth.tar format
        state_dict = {
            'state_dict': {'module.' + k: v
                           for k, v in state_dict.items()}
        }
    torch.save(state_dict, path)
    return str(path)


def _max_diffs(outs_a, outs_b):
    return [(a.double() - b.double()).abs().max().item()
            for a, b in zip(outs_a, outs_b)]


def _initialised(cfg, init_cfg):
    model = MODELS.build(dict(cfg, init_cfg=init_cfg))
    model.init_weights()
    return model


def _build(cfg, checkpoint, **init):
    return _initialised(cfg, dict(type='Pretrained', checkpoint=checkpoint,
                                  **init)).eval()


CASES = [
    # depth, variant, reference kwargs, backbone cfg, DataParallel format;
    # each block type with each variant (other depths repeat their blocks)
    pytest.param(18, 'a', {}, 'IBNResNet', False, id='resnet18_ibn_a'),
    pytest.param(18, 'a', {}, 'IBNResNet', True, id='resnet18_ibn_a-module'),
    pytest.param(18, 'b', {}, 'IBNResNet', False, id='resnet18_ibn_b'),
    pytest.param(34, 'a', {}, 'IBNResNet', True, id='resnet34_ibn_a-module'),
    pytest.param(50, 'a', {}, 'IBNResNet', False, id='resnet50_ibn_a'),
    pytest.param(50, 'b', {}, 'IBNResNet', True, id='resnet50_ibn_b-module'),
    pytest.param(50, None, {}, 'IBNResNet', False, id='tv_resnet50'),
    pytest.param(101, 'a', dict(groups=32), 'IBNResNeXt', False,
                 id='resnext101_ibn_a'),
    pytest.param(101, 'a', dict(se=True), 'IBNSEResNet', True,
                 id='se_resnet101_ibn_a-module'),
]


@pytest.mark.slow
@pytest.mark.parametrize('depth,variant,ref_kwargs,backbone,wrapped', CASES)
def test_published_weights_give_the_published_outputs(
        tmp_path, depth, variant, ref_kwargs, backbone, wrapped):
    torch.manual_seed(depth)
    reference = randomize(PublishedResNet(depth, variant, **ref_kwargs))
    path = _save(reference.state_dict(), tmp_path / 'w.pth', wrapped)
    model = _build(dict(type=backbone, depth=depth, ibn=variant), path)
    x = torch.randn(2, 3, 64, 64)
    with torch.no_grad():
        expected32 = reference.stages(x)
        got32 = model(x)
        # float64: both compute the same function, so rounding alone is left
        expected64 = copy.deepcopy(reference).double().stages(x.double())
        got64 = copy.deepcopy(model).double()(x.double())
    assert max(_max_diffs(got64, expected64)) <= 1e-9
    # float32: within 1e-5, or, when larger, within twice the reference's
    # own float32 rounding error (deep random nets amplify rounding, and two
    # float32 computations of one function may err in opposite directions)
    floor = _max_diffs(expected32, expected64)
    for diff, own_error in zip(_max_diffs(got32, expected32), floor):
        assert diff <= max(1e-5, 2 * own_error)


def test_a_file_for_another_variant_says_what_it_is(tmp_path):
    path = _save(PublishedResNet(18, 'b').state_dict(), tmp_path / 'b.pth',
                 False)
    with pytest.raises(ValueError) as error:
        _build(dict(type='IBNResNet', depth=18, ibn='a'), path)
    assert str(error.value).splitlines() == [
        f'{path} does not fit IBNResNet.',
        '  the file looks like: 2x2x2x2 blocks, IN at bn1, layer1.*.IN, '
        'layer2.*.IN (the layout of resnet18_ibn_b-bc2f3c11.pth)',
        '  the model is:        2x2x2x2 blocks, IN at layer1.*.bn1.IN, '
        'layer2.*.bn1.IN, layer3.*.bn1.IN (the layout of '
        'resnet18_ibn_a-2f571257.pth)',
        '  38 missing keys: bn1.running_mean, bn1.running_var, layer1.0.bn1.'
        'IN.weight, layer1.0.bn1.IN.bias, layer1.0.bn1.BN.weight, layer1.0.'
        'bn1.BN.bias, layer1.0.bn1.BN.running_mean, layer1.0.bn1.BN.'
        'running_var, ... (30 more)',
        '  34 unexpected keys: layer1.0.bn1.weight, layer1.0.bn1.bias, '
        'layer1.0.bn1.running_mean, layer1.0.bn1.running_var, layer1.0.bn1.'
        'num_batches_tracked, layer1.1.bn1.weight, layer1.1.bn1.bias, '
        'layer1.1.bn1.running_mean, ... (26 more)']


def test_non_tensor_entries_are_refused(tmp_path):
    path = tmp_path / 'odd.pth'
    torch.save({'conv1.weight': torch.zeros(1), 'note': 'hello'}, path)
    with pytest.raises(ValueError, match=r"odd.pth: entry 'note' is a str"):
        _build(dict(type='IBNResNet', depth=18), str(path))


IBN_A = 'IN at layer1.*.bn1.IN, layer2.*.bn1.IN, layer3.*.bn1.IN'


@pytest.mark.parametrize('model,layout', [
    (lambda: PublishedResNet(101, 'a', groups=32),
     f'3x4x23x3 blocks, {IBN_A} (the layout of '
     'resnext101_ibn_a-6ace051d.pth)'),
    (lambda: PublishedResNet(101, 'a', se=True),
     f'3x4x23x3 blocks, {IBN_A} (the layout of '
     'se_resnet101_ibn_a-fabed4e2.pth)'),
    (lambda: PublishedResNet(34, None),
     '3x4x6x3 blocks, no IN (the layout of resnet34-b627a593.pth)'),
    # no published file has their stem, convs or IN
    (lambda: MODELS.build(dict(type='IBNResNetV1c', depth=50, ibn='a')),
     f'3x4x6x3 blocks, {IBN_A}'),
    (lambda: MODELS.build(dict(type='IBNResNet', depth=50, ibn='c')),
     f'3x4x6x3 blocks, {IBN_A}'),
    (lambda: MODELS.build(dict(type='IBNResNet', depth=50, ibn='d')),
     '3x4x6x3 blocks, IN at bn1.IN, layer1.*.IN, layer2.*.IN'),
    (lambda: MODELS.build(dict(type='IBNDenseNet')),
     '6x12x24x16 blocks, IN at ' + ', '.join(
         f'features.denseblock{i}.denselayer*.norm1.IN' for i in (1, 2, 3))
     + ' (the layout of densenet121_ibn_a-e4af5cc1.pth)'),
    (lambda: PublishedDenseNet(161, False),
     '6x12x36x24 blocks, no IN (the layout of densenet161-8d451a50.pth)'),
    (lambda: PublishedDenseNet(201, False),
     '6x12x48x32 blocks, no IN (the layout of densenet201-c1103571.pth)'),
])
def test_layouts_name_the_published_file_only_when_it_fits(model, layout):
    with torch.device('meta'):  # keys and shapes only
        assert _layout(model().state_dict()) == layout


def _randomized_weights(cfg, seed=0):
    """A state_dict of ``cfg``'s model unlike any init."""
    model = MODELS.build(cfg)
    gen = torch.Generator().manual_seed(seed)
    with torch.no_grad():
        for value in model.state_dict().values():
            if value.is_floating_point():
                value.uniform_(0.5, 1.5, generator=gen)
    return model.state_dict()


@pytest.mark.parametrize('cfg,other_inits', [
    # mmengine initialises sub-modules after a module's own init_cfg: a
    # plugin's init_weights (NonLocal2d zeroes its output conv) must not
    # overwrite what was loaded, as it could not with mmengine's Pretrained
    (dict(SMALL, type='IBNResNet', depth=50, ibn='a',
          plugins=[dict(cfg=dict(type='NonLocal2d', reduction=2),
                        position='after_conv2',
                        stages=(False, False, False, True))]), []),
    # Pretrained listed before another init still comes last
    (dict(SMALL, type='IBNResNet', ibn='b'),
     [dict(type='Constant', val=0.25, layer=['_BatchNorm', 'Conv2d'])]),
])
def test_loaded_weights_are_not_overwritten_by_other_inits(
        tmp_path, cfg, other_inits):
    weights = _randomized_weights(cfg)
    torch.save(weights, tmp_path / 'w.pth')
    model = _initialised(cfg, [
        dict(type='Pretrained', checkpoint=str(tmp_path / 'w.pth')),
        *other_inits])
    assert_same_weights(weights, model.state_dict())


def test_any_module_can_name_it_and_gets_the_strict_errors(tmp_path):
    """On mmseg's own ResNet: mmengine's Pretrained would load half of a
    file for another depth with a warning; StrictPretrained refuses it."""
    weights = _randomized_weights(dict(SMALL, type='ResNet'))
    torch.save(weights, tmp_path / 'r18.pth')
    init = dict(type='StrictPretrained', checkpoint=str(tmp_path / 'r18.pth'))
    with pytest.raises(ValueError, match=r'r18\.pth does not fit ResNet.*'
                       r'\n.*resnet18-f37072fd.*\n.*resnet34-b627a593'):
        _initialised(dict(SMALL, type='ResNet', depth=34), init)
    assert_same_weights(
        weights, _initialised(dict(SMALL, type='ResNet'), init).state_dict())


def test_segmentor_checkpoints_take_a_prefix_after_revise_keys(tmp_path):
    """A whole segmentor's checkpoint, saved through DataParallel."""
    cfg = dict(SMALL, type='IBNResNet', ibn='a')
    weights = _randomized_weights(cfg)
    state = {'module.backbone.' + k: v for k, v in weights.items()}
    state['module.decode_head.conv_seg.weight'] = torch.zeros(19, 8, 1, 1)
    torch.save({'meta': {}, 'state_dict': state}, tmp_path / 'w.pth')
    init = dict(type='Pretrained', checkpoint=str(tmp_path / 'w.pth'))
    with pytest.raises(ValueError, match=re.escape(
            'the file looks like: a whole segmentor checkpoint (keys '
            '"backbone.*"): load it with prefix="backbone." in the init_cfg')):
        _initialised(cfg, init)
    # the default revise_keys drop DataParallel's module. first
    model = _initialised(cfg, dict(init, prefix='backbone.'))
    assert_same_weights(weights, model.state_dict())
    with pytest.raises(ValueError, match="no weights found under prefix"):
        _initialised(cfg, dict(init, revise_keys=[], prefix='backbone.'))


def test_constant_init_of_batch_norm_named_alone_covers_instance_norm():
    cfg = dict(SMALL, type='IBNResNet', ibn='b')
    model = _initialised(cfg, dict(type='Constant', val=0.25,
                                   layer='_BatchNorm'))
    for norm in (model.bn1, model.layer1[-1].IN, model.layer1[0].bn1):
        assert torch.all(norm.weight == 0.25), norm


@pytest.mark.parametrize('name', ['resnet50_ibn_b-9ca61e85.pth',
                                  'resnet101-63fe2227.pth', 'x.pth'])
def test_missing_file_names_url_and_place(tmp_path, name):
    path = tmp_path / 'checkpoints' / name
    backbone = MODELS.build(dict(
        type='IBNResNet', depth=18, ibn='a', base_channels=8,
        stem_channels=8, init_cfg=dict(type='Pretrained',
                                       checkpoint=str(path))))
    where = (f'download it from {WEIGHT_URLS[name]} and put it at {path}'
             if name in WEIGHT_URLS else "check the path in the config's "
             'init_cfg')
    with pytest.raises(FileNotFoundError, match=re.escape(
            f'weight file {path} not found: {where} (or set the backbone\'s '
            'init_cfg to the URL)')):
        backbone.init_weights()


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


@pytest.mark.slow
@pytest.mark.parametrize('depth,ibn,key_style', [
    pytest.param(121, 'a', 'current', id='densenet121_ibn_a'),
    pytest.param(121, None, 'legacy', id='tv_densenet121-norm.1-keys'),
    pytest.param(121, 'a', 'module', id='densenet121_ibn_a-module'),
    pytest.param(169, 'a', 'current', id='densenet169_ibn_a'),
])
def test_published_densenet_weights_give_the_published_outputs(
        tmp_path, depth, ibn, key_style):
    torch.manual_seed(depth)
    reference = randomize(PublishedDenseNet(depth, ibn is not None))
    state = reference.state_dict()
    if key_style == 'legacy':
        state = legacy_keys(state)
        assert 'features.denseblock1.denselayer1.norm.1.weight' in state
    path = _save(state, tmp_path / 'w.pth', key_style == 'module')
    model = _build(dict(type='IBNDenseNet', depth=depth, ibn=ibn), path)
    reference, model = reference.double(), model.double()
    x = torch.randn(2, 3, 64, 64, dtype=torch.float64)
    with torch.no_grad():
        expected = reference.stages(x)
        got = model(x)
    assert [o.shape for o in got] == [o.shape for o in expected]
    assert max(_max_diffs(got, expected)) <= 1e-9
    # and training mode (batch statistics) agrees too
    with torch.no_grad():
        got = model.train()(x)
        expected = reference.train().stages(x)
    assert max(_max_diffs(got, expected)) <= 1e-9


def test_a_file_of_another_densenet_names_both_layouts(tmp_path):
    state = legacy_keys(PublishedDenseNet(121, False).state_dict())
    path = str(tmp_path / 'tv121.pth')
    torch.save(state, path)
    with pytest.raises(ValueError) as error:
        _build(dict(type='IBNDenseNet', depth=169), path)
    message = str(error.value)
    assert '(the layout of densenet121-a639ec97.pth)' in message
    assert '(the layout of densenet169_ibn_a-9f32c161.pth)' in message
    assert 'missing keys: features.denseblock1.denselayer1.norm1.IN' in message
    assert 'unexpected keys: features.denseblock1.denselayer1.norm1.weight' \
        in message
    assert ('shape mismatches (file vs model): features.transition3.norm.'
            'weight (1024,) vs (1280,)') in message
