import copy

import pytest
import torch
import torch.nn as nn
import torch.nn.functional as F
from mmcv.cnn import build_norm_layer
from mmengine.model.utils import revert_sync_batchnorm
from mmengine.registry import init_default_scope

from ibnseg.models import IBN, InstanceNormSizeError, PartialInstanceNorm

torch.set_num_threads(1)


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
    k = layer.num_in
    parts = []
    if layer.IN is not None:
        parts.append(
            F.instance_norm(x[:, :k], weight=layer.IN.weight,
                            bias=layer.IN.bias, eps=layer.IN.eps))
    if layer.BN is not None:
        bn = layer.BN
        parts.append(
            F.batch_norm(x[:, k:], bn.running_mean.clone(),
                         bn.running_var.clone(), bn.weight, bn.bias,
                         bn.training, 0.0, bn.eps))
    return torch.cat(parts, 1)


@pytest.mark.parametrize('channels,ratio,num_in', [(8, 0.5, 4), (7, 0.5, 3),
                                                   (9, 0.25, 2), (5, 1.0, 5),
                                                   (5, 0.0, 0), (3, 0.4, 1)])
@pytest.mark.parametrize('mode', ['train', 'eval', 'norm_eval'])
def test_fused_matches_split_and_by_hand(channels, ratio, num_in, mode):
    fused = _randomized(IBN(channels, ratio))
    split = copy.deepcopy(fused)
    split.fused = False
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
    out, out_split = fused(x), split(x_split)
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


def test_eval_features_of_a_sample_do_not_depend_on_the_batch():
    layer = _randomized(IBN(10, 0.5)).eval()
    batch = torch.randn(4, 10, 6, 6)
    alone = layer(batch[1:2])
    torch.testing.assert_close(layer(batch)[1:2], alone, atol=1e-6, rtol=0)
    other = torch.cat([batch[:1] * 5, batch[1:2], batch[2:] - 3])
    torch.testing.assert_close(layer(other)[1:2], alone, atol=1e-6, rtol=0)


def test_one_spatial_element_is_refused():
    layer = IBN(4)
    with pytest.raises(InstanceNormSizeError, match=r'IBN\(4\).*\(2, 4, 1, 1\)'):
        layer(torch.randn(2, 4, 1, 1))
    with pytest.raises(InstanceNormSizeError, match='InstanceNorm'):
        PartialInstanceNorm(4, 0.5)(torch.randn(2, 4, 1, 1))


def test_bad_options_are_refused():
    with pytest.raises(ValueError,
                       match=r'ratio must be a number in \[0, 1\].*1.5'):
        IBN(4, ratio=1.5)
    with pytest.raises(ValueError, match='cannot be IBN'):
        IBN(4, norm_cfg=dict(type='IBN'))
    with pytest.raises(ValueError, match='normalises no channel'):
        PartialInstanceNorm(3, 0.2)


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
    assert not layer._fusable(torch.zeros(1, 6, 2, 2))
    reverted = revert_sync_batchnorm(copy.deepcopy(layer))
    assert not isinstance(reverted.BN, nn.SyncBatchNorm)
    assert reverted._fusable(torch.zeros(1, 6, 2, 2))
    x = torch.randn(2, 6, 4, 4)
    torch.testing.assert_close(reverted(x), _by_hand(layer, x), atol=1e-5,
                               rtol=0)
    # and the other way: a BN model converts to SyncBN on its BN half only
    converted = nn.SyncBatchNorm.convert_sync_batchnorm(IBN(6))
    assert isinstance(converted.BN, nn.SyncBatchNorm)
    assert isinstance(converted.IN, nn.InstanceNorm2d)
