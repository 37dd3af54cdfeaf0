"""The fast path of the :class:`~ibnseg.models.layers.IBN` layer.

One native group-norm pass (one group per channel) yields the per-(sample,
channel) statistics and the final IN output; the BN channels are then one
in-place affine map away from their BN output. No split copies, no
concatenation; the backward is written by hand for the same reason. It gives
the numbers of the layer's split path (slice -> IN, slice -> BN ->
``torch.cat``, the published layout and the reference the tests compare
against) and is measured in docs/benchmarks.md.

It serves a stock ``_BatchNorm`` BN part (``BN``, and ``SyncBN`` after
mmengine's ``revert_sync_batchnorm``) on fp32/fp64 input; everything else
takes the split path (:func:`fusable`).
"""
import torch
from torch.nn.modules.batchnorm import _BatchNorm

__all__ = ['fusable', 'fused_ibn']


def fusable(x, bn):
    """Whether :func:`fused_ibn` computes an IBN layer with BN part ``bn``
    (``None``: no BN channels) on ``x``."""
    # Low precision (AMP) takes the split path: the native norms there
    # handle mixed dtypes, the fused arithmetic here assumes one dtype.
    # SyncBN across devices needs its own forward to all-reduce statistics.
    if x.dim() != 4 or x.dtype not in (torch.float32, torch.float64):
        return False
    return bn is None or (isinstance(bn, _BatchNorm) and bn.affine
                          and type(bn).forward is _BatchNorm.forward)


def fused_ibn(x, instance_norm, bn):
    """IN (``instance_norm``, or ``None``) on the leading channels of ``x``,
    ``bn`` (or ``None``) on the rest, with ``bn``'s running statistics
    updated as ``_BatchNorm.forward`` does; only when :func:`fusable`."""
    parts = [m for m in (instance_norm, bn) if m is not None]
    weight = torch.cat([m.weight for m in parts])
    bias = torch.cat([m.bias for m in parts])
    num_in = instance_norm.num_features if instance_norm is not None else 0
    in_eps = (instance_norm if instance_norm is not None else bn).eps
    bn_eps = bn.eps if bn is not None else in_eps
    bn_stats = None
    if bn is not None and not (bn.training or bn.running_mean is None):
        bn_stats = (bn.running_mean, bn.running_var)
    out, batch_mean, batch_var = _FusedIBNFunction.apply(
        x, weight, bias, num_in, in_eps, bn_eps, bn_stats)
    if bn is not None and bn_stats is None:
        _update_running_stats(bn, batch_mean, batch_var,
                              x.shape[0] * x.shape[2:].numel(), x.shape[1])
    return out


def _update_running_stats(bn, batch_mean, batch_var, count, channels):
    """Mirror ``_BatchNorm.forward``'s running statistics update."""
    if count <= 1:
        raise ValueError(
            f'IBN({channels}): batch normalization in training needs more '
            f'than one value per channel, got {count}')
    if not (bn.training and bn.track_running_stats):
        return
    bn.num_batches_tracked.add_(1)
    factor = (1.0 / float(bn.num_batches_tracked)
              if bn.momentum is None else bn.momentum)
    bn.running_mean.mul_(1 - factor).add_(batch_mean, alpha=factor)
    bn.running_var.mul_(1 - factor).add_(
        batch_var * (count / (count - 1)), alpha=factor)


