"""The fast paths of the :class:`~ibnseg.models.layers.IBN` layer, with the
numbers of its split path (measured in docs/benchmarks.md): in training
:class:`_FusedIBNFunction` (one normalisation pass, a hand-written
backward); with BN on its running statistics without gradients, or under a
tracer or compiler, :func:`_affine_ibn`'s plain ops, which every tracer and
exporter records (they fail on the ``autograd.Function``, so in training
they get the split path).
"""
import torch
import torch.nn.functional as F
from torch.nn.modules.batchnorm import _BatchNorm

__all__ = ['fusable', 'fused_ibn']


def fusable(x, bn):
    """Whether :func:`fused_ibn` computes an IBN layer with BN part ``bn``
    (or None) on ``x``."""
    # The arithmetic here assumes one dtype (AMP mixes them), and SyncBN
    # needs its own forward to all-reduce the statistics.
    if x.dim() != 4 or x.dtype not in (torch.float32, torch.float64):
        return False
    if bn is None:
        return True
    if not (isinstance(bn, _BatchNorm) and bn.affine
            and type(bn).forward is _BatchNorm.forward):
        return False
    # Traced, the autograd.Function stays a Python call that torch.jit.save
    # refuses; in eval a tracer gets _affine_ibn's plain ops instead.
    return not (torch.jit.is_tracing() and _batch_statistics(bn))


def _batch_statistics(bn):
    """Whether ``bn`` normalises with the batch's statistics (as
    ``_BatchNorm.forward`` decides)."""
    return bn.training or bn.running_mean is None


def fused_ibn(x, instance_norm, bn, in_first=True):
    """IN (or None) on the leading channels of ``x`` (``in_first``) or the
    trailing ones, ``bn`` (or None) on the rest, updating ``bn``'s running
    statistics as ``_BatchNorm.forward`` does; only when :func:`fusable`."""
    parts = [m for m in (instance_norm, bn) if m is not None]
    if not in_first:
        parts.reverse()
    if bn is None or not _batch_statistics(bn):
        params = [p for m in parts for p in (m.weight, m.bias)]
        # Tracers and compilers record autograd through the plain ops; the
        # hand-written backward serves eager training with norm_eval.
        if (torch.jit.is_tracing() or torch.compiler.is_compiling()
                or not torch.is_grad_enabled()
                or not any(t.requires_grad for t in [x, *params])):
            return _affine_ibn(x, instance_norm, bn, in_first)
    weight = torch.cat([m.weight for m in parts])
    bias = torch.cat([m.bias for m in parts])
    num_in = instance_norm.num_features if instance_norm is not None else 0
    in_eps = (instance_norm if instance_norm is not None else bn).eps
    bn_eps = bn.eps if bn is not None else in_eps
    bn_stats = None
    if bn is not None and not _batch_statistics(bn):
        bn_stats = (bn.running_mean, bn.running_var)
    out, batch_mean, batch_var = _FusedIBNFunction.apply(
        x, weight, bias, num_in, in_first, in_eps, bn_eps, bn_stats)
    if bn is not None and bn_stats is None:
        _update_running_stats(bn, batch_mean, batch_var,
                              x.shape[0] * x.shape[2:].numel(), x.shape[1])
    return out


