import copy

import pytest
import torch
import torch.nn as nn
from mmengine.model.utils import revert_sync_batchnorm
from mmseg.models.backbones import ResNet
from mmseg.registry import MODELS

from ibnseg.models import (IBN, IBNResNet, IBNResNetV1c, IBNResNetV1d,
                           IBNResNeXt, InstanceNormSizeError)

torch.set_num_threads(1)

VARIANTS = [None, 'a', 'b', 'c', 'd', 'a&d', 'ax2']


def _params(model, with_fc=True):
    """Parameter count, with the published 1000-class fc added."""
    feat = model.feat_dim
    return sum(p.numel() for p in model.parameters()) + (
        feat * 1000 + 1000 if with_fc else 0)


@pytest.mark.parametrize('ibn', VARIANTS)
@pytest.mark.parametrize('depth', [18, 34, 50, 101, 152])
def test_every_depth_and_variant_builds_and_runs(depth, ibn):
    model = MODELS.build(
        dict(type='IBNResNet', depth=depth, ibn=ibn, base_channels=8,
             stem_channels=8)).train()
    outs = model(torch.randn(2, 3, 64, 64))
    exp = 1 if depth < 50 else 4
    assert [o.shape for o in outs] == [(2, 8 * exp * 2**i, 16 // 2**i,
                                        16 // 2**i) for i in range(4)]
    assert all(torch.isfinite(o).all() for o in outs)


# Key counts (with fc) and parameter counts (with fc) of REFERENCE.md s.2.
@pytest.mark.parametrize('depth,ibn,keys,params', [
    (18, 'a', 134, 11_689_512), (34, 'a', 244, 21_797_672),
    (50, 'a', 346, 25_557_032), (101, 'a', 686, 44_549_160),
    (152, 'a', None, 60_192_808), (18, 'b', 123, None),
    (34, 'b', 219, None), (50, 'b', 321, 25_558_568),
    (101, 'b', 627, 44_550_696), (50, None, 320, 25_557_032)
])
def test_published_key_and_parameter_counts(depth, ibn, keys, params):
    model = IBNResNet(depth=depth, ibn=ibn)
    if keys is not None:
        assert len(model.state_dict()) + 2 == keys
    if params is not None:
        assert _params(model) == params


@pytest.mark.slow
def test_resnext_and_se_resnet_parameter_counts():
    assert _params(IBNResNeXt(depth=101)) == 44_177_704
    se = MODELS.build(dict(type='IBNSEResNet', depth=101))
    assert _params(se) == 49_292_328
    assert len(se.state_dict()) + 2 == 752
    assert se.state_dict()['layer3.0.se.fc.0.weight'].shape == (64, 1024)


@pytest.mark.parametrize('depth', [18, 50])
def test_ibn_a_adds_no_parameter_and_ibn_b_adds_the_published_amount(depth):
    plain = _params(IBNResNet(depth=depth, ibn=None))
    assert _params(IBNResNet(depth=depth, ibn='a')) == plain
    extra = 2 * (256 + 512) if depth >= 50 else 2 * (64 + 128)
    assert _params(IBNResNet(depth=depth, ibn='b')) == plain + extra


def test_ibn_a_and_b_key_names_and_shapes():
    a = IBNResNet(depth=50, ibn='a').state_dict()
    for stage, half in ((1, 32), (2, 64), (3, 128)):
        for part in ('IN.weight', 'IN.bias', 'BN.weight', 'BN.running_var'):
            assert a[f'layer{stage}.1.bn1.{part}'].shape == (half, )
    assert 'layer4.0.bn1.weight' in a and 'layer4.0.bn1.IN.weight' not in a
    assert a['bn1.running_mean'].shape == (64, )
    b = IBNResNet(depth=50, ibn='b').state_dict()
    assert b['bn1.weight'].shape == (64, ) and 'bn1.running_mean' not in b
    assert b['layer1.2.IN.weight'].shape == (256, )
    assert b['layer2.3.IN.bias'].shape == (512, )
    assert not any('.IN.' in k for k in b if k.startswith(('layer3',
                                                            'layer4')))
    b18 = IBNResNet(depth=18, ibn='b').state_dict()
    assert {k for k in b18 if '.IN.' in k} == {
        'layer1.1.IN.weight', 'layer1.1.IN.bias', 'layer2.1.IN.weight',
        'layer2.1.IN.bias'
    }


def test_other_variants_layouts():
    c = IBNResNet(depth=50, ibn='c')
    assert c.layer1[0].conv2.in_channels == 128
    assert c.layer1[0].bn1.IN.num_features == 64
    assert c.layer4[0].conv2.in_channels == 512
    d = IBNResNet(depth=50, ibn='d').state_dict()
    assert d['bn1.IN.weight'].shape == (32, )
    assert d['layer1.2.IN.weight'].shape == (128, )
    assert 'layer1.1.IN.weight' not in d
    ad = IBNResNet(depth=50, ibn='a&d').state_dict()
    assert 'layer3.0.bn1.IN.weight' in ad and 'layer2.3.IN.weight' in ad
    ax2 = IBNResNet(depth=18, ibn='ax2').state_dict()
    assert ax2['layer3.1.bn2.IN.weight'].shape == (128, )
    assert 'layer4.1.bn2.IN.weight' not in ax2


def test_stage_override_and_ratio():
    model = IBNResNet(
        depth=18, ibn='a', ibn_ratio=0.25, ibn_stages=(True, False, False,
                                                       True))
    sd = model.state_dict()
    assert sd['layer1.0.bn1.IN.weight'].shape == (16, )
    assert sd['layer4.1.bn1.IN.weight'].shape == (128, )
    assert 'layer2.0.bn1.IN.weight' not in sd
    assert 'layer3.0.bn1.IN.weight' not in sd


def test_odd_widths_of_a_small_backbone():
    model = IBNResNet(depth=18, ibn='a', base_channels=15, stem_channels=9)
    assert model.layer1[0].bn1.IN.num_features == 7
    assert model.layer1[0].bn1.BN.num_features == 8
    outs = model.train()(torch.randn(2, 3, 64, 48))
    assert outs[0].shape == (2, 15, 16, 12)
    outs[-1].sum().backward()
    assert model.layer1[0].bn1.IN.weight.grad is not None


@pytest.mark.parametrize('ibn,kwargs,message', [
    ('e', {}, r"ibn must be one of \(None, 'a', .*got 'e'"),
    ('a', dict(ibn_ratio=-0.1), r'ibn_ratio must be a number in \[0, 1\]'),
    ('a', dict(ibn_stages=(True, False)),
     'ibn_stages must be a list or tuple of 4 bools'),
    ('d', dict(ibn_ratio=0.0), 'needs ibn_ratio > 0'),
    ('a', dict(depth=42), r'depth must be an int, one of \(18, .*got 42'),
])
def test_bad_options_are_refused(ibn, kwargs, message):
    kwargs.setdefault('depth', 18)
    with pytest.raises(ValueError, match=message):
        IBNResNet(ibn=ibn, **kwargs)


def test_resnext_refuses_basic_block_depths():
    with pytest.raises(ValueError,
                       match=r'IBNResNeXt: depth .*\(50, .*got 18'):
        IBNResNeXt(depth=18)


def test_instance_norm_on_a_single_element_names_stage_and_size():
    model = IBNResNet(depth=18, ibn='a', base_channels=8, stem_channels=8)
    model(torch.randn(2, 3, 17, 17))  # stage 3 output is 2x2: fine
    with pytest.raises(InstanceNormSizeError,
                       match=r'stage 3 \(layer3\).*16x16 input.*at least 17'):
        model(torch.randn(2, 3, 16, 16))
    b = IBNResNet(depth=18, ibn='b', base_channels=8, stem_channels=8)
    with pytest.raises(InstanceNormSizeError, match='stage 2'):
        b.eval()(torch.randn(1, 3, 8, 8))


def test_d8_layout_with_contract_dilation_and_out_indices():
    model = IBNResNet(
        depth=50, ibn='b', base_channels=8, stem_channels=8,
        dilations=(1, 1, 2, 4), strides=(1, 2, 1, 1), contract_dilation=True,
        out_indices=(1, 3))
    assert model.layer3[0].conv2.dilation == (1, 1)
    assert model.layer3[1].conv2.dilation == (2, 2)
    outs = model(torch.randn(1, 3, 64, 64))
    assert [o.shape[-1] for o in outs] == [8, 8]


def test_frozen_stages_freeze_in_affine_parameters_and_stem_in():
    model = IBNResNet(depth=18, ibn='b', frozen_stages=1)
    model.train()
    assert not model.bn1.weight.requires_grad
    assert not model.layer1[1].IN.weight.requires_grad
    assert model.layer2[1].IN.weight.requires_grad
    a = IBNResNet(depth=18, ibn='a', frozen_stages=2).train()
    assert not a.layer2[0].bn1.IN.weight.requires_grad
    assert not a.layer2[0].bn1.BN.training
    assert a.layer3[0].bn1.IN.weight.requires_grad and a.layer3[0].bn1.BN.training


def test_norm_eval_keeps_bn_halves_in_eval_and_their_stats_fixed():
    model = IBNResNet(
        depth=18, ibn='a', base_channels=8, stem_channels=8, norm_eval=True)
    model.train()
    bn_half = model.layer1[0].bn1.BN
    assert model.training and not bn_half.training
    before = bn_half.running_mean.clone()
    outs = model(torch.randn(2, 3, 64, 64))
    torch.testing.assert_close(bn_half.running_mean, before)
    outs[0].sum().backward()  # IN affine still learns
    assert model.layer1[0].bn1.IN.weight.grad.abs().sum() > 0


def test_train_mode_updates_bn_half_running_stats():
    model = IBNResNet(depth=18, ibn='a', base_channels=8, stem_channels=8)
    bn_half = model.layer2[1].bn1.BN
    model.train()(torch.randn(2, 3, 64, 64))
    assert int(bn_half.num_batches_tracked) == 1
    assert bn_half.running_mean.abs().sum() > 0


def test_syncbn_builds_and_reverts_to_bn_with_equal_outputs():
    cfg = dict(depth=18, ibn='a', base_channels=8, stem_channels=8)
    sync = IBNResNet(norm_cfg=dict(type='SyncBN', requires_grad=True), **cfg)
    assert isinstance(sync.layer1[0].bn1.BN, nn.SyncBatchNorm)
    assert isinstance(sync.layer1[0].bn2, nn.SyncBatchNorm)
    plain = IBNResNet(**cfg)
    plain.load_state_dict(sync.state_dict())
    reverted = revert_sync_batchnorm(sync).eval()
    assert not any(
        isinstance(m, nn.SyncBatchNorm) for m in reverted.modules())
    x = torch.randn(2, 3, 64, 64)
    for a, b in zip(reverted(x), plain.eval()(x)):
        torch.testing.assert_close(a, b, atol=1e-5, rtol=0)
    reverted.train()(x)  # trains on one device after the revert


def test_eval_features_of_a_sample_do_not_depend_on_the_batch():
    model = IBNResNet(
        depth=18, ibn='a', base_channels=8, stem_channels=8).eval()
    batch = torch.randn(3, 3, 64, 64)
    alone = model(batch[2:])
    mixed = model(torch.cat([batch[:2] * 4 + 1, batch[2:]]))
    for a, b in zip(mixed, alone):
        torch.testing.assert_close(a[2:], b, atol=1e-5, rtol=0)


def test_with_cp_gives_the_same_outputs_and_gradients():
    cfg = dict(depth=18, ibn='b', base_channels=8, stem_channels=8)
    model = IBNResNet(**cfg).train()
    cp_model = IBNResNet(with_cp=True, **cfg).train()
    cp_model.load_state_dict(model.state_dict())
    x = torch.randn(2, 3, 64, 64, requires_grad=True)
    x2 = x.detach().clone().requires_grad_()
    model(x)[-1].sum().backward()
    cp_model(x2)[-1].sum().backward()
    torch.testing.assert_close(x.grad, x2.grad, atol=1e-5, rtol=1e-4)


def test_deep_stem_variants():
    c = IBNResNetV1c(depth=18, ibn='b', base_channels=8, stem_channels=16)
    assert isinstance(c.stem[7], nn.InstanceNorm2d)
    assert isinstance(c.stem[1], nn.BatchNorm2d)
    d = IBNResNetV1d(depth=50, ibn='a', base_channels=8, stem_channels=16)
    assert d.layer2[0].downsample[0].kernel_size == 2  # avg_down
    assert d.layer2[0].downsample[0].__class__ is nn.AvgPool2d
    assert isinstance(d.layer2[0].bn1, IBN)
    for m in (c, d):
        outs = m(torch.randn(2, 3, 32, 32))
        assert len(outs) == 4


def test_plain_variant_equals_mmseg_resnet():
    ours = IBNResNet(depth=50, ibn=None, base_channels=8, stem_channels=8)
    mmseg = ResNet(depth=50, base_channels=8, stem_channels=8)
    mmseg.load_state_dict(ours.state_dict())
    mmseg.eval()  # mmseg's ResNet.train returns None: no chaining
    x = torch.randn(2, 3, 32, 32)
    for a, b in zip(ours.eval()(x), mmseg(x)):
        torch.testing.assert_close(a, b, atol=0, rtol=0)


def test_default_init_sets_in_affine_and_zero_init_residual():
    model = IBNResNet(depth=18, ibn='a', base_channels=8, stem_channels=8)
    with torch.no_grad():
        for p in model.parameters():
            p.fill_(0.3)
    model.init_weights()
    assert torch.all(model.layer1[0].bn1.IN.weight == 1)
    assert torch.all(model.layer1[0].bn1.IN.bias == 0)
    assert torch.all(model.layer1[0].bn1.BN.weight == 1)
    assert torch.all(model.layer1[0].bn2.weight == 0)
    copy.deepcopy(model)  # init leaves a picklable/deep-copyable model
