import copy
import dataclasses

import pytest
import torch
import torch.nn as nn
from mmengine.model.utils import revert_sync_batchnorm
from mmseg.models.backbones import ResNet
from mmseg.registry import MODELS

from ibnseg.models import (IBN, IBNDenseNet, IBNLayout, IBNResNet,
                           IBNResNetV1c, IBNResNetV1d, StageLayout)


def _params(model):
    """Parameter count, with the published 1000-class fc added."""
    return sum(p.numel() for p in model.parameters()) + (
        model.feat_dim * 1000 + 1000)


# Key counts (with fc) and parameter counts (with fc) of REFERENCE.md s.2:
# IBN-a adds no parameter, IBN-b the IN of the stem and of two stages.
R = 'IBNResNet'


@pytest.mark.parametrize('backbone,depth,ibn,keys,params', [
    (R, 18, None, 122, 11_689_512), (R, 18, 'a', 134, 11_689_512),
    (R, 18, 'b', 123, 11_689_512 + 2 * (64 + 128)),
    (R, 34, 'a', 244, 21_797_672), (R, 50, 'a', 346, 25_557_032),
    (R, 101, 'a', 686, 44_549_160), (R, 152, 'a', None, 60_192_808),
    (R, 34, 'b', 219, None), (R, 50, 'b', 321, 25_557_032 + 2 * (256 + 512)),
    (R, 101, 'b', 627, 44_550_696), (R, 50, None, 320, 25_557_032),
    pytest.param('IBNResNeXt', 101, 'a', None, 44_177_704,
                 marks=pytest.mark.slow),
    pytest.param('IBNSEResNet', 101, 'a', 752, 49_292_328,
                 marks=pytest.mark.slow),
])
def test_published_key_and_parameter_counts(backbone, depth, ibn, keys,
                                            params):
    model = MODELS.build(dict(type=backbone, depth=depth, ibn=ibn))
    if keys is not None:
        assert len(model.state_dict()) + 2 == keys
    assert params is None or _params(model) == params


# IBN-a's IN (on half the channels) in ResNet-18, stages 1-3
A18 = {f'layer{s}.{b}.bn1.IN': 16 * 2**s for s in (1, 2, 3) for b in (0, 1)}


@pytest.mark.parametrize('kwargs,widths', [
    (dict(ibn=None), {}),
    (dict(ibn='a'), A18),
    (dict(ibn='ax2'), {**A18, **{k.replace('bn1', 'bn2'): v
                                 for k, v in A18.items()}}),
    (dict(ibn='b'), {'bn1': 64, 'layer1.1.IN': 64, 'layer2.1.IN': 128}),
    (dict(ibn='c'), {k: 2 * v for k, v in A18.items()}),
    (dict(ibn='d'), {'bn1.IN': 32, 'layer1.1.IN': 32, 'layer2.1.IN': 64}),
    (dict(ibn='a&d'), {**A18, 'bn1.IN': 32, 'layer1.1.IN': 32,
                       'layer2.1.IN': 64}),
    (dict(ibn='a', ibn_ratio=0.25, ibn_stages=(True, False, False, True)),
     {'layer1.0.bn1.IN': 16, 'layer1.1.bn1.IN': 16, 'layer4.0.bn1.IN': 128,
      'layer4.1.bn1.IN': 128}),
    (dict(depth=50, ibn='b'), {'bn1': 64, 'layer1.2.IN': 256,
                               'layer2.3.IN': 512}),
])
def test_where_each_variant_puts_instance_norm(kwargs, widths):
    """Every IN of the model (IBN-c's and the IBN-b stem's on all channels
    of their norm), by module name, with its number of channels."""
    model = IBNResNet(**dict(dict(depth=18), **kwargs))
    assert {name: m.num_features for name, m in model.named_modules()
            if isinstance(m, nn.InstanceNorm2d)} == widths


def test_the_layout_is_resolved_once_and_immutable():
    """Explicit stages apply to every part of the variant, for any number
    of stages."""
    layout = IBNLayout.resolve('Owner', 'a&d', 0.5, (False, True, False), 3)
    assert layout.stem == 'IBN' and layout.has_in
    assert layout.stages == (StageLayout(), StageLayout((1, ), 0.5, False,
                                                        0.5), StageLayout())
    assert not IBNLayout.resolve('Owner', None, 0.5, None, 4).has_in
    with pytest.raises(dataclasses.FrozenInstanceError):
        IBNResNet(depth=18).layout.stages[0].block_norms = (1, )


def test_frozen_stages_freeze_in_affine_parameters_and_stem_in():
    model = IBNResNet(depth=18, ibn='b', frozen_stages=1)
    model.train()
    assert not model.bn1.weight.requires_grad
    assert not model.layer1[1].IN.weight.requires_grad
    assert model.layer2[1].IN.weight.requires_grad
    a = IBNResNet(depth=18, ibn='a', frozen_stages=2).train()
    assert not a.layer2[0].bn1.IN.weight.requires_grad
    assert not a.layer2[0].bn1.BN.training
    assert a.layer3[0].bn1.IN.weight.requires_grad
    assert a.layer3[0].bn1.BN.training


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


def test_syncbn_reaches_the_bn_halves_and_reverts_to_bn():
    """(A reverted IBN computes what it did: test_ibn_layer.py.)"""
    sync = IBNResNet(depth=18, ibn='a', base_channels=8, stem_channels=8,
                     norm_cfg=dict(type='SyncBN', requires_grad=True))
    assert isinstance(sync.layer1[0].bn1.BN, nn.SyncBatchNorm)
    assert isinstance(sync.layer1[0].bn2, nn.SyncBatchNorm)
    reverted = revert_sync_batchnorm(sync)
    assert not any(
        isinstance(m, nn.SyncBatchNorm) for m in reverted.modules())
    reverted.train()(torch.randn(2, 3, 64, 64))  # trains on one device


@pytest.mark.parametrize('cls,cfg', [
    (IBNResNet, dict(depth=18, ibn='b', base_channels=8, stem_channels=8)),
    (IBNDenseNet, dict(ibn='a'))])
def test_with_cp_gives_the_same_outputs_and_gradients(cls, cfg):
    model = cls(**cfg).train()
    checkpointed = cls(with_cp=True, **cfg).train()
    checkpointed.load_state_dict(model.state_dict())
    x = torch.randn(2, 3, 32, 32, requires_grad=True)
    grads = [torch.autograd.grad(sum(o.pow(2).mean() for o in m(x)), x)[0]
             for m in (model, checkpointed)]
    torch.testing.assert_close(*grads, atol=1e-5, rtol=1e-4)


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
