"""Weights in the published format load into the ibnseg backbones and give
the published model's stage outputs; ``StrictPretrained``, the initializer
that IBN backbones turn their init_cfg's ``Pretrained`` into, refuses what
does not fit, naming what the file is."""
import copy
import re

import pytest
import torch
from mmengine.registry import init_default_scope
from mmseg.registry import MODELS

import ibnseg  # noqa: F401
from ibnseg.models.backbones.ibn_weights import WEIGHT_URLS, _layout
from tests.helpers.published_layout import PublishedResNet, randomize

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


def test_segmentor_checkpoints_need_and_take_a_prefix(tmp_path):
    reference = randomize(PublishedResNet(18, 'a'))
    state = {'backbone.' + k: v for k, v in reference.state_dict().items()
             if not k.startswith('fc.')}
    state['decode_head.conv_seg.weight'] = torch.zeros(19, 8, 1, 1)
    path = _save({'meta': {}, 'state_dict': state}, tmp_path / 'seg.pth',
                 False)
    cfg = dict(type='IBNResNet', depth=18, ibn='a')
    with pytest.raises(ValueError, match=re.escape(
            'the file looks like: a whole segmentor checkpoint (keys '
            '"backbone.*"): load it with prefix="backbone." in the init_cfg')):
        _build(cfg, path)
    model = _build(cfg, path, prefix='backbone.')
    torch.testing.assert_close(model.layer2[1].bn1.IN.weight,
                               reference.layer2[1].bn1.IN.weight)


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


def _assert_equal_states(model, weights):
    state = model.state_dict()
    assert state.keys() == weights.keys()
    for key, value in weights.items():
        assert torch.equal(state[key], value), key


def test_loaded_weights_are_not_overwritten_by_sub_module_init(tmp_path):
    """mmengine initialises sub-modules after a module's own init_cfg; a
    plugin's init_weights (NonLocal2d zeroes its output conv) must not
    overwrite what was loaded, as it could not with mmengine's
    Pretrained."""
    cfg = dict(
        SMALL, type='IBNResNet', depth=50, ibn='a',
        plugins=[dict(cfg=dict(type='NonLocal2d', reduction=2),
                      position='after_conv2',
                      stages=(False, False, False, True))])
    weights = _randomized_weights(cfg)
    assert weights['layer4.0.nonlocal_block.conv_out.conv.weight'].abs().min(
    ) >= 0.5
    torch.save(weights, tmp_path / 'w.pth')
    model = _initialised(
        cfg, dict(type='Pretrained', checkpoint=str(tmp_path / 'w.pth')))
    _assert_equal_states(model, weights)


def test_pretrained_comes_after_the_other_inits_wherever_listed(tmp_path):
    cfg = dict(SMALL, type='IBNResNet', ibn='b')
    weights = _randomized_weights(cfg)
    torch.save(weights, tmp_path / 'w.pth')
    model = _initialised(cfg, [
        dict(type='Pretrained', checkpoint=str(tmp_path / 'w.pth')),
        dict(type='Constant', val=0.25, layer=['_BatchNorm', 'Conv2d'])
    ])
    _assert_equal_states(model, weights)


def test_any_module_can_name_it_and_gets_the_strict_errors(tmp_path):
    """On mmseg's own ResNet: mmengine's Pretrained would load half of a
    file for another depth with a warning; StrictPretrained refuses it."""
    weights = _randomized_weights(dict(SMALL, type='ResNet'))
    torch.save(weights, tmp_path / 'r18.pth')
    init = dict(type='StrictPretrained', checkpoint=str(tmp_path / 'r18.pth'))
    with pytest.raises(ValueError, match=r'r18\.pth does not fit ResNet.*'
                       r'\n.*resnet18-f37072fd.*\n.*resnet34-b627a593'):
        _initialised(dict(SMALL, type='ResNet', depth=34), init)
    _assert_equal_states(_initialised(dict(SMALL, type='ResNet'), init),
                         weights)


def test_revise_keys_rename_before_the_prefix_is_taken(tmp_path):
    cfg = dict(SMALL, type='IBNResNet', ibn='a')
    weights = _randomized_weights(cfg)
    torch.save({'state_dict': {'module.encoder.' + k: v
                               for k, v in weights.items()}},
               tmp_path / 'w.pth')
    init = dict(type='Pretrained', checkpoint=str(tmp_path / 'w.pth'))
    # the default revise_keys drop DataParallel's module. first
    _assert_equal_states(_initialised(cfg, dict(init, prefix='encoder.')),
                         weights)
    model = _initialised(cfg, dict(
        init, revise_keys=[(r'^module\.encoder\.', '')]))
    _assert_equal_states(model, weights)
    with pytest.raises(ValueError, match="no weights found under prefix"):
        _initialised(cfg, dict(init, revise_keys=[], prefix='encoder.'))


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
