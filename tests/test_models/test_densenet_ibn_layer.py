"""The IBN layer's part order: ``order='BN-IN'`` is the published
DenseNet-IBN-a norm (BN on the leading ``int(C * 0.6)`` channels, IN on the
rest), written here by hand with torch.nn.functional."""
import pytest
import torch
import torch.nn.functional as F

from ibnseg.models import IBN

torch.set_num_threads(1)


def _randomized(layer, seed=0):
    gen = torch.Generator().manual_seed(seed)
    with torch.no_grad():
        for p in layer.parameters():
            p.uniform_(0.5, 1.5, generator=gen)
        layer.BN.running_mean.uniform_(-1, 1, generator=gen)
        layer.BN.running_var.uniform_(0.5, 2, generator=gen)
    return layer


def _bn_then_in(x, layer, num_bn, training):
    bn, inst = layer.BN, layer.IN
    return torch.cat([
        F.batch_norm(x[:, :num_bn], bn.running_mean.clone(),
                     bn.running_var.clone(), bn.weight, bn.bias, training,
                     0.0, bn.eps),
        F.instance_norm(x[:, num_bn:], weight=inst.weight, bias=inst.bias,
                        eps=inst.eps)
    ], 1)


# channel counts of DenseNet-121's IBN layers and odd ones; the BN part is
# int(C * 0.6), as published, so the IN part is C - int(C * 0.6)
@pytest.mark.parametrize('channels,num_bn', [(64, 38), (160, 96), (7, 4),
                                             (352, 211), (1, 0)])
@pytest.mark.parametrize('training', [False, True])
def test_bn_first_order_is_the_published_densenet_norm(channels, num_bn,
                                                       training):
    layer = IBN(channels, ratio=0.4, order='BN-IN')
    assert layer.num_in == channels - num_bn
    if num_bn == 0:
        assert layer.BN is None and layer.IN.num_features == channels
        return
    layer = _randomized(layer).double().train(training)
    assert layer.BN.num_features == num_bn
    assert layer.IN.num_features == channels - num_bn
    x = torch.randn(3, channels, 5, 6, dtype=torch.float64) * 2 + 1
    expected = _bn_then_in(x, layer, num_bn, training)
    out = layer(x)
    torch.testing.assert_close(out, expected, rtol=0, atol=1e-12)
    # the leading channels are batch-normalised: in eval they follow the
    # running statistics, not each sample's own
    if not training:
        assert out[:, :num_bn].mean((2, 3)).abs().max() > 0.5


def test_both_orders_take_the_fused_path_unless_told_not_to():
    x = torch.randn(2, 10, 4, 4)
    assert IBN(10, 0.4, order='BN-IN')._fusable(x)
    assert IBN(10, 0.4)._fusable(x)
    assert not IBN(10, 0.4, order='BN-IN', fused=False)._fusable(x)
    assert "order='BN-IN'" in repr(IBN(10, 0.4, order='BN-IN'))


def test_bn_first_gradients_match_the_hand_written_norm():
    layer = _randomized(IBN(12, 0.4, order='BN-IN')).double().train()
    x = torch.randn(2, 12, 4, 5, dtype=torch.float64, requires_grad=True)
    grads = torch.autograd.grad(layer(x).pow(2).sum(), [x, layer.IN.weight])
    x2 = x.detach().requires_grad_()
    expected = torch.autograd.grad(
        _bn_then_in(x2, layer, 7, True).pow(2).sum(), [x2, layer.IN.weight])
    for got, want in zip(grads, expected):
        torch.testing.assert_close(got, want, rtol=0, atol=1e-10)


@pytest.mark.parametrize('order', ['BN-in', 'IN+BN', None])
def test_unknown_order_is_refused(order):
    with pytest.raises((ValueError, TypeError),
                       match=r"IBN: order must be one of "
                       r"\('IN-BN', 'BN-IN'\)"):
        IBN(8, order=order)
