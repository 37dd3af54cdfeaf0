"""``StrictPretrained``, the weight initializer that IBN backbones turn their
``init_cfg``'s ``Pretrained`` into: registered in mmengine, usable in any
module's init_cfg, and last, as mmengine's own ``Pretrained``."""
import pytest
import torch
from mmengine.registry import init_default_scope
from mmseg.registry import MODELS

import ibnseg  # noqa: F401

init_default_scope('mmseg')
SMALL = dict(depth=18, base_channels=8, stem_channels=8)


def _randomized_weights(cfg, seed=0):
    """A state_dict of ``cfg``'s model unlike any init."""
    model = MODELS.build(cfg)
    gen = torch.Generator().manual_seed(seed)
    with torch.no_grad():
        for value in model.state_dict().values():
            if value.is_floating_point():
                value.uniform_(0.5, 1.5, generator=gen)
    return model.state_dict()


def _initialised(cfg, init_cfg):
    model = MODELS.build(dict(cfg, init_cfg=init_cfg))
    model.init_weights()
    return model


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
                       r'\n.*ResNet-18.*\n.*ResNet-34'):
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
