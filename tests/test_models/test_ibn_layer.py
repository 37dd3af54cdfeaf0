import copy
import io

import pytest
import torch
import torch.nn as nn
import torch.nn.functional as F
from mmcv.cnn import build_norm_layer
from mmengine.model.utils import revert_sync_batchnorm
from mmengine.registry import init_default_scope

from ibnseg.models import (IBN, InstanceNormSizeError, ParallelIBN,
                           PartialInstanceNorm)
from ibnseg.models.layers import ibn as ibn_module
from ibnseg.models.layers import ibn_fused


def _randomized(layer, seed=0):
    gen = torch.Generator().manual_seed(seed)
    with torch.no_grad():
        for p in layer.parameters():
            p.uniform_(0.5, 1.5, generator=gen)
        if layer.BN is not None:
            layer.BN.running_mean.uniform_(-1, 1, generator=gen)
            layer.BN.running_var.uniform_(0.5, 2, generator=gen)
    return layer


def _by_hand(layer, x):
    """IN/BN of the two channel parts with torch.nn.functional directly."""
    k, c = layer.num_in, layer.num_features
    in_first = layer.order == 'IN-BN'
    in_x = x[:, :k] if in_first else x[:, c - k:]
    bn_x = x[:, k:] if in_first else x[:, :c - k]
    parts = []
    if layer.IN is not None:
        parts.append(
            F.instance_norm(in_x, weight=layer.IN.weight,
                            bias=layer.IN.bias, eps=layer.IN.eps))
    if layer.BN is not None:
        bn = layer.BN
        parts.append(
            F.batch_norm(bn_x, bn.running_mean.clone(),
                         bn.running_var.clone(), bn.weight, bn.bias,
                         bn.training, 0.0, bn.eps))
    return torch.cat(parts if in_first else parts[::-1], 1)


# (channels, ratio, IN channels with order 'IN-BN', with 'BN-IN'); with
# 'BN-IN' the BN part is the one counted, int(C * (1 - ratio)), as in the
# published DenseNet-IBN-a (160: DenseNet-121's denselayer4)
LAYOUTS = [(8, 0.5, 4, 4), (7, 0.5, 3, 4), (9, 0.25, 2, 3), (5, 1.0, 5, 5),
           (5, 0.0, 0, 0), (3, 0.4, 1, 2), (160, 0.4, 64, 64), (1, 0.4, 0, 1)]


@pytest.mark.parametrize('channels,ratio,num_in,num_in_bn_first', LAYOUTS)
@pytest.mark.parametrize('order', IBN.ORDERS)
@pytest.mark.parametrize('mode', ['train', 'eval', 'norm_eval'])
def test_fused_matches_split_and_by_hand(channels, ratio, num_in,
                                         num_in_bn_first, order, mode,
                                         monkeypatch):
    fused = _randomized(IBN(channels, ratio, order=order))
    split = IBN(channels, ratio, order=order, fused=False)
    split.load_state_dict(fused.state_dict())
    if order == 'BN-IN':
        num_in = num_in_bn_first
    assert fused.num_in == num_in
    assert (fused.IN is None) == (num_in == 0)
    assert (fused.BN is None) == (num_in == channels)
    for layer in (fused, split):
        layer.train(mode != 'eval')
        if mode == 'norm_eval' and layer.BN is not None:
            layer.BN.eval()
    x = (torch.randn(3, channels, 5, 6) * 3 + 1).requires_grad_()
    x_split = x.detach().clone().requires_grad_()
    expected = _by_hand(fused, x.detach())
    out = fused(x)
    with monkeypatch.context() as patch:  # the split path never fuses
        patch.setattr(ibn_module, 'fused_ibn', None)
        out_split = split(x_split)
    torch.testing.assert_close(out, expected, atol=1e-5, rtol=0)
    torch.testing.assert_close(out, out_split, atol=1e-5, rtol=0)
    grad = torch.randn_like(out)
    (out * grad).sum().backward()
    (out_split * grad).sum().backward()
    torch.testing.assert_close(x.grad, x_split.grad, atol=1e-5, rtol=1e-5)
    for p, q in zip(fused.parameters(), split.parameters()):
        torch.testing.assert_close(p.grad, q.grad, atol=1e-4, rtol=1e-5)
    for a, b in zip(fused.buffers(), split.buffers()):
        torch.testing.assert_close(a, b, atol=1e-6, rtol=1e-6)
    if mode == 'eval':
        # without gradients (or traced): one affine map per plane in plain
        # ops, never the autograd.Function, which tracers cannot record;
        # differentiable, for a traced model
        x_affine = x.detach().clone().requires_grad_()
        out = ibn_fused._affine_ibn(x_affine, fused.IN, fused.BN,
                                    order == 'IN-BN')
        torch.testing.assert_close(out, expected, atol=1e-5, rtol=0)
        fused.zero_grad()
        (out * grad).sum().backward()
        torch.testing.assert_close(x_affine.grad, x_split.grad, atol=1e-5,
                                   rtol=1e-5)
        for p, q in zip(fused.parameters(), split.parameters()):
            torch.testing.assert_close(p.grad, q.grad, atol=1e-4, rtol=1e-5)
        monkeypatch.setattr(ibn_fused._FusedIBNFunction, 'apply', None)
        with torch.no_grad():
            torch.testing.assert_close(fused(x), expected, atol=1e-5,
                                       rtol=0)
    # and in float64 the fused path is the by-hand norm to rounding
    x64 = x.detach().double()
    with torch.no_grad():
        out64 = copy.deepcopy(fused).double()(x64)
    torch.testing.assert_close(out64, _by_hand(fused.double(), x64), rtol=0,
                               atol=1e-12)