def _affine_ibn(x, instance_norm, bn, in_first):
    """The layer with BN on its running statistics: one affine map per
    (sample, channel) plane.

    The IN variance takes two passes: the one-pass ``E[x^2] - E[x]^2`` loses
    a nearly constant plane in float32, and ``torch.var_mean`` is slower on
    CPU. The map is eval-mode ``F.batch_norm`` over the planes as channels:
    twice as fast on CPU as ``addcmul``, one ONNX ``BatchNormalization``.
    """
    n, c, h, w = x.shape
    scales, shifts = [], []
    if instance_norm is not None:
        k = instance_norm.num_features
        planes = x[:, :k] if in_first else x[:, c - k:]
        mean = planes.mean((2, 3), keepdim=True)
        var = torch.linalg.vector_norm(
            planes - mean, dim=(2, 3)).square() / (h * w)
        scale = instance_norm.weight * (var + instance_norm.eps).rsqrt()
        scales.append(scale)
        shifts.append(instance_norm.bias - mean.flatten(1) * scale)
    if bn is not None:
        scale = bn.weight * (bn.running_var + bn.eps).rsqrt()
        shift = bn.bias - bn.running_mean * scale
        scales.append(scale.expand(n, -1))
        shifts.append(shift.expand(n, -1))
    if not in_first:
        scales.reverse()
        shifts.reverse()
    scale = torch.cat(scales, 1).reshape(-1)
    shift = torch.cat(shifts, 1).reshape(-1)
    # (statistics of stride 0, from expand, would take a slower kernel)
    out = F.batch_norm(
        x.reshape(1, n * c, h, w), scale.new_zeros(n * c),
        scale.new_ones(n * c), scale, shift, False, 0.0, 0.0)
    return out.view(n, c, h, w)


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
    """IN on ``num_in`` channels (leading, or trailing without
    ``in_first``), BN on the others, in one normalisation pass:
    ``native_group_norm`` with one group per channel gives every plane's
    mean and rstd and the IN output; then ``bn = xhat_inst * (g * rstd_c /
    rstd_nc) + g * rstd_c * (mu_nc - mu_c) + b``, with the batch statistics
    from the planes' (law of total variance) or ``bn_stats`` (running).
    """

    @staticmethod
    def forward(ctx, x, weight, bias, num_in, in_first, in_eps, bn_eps,
                bn_stats):
        n, c, h, w = x.shape
        k = num_in
        bns = slice(k, c) if in_first else slice(0, c - k)
        x = x.contiguous()
        # the IN channels' weight and bias, 1 and 0 on the BN channels
        gn_weight, gn_bias = weight.clone(), bias.clone()
        gn_weight[bns] = 1
        gn_bias[bns] = 0
        out, inst_mean, inst_rstd = torch.native_group_norm(
            x, gn_weight, gn_bias, n, c, h * w, c, in_eps)
        inst_mean = inst_mean.view(n, c)
        inst_rstd = inst_rstd.view(n, c)
        mean, rstd = inst_mean.clone(), inst_rstd.clone()
        batch_stats = None
        if k < c:
            m_nc = inst_mean[:, bns].double()
            r_nc = inst_rstd[:, bns].double()
            if bn_stats is None:
                var_nc = r_nc.pow(-2) - in_eps
                m_c = m_nc.mean(0)
                v_c = var_nc.mean(0) + (m_nc - m_c).pow(2).mean(0)
                batch_stats = (m_c.to(x.dtype), v_c.to(x.dtype))
            else:
                m_c, v_c = (s.double() for s in bn_stats)
            r_c = (v_c + bn_eps).rsqrt()
            g, b = weight[bns].double(), bias[bns].double()
            scale = g * r_c / r_nc
            shift = g * r_c * (m_nc - m_c) + b
            out[:, bns].mul_(scale.to(x.dtype)[..., None, None]).add_(
                shift.to(x.dtype)[..., None, None])
            mean[:, bns] = m_c.to(mean.dtype)
            rstd[:, bns] = r_c.to(rstd.dtype)
        ctx.save_for_backward(x, weight, mean, rstd)
        ctx.bn_channels = bns
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
        bns = ctx.bn_channels
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
                mean_dy[:, bns] = sum_dy[:, bns].mean(0) / (h * w)
                mean_dy_xhat[:, bns] = sum_dy_xhat[:, bns].mean(0) / (h * w)
            else:
                mean_dy[:, bns] = 0
                mean_dy_xhat[:, bns] = 0
            # dx = g * rstd * (dy - mean_dy - xhat * mean_dy_xhat), written
            # as scale_dy * dy + scale_x * x + shift: two elementwise passes.
            scale_dy = weight * rstd
            scale_x = -scale_dy * rstd * mean_dy_xhat
            shift = -scale_dy * mean_dy - scale_x * mean
            grad_x = torch.addcmul(shift[..., None, None], x,
                                   scale_x[..., None, None])
            grad_x.addcmul_(grad_out, scale_dy[..., None, None])
        return grad_x, grad_weight, grad_bias, None, None, None, None, None