class _FusedIBNFunction(torch.autograd.Function):
    """IN on channels ``[:k]``, BN on ``[k:]``, in one normalisation pass.

    ``native_group_norm`` with one group per channel gives the per-(sample,
    channel) mean and rstd of every plane and, in the same pass, the final
    IN output for the IN channels (the BN channels get weight 1, bias 0).
    Each BN plane is then one in-place affine map away from its BN output:
    ``bn = xhat_inst * (g * rstd_c / rstd_nc) + g * rstd_c * (mu_nc - mu_c)
    + b``, where the batch mean/variance come from the per-instance ones
    (law of total variance over equally sized planes) or are the running
    statistics. ``bn_stats`` holds those per-channel BN statistics
    ``(mean, var)`` or ``None`` to compute them from ``x``.
    """

    @staticmethod
    def forward(ctx, x, weight, bias, num_in, in_eps, bn_eps, bn_stats):
        n, c, h, w = x.shape
        k = num_in
        x = x.contiguous()
        ones = weight.new_ones(c - k)
        out, inst_mean, inst_rstd = torch.native_group_norm(
            x, torch.cat([weight[:k], ones]),
            torch.cat([bias[:k], ones.new_zeros(c - k)]), n, c, h * w, c,
            in_eps)
        inst_mean = inst_mean.view(n, c)
        inst_rstd = inst_rstd.view(n, c)
        mean, rstd = inst_mean.clone(), inst_rstd.clone()
        batch_stats = None
        if k < c:
            m_nc = inst_mean[:, k:].double()
            r_nc = inst_rstd[:, k:].double()
            if bn_stats is None:
                var_nc = r_nc.pow(-2) - in_eps
                m_c = m_nc.mean(0)
                v_c = var_nc.mean(0) + (m_nc - m_c).pow(2).mean(0)
                batch_stats = (m_c.to(x.dtype), v_c.to(x.dtype))
            else:
                m_c, v_c = (s.double() for s in bn_stats)
            r_c = (v_c + bn_eps).rsqrt()
            g, b = weight[k:].double(), bias[k:].double()
            scale = g * r_c / r_nc
            shift = g * r_c * (m_nc - m_c) + b
            out[:, k:].mul_(scale.to(x.dtype)[..., None, None]).add_(
                shift.to(x.dtype)[..., None, None])
            mean[:, k:] = m_c.to(mean.dtype)
            rstd[:, k:] = r_c.to(rstd.dtype)
        ctx.save_for_backward(x, weight, mean, rstd)
        ctx.num_in = k
        ctx.bn_from_data = bn_stats is None
        if batch_stats is None:
            batch_stats = (x.new_empty(0), x.new_empty(0))
        ctx.mark_non_differentiable(*batch_stats)
        return out, batch_stats[0], batch_stats[1]

    @staticmethod
    @torch.autograd.function.once_differentiable
    def backward(ctx, grad_out, _grad_mean, _grad_var):
        x, weight, mean, rstd = ctx.saved_tensors
        n, c, h, w = x.shape
        k = ctx.num_in
        grad_out = grad_out.contiguous()
        # Per (n, c) plane: sum(dy * xhat) and sum(dy) under the statistics
        # used in forward, from one native reduction over (1, N*C, H, W).
        # (eps=0 with var = rstd**-2 reproduces the rstd used in forward.)
        flat = (1, n * c, h, w)
        _, sum_dy_xhat, sum_dy = torch.ops.aten.native_batch_norm_backward(
            grad_out.view(flat), x.view(flat), None, mean.reshape(-1),
            rstd.double().pow(-2).to(rstd.dtype).reshape(-1), None, None,
            False, 0.0, [False, True, True])
        sum_dy_xhat = sum_dy_xhat.view(n, c)
        sum_dy = sum_dy.view(n, c)
        grad_weight = sum_dy_xhat.sum(0)
        grad_bias = sum_dy.sum(0)
        grad_x = None
        if ctx.needs_input_grad[0]:
            # Means over each statistics group of dy and dy * xhat; zero
            # where the statistics are constants (BN running statistics).
            mean_dy = sum_dy / (h * w)
            mean_dy_xhat = sum_dy_xhat / (h * w)
            if ctx.bn_from_data:
                mean_dy[:, k:] = sum_dy[:, k:].mean(0) / (h * w)
                mean_dy_xhat[:, k:] = sum_dy_xhat[:, k:].mean(0) / (h * w)
            else:
                mean_dy[:, k:] = 0
                mean_dy_xhat[:, k:] = 0
            # dx = g * rstd * (dy - mean_dy - xhat * mean_dy_xhat), written
            # as scale_dy * dy + scale_x * x + shift: two elementwise passes.
            scale_dy = weight * rstd
            scale_x = -scale_dy * rstd * mean_dy_xhat
            shift = -scale_dy * mean_dy - scale_x * mean
            grad_x = torch.addcmul(shift[..., None, None], x,
                                   scale_x[..., None, None])
            grad_x.addcmul_(grad_out, scale_dy[..., None, None])
        return grad_x, grad_weight, grad_bias, None, None, None, None