def test_inference_statistics_hold_on_nearly_constant_planes():
    """A one-pass E[x^2] - E[x]^2 in float32 loses a plane of 100 +- 0.01;
    float32 resolves 100 to 4e-6, so its output is good to about 1e-3."""
    layer = _randomized(IBN(6, 0.5)).eval()
    x = torch.randn(2, 6, 8, 8) * 0.01 + 100
    with torch.no_grad():
        expected = _by_hand(copy.deepcopy(layer).double(), x.double())
        out = layer(x)
    torch.testing.assert_close(out.double(), expected, atol=3e-3, rtol=0)


def test_training_mode_traces_through_the_split_path():
    """The training path's autograd.Function would stay a Python call in
    the graph, which torch.jit.save refuses."""
    layer = _randomized(IBN(6, 0.5)).train()
    x, other = torch.randn(2, 6, 5, 7), torch.randn(3, 6, 4, 4)
    traced = torch.jit.trace(layer, x, check_trace=False)
    torch.jit.save(traced, io.BytesIO())
    torch.testing.assert_close(traced(other), _by_hand(layer, other),
                               atol=1e-5, rtol=0)


def test_running_stats_follow_batchnorm_including_cumulative_average():
    layer = IBN(6, 0.5, norm_cfg=dict(type='BN', momentum=None))
    reference = nn.BatchNorm2d(3, momentum=None)
    for _ in range(3):
        x = torch.randn(4, 6, 3, 5) * 2 + 0.5
        layer(x)
        reference(x[:, 3:])
    assert int(layer.BN.num_batches_tracked) == 3
    torch.testing.assert_close(layer.BN.running_mean, reference.running_mean)
    torch.testing.assert_close(layer.BN.running_var, reference.running_var)


@pytest.mark.parametrize('mode', ['train', 'eval'])
def test_one_spatial_element_is_refused(mode):
    for order in IBN.ORDERS:
        layer = IBN(4, order=order).train(mode == 'train')
        with pytest.raises(InstanceNormSizeError,
                           match=r'IBN\(4\).*\(2, 4, 1, 1\)'):
            layer(torch.randn(2, 4, 1, 1))
    with pytest.raises(InstanceNormSizeError, match='InstanceNorm'):
        PartialInstanceNorm(4, 0.5)(torch.randn(2, 4, 1, 1))
    with pytest.raises(InstanceNormSizeError, match=r'ParallelIBN\(4\)'):
        ParallelIBN(4)(torch.randn(2, 4, 1, 1))


def test_partial_instance_norm_leaves_the_other_channels_alone():
    layer = PartialInstanceNorm(5, 0.4)
    x = torch.randn(2, 5, 4, 4) * 3
    out = layer(x)
    assert layer.weight.shape == (2, )
    torch.testing.assert_close(out[:, 2:], x[:, 2:])
    torch.testing.assert_close(
        out[:, :2], F.instance_norm(x[:, :2]), atol=1e-5, rtol=0)
    whole = PartialInstanceNorm(5)
    with torch.no_grad():
        whole.weight.uniform_(0.5, 1.5)
    torch.testing.assert_close(
        whole(x), F.instance_norm(x, weight=whole.weight, bias=whole.bias),
        atol=1e-5, rtol=0)


def test_registered_norm_keeps_the_bn_attribute_name():
    init_default_scope('mmseg')
    name, layer = build_norm_layer(dict(type='IBN', ratio=0.25), 8, postfix=1)
    assert name == 'bn1' and isinstance(layer, IBN)
    assert layer.num_in == 2


def test_syncbn_half_converts_and_reverts_to_the_fused_path():
    layer = _randomized(IBN(6, 0.5, norm_cfg=dict(type='SyncBN'))).eval()
    assert isinstance(layer.BN, nn.SyncBatchNorm)
    x = torch.randn(2, 6, 4, 4)
    assert not ibn_fused.fusable(x, layer.BN)
    reverted = revert_sync_batchnorm(copy.deepcopy(layer))
    assert not isinstance(reverted.BN, nn.SyncBatchNorm)
    assert ibn_fused.fusable(x, reverted.BN)
    assert not ibn_fused.fusable(x.half(), reverted.BN)
    torch.testing.assert_close(reverted(x), _by_hand(layer, x), atol=1e-5,
                               rtol=0)
    # and the other way: a BN model converts to SyncBN on its BN half only
    converted = nn.SyncBatchNorm.convert_sync_batchnorm(IBN(6))
    assert isinstance(converted.BN, nn.SyncBatchNorm)
    assert isinstance(converted.IN, nn.InstanceNorm2d)
