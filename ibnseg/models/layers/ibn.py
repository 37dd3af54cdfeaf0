"""The IBN norm layer: Instance Normalization on a leading channel slice, the
configured Batch Normalization on the rest.

Two execution paths give the same numbers:

* a fused path, used whenever the BN half is a stock ``_BatchNorm`` (``BN``,
  and ``SyncBN`` after mmengine's ``revert_sync_batchnorm``) and the input is
  fp32/fp64. One native group-norm pass (one group per channel) yields the
  per-(sample, channel) statistics and the final IN output; the BN channels
  are then one in-place affine map away from their BN output. No split
  copies, no concatenation; the backward is written by hand for the same
  reason (see ``_FusedIBNFunction``).
* the split path (slice -> IN, slice -> BN -> ``torch.cat``), which is the
  published layout and serves every other BN type (``SyncBN`` across devices
  needs its own forward to all-reduce statistics).
"""
import torch
import torch.nn as nn
import torch.nn.functional as F
from mmcv.cnn import build_norm_layer
from torch.nn.modules.batchnorm import _BatchNorm

from mmseg.registry import MODELS
from ..arg_checks import check_bool, check_dict, check_int, check_number


class InstanceNormSizeError(ValueError):
    """Instance Normalization met a feature map with one spatial element."""


def check_instance_norm_size(x, where):
    """Raise :class:`InstanceNormSizeError` if ``x`` has one spatial element.

    Instance statistics over a single value are meaningless (the output would
    be the bias alone), so like ``F.instance_norm`` this refuses such input.
    """
    if x.shape[2:].numel() <= 1:
        raise InstanceNormSizeError(
            f'{where}: instance normalization needs more than one spatial '
            f'element per channel, got a feature map of shape '
            f'{tuple(x.shape)}; use a larger input image')


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


@MODELS.register_module()
class IBN(nn.Module):
    """Instance-Batch Normalization (the norm of IBN-Net's IBN-a block).

    The first ``int(num_features * ratio)`` channels go through affine
    Instance Normalization (no running statistics), the remaining channels
    through the norm built from ``norm_cfg``; the output keeps the channel
    order. The parts are the submodules ``IN`` and ``BN`` (the key names of
    the published weights); a part with zero channels is ``None``.

    The attribute name that ``mmcv.cnn.build_norm_layer`` gives this layer is
    ``bn<postfix>`` (``_abbr_``), so ``norm_cfg=dict(type='IBN')`` in a
    backbone keeps the torchvision key names.

    Args:
        num_features (int): Number of channels (any, odd too).
        ratio (float): Fraction of channels that get IN, in [0, 1].
            Default: 0.5.
        norm_cfg (dict): Config of the norm for the remaining channels
            (``BN``, ``SyncBN``, ...). Default: dict(type='BN').
        eps (float): Epsilon of the IN part. Default: 1e-5.
        fused (bool): Use the fused single-pass path when the BN part is a
            stock ``_BatchNorm``. ``False`` forces the published split ->
            IN/BN -> concatenate path (numerically the same; for
            benchmarks). Default: True.
    """

    _abbr_ = 'bn'

    def __init__(self,
                 num_features,
                 ratio=0.5,
                 norm_cfg=dict(type='BN'),
                 eps=1e-5,
                 fused=True):
        super().__init__()
        num_features = check_int('IBN', 'num_features', num_features,
                                 minimum=1)
        check_number('IBN', 'ratio', ratio, 0, 1)
        check_dict('IBN', 'norm_cfg', norm_cfg)
        check_number('IBN', 'eps', eps, 0, min_open=True)
        check_bool('IBN', 'fused', fused)
        if norm_cfg.get('type') == 'IBN':
            raise ValueError('IBN: norm_cfg names the norm of the BN part and '
                             'cannot be IBN itself')
        self.num_features = num_features
        self.ratio = ratio
        self.num_in = int(num_features * ratio)
        self.fused = fused
        num_bn = num_features - self.num_in
        self.IN = nn.InstanceNorm2d(
            self.num_in, eps=eps, affine=True) if self.num_in else None
        self.BN = build_norm_layer(norm_cfg, num_bn)[1] if num_bn else None

    def _fusable(self, x):
        # Low precision (AMP) takes the split path: the native norms there
        # handle mixed dtypes, the fused arithmetic here assumes one dtype.
        if not self.fused or x.dim() != 4 or x.dtype not in (torch.float32,
                                                             torch.float64):
            return False
        bn = self.BN
        return bn is None or (isinstance(bn, _BatchNorm) and bn.affine and
                              type(bn).forward is _BatchNorm.forward)

    def forward(self, x):
        if self.IN is not None:
            check_instance_norm_size(x, f'IBN({self.num_features})')
        if not self._fusable(x):
            return self._forward_split(x)
        return self._forward_fused(x)

    def _forward_split(self, x):
        k = self.num_in
        parts = []
        if self.IN is not None:
            parts.append(self.IN(x[:, :k].contiguous()))
        if self.BN is not None:
            parts.append(self.BN(x[:, k:].contiguous()))
        return parts[0] if len(parts) == 1 else torch.cat(parts, dim=1)

    def _forward_fused(self, x):
        bn = self.BN
        parts = [m for m in (self.IN, bn) if m is not None]
        weight = torch.cat([m.weight for m in parts])
        bias = torch.cat([m.bias for m in parts])
        in_eps = self.IN.eps if self.IN is not None else bn.eps
        bn_eps = bn.eps if bn is not None else in_eps
        bn_stats = None
        if bn is not None and not (bn.training or bn.running_mean is None):
            bn_stats = (bn.running_mean, bn.running_var)
        out, batch_mean, batch_var = _FusedIBNFunction.apply(
            x, weight, bias, self.num_in, in_eps, bn_eps, bn_stats)
        if bn is not None and bn_stats is None:
            self._update_running_stats(batch_mean, batch_var,
                                       x.shape[0] * x.shape[2:].numel())
        return out

    def _update_running_stats(self, batch_mean, batch_var, count):
        """Mirror ``_BatchNorm.forward``'s running statistics update."""
        bn = self.BN
        if count <= 1:
            raise ValueError(
                f'IBN({self.num_features}): batch normalization in training '
                f'needs more than one value per channel, got {count}')
        if not (bn.training and bn.track_running_stats):
            return
        bn.num_batches_tracked.add_(1)
        factor = (1.0 / float(bn.num_batches_tracked)
                  if bn.momentum is None else bn.momentum)
        bn.running_mean.mul_(1 - factor).add_(batch_mean, alpha=factor)
        bn.running_var.mul_(1 - factor).add_(
            batch_var * (count / (count - 1)), alpha=factor)

    def extra_repr(self):
        return (f'{self.num_features}, ratio={self.ratio}, '
                f'num_in={self.num_in}, fused={self.fused}')


class ParallelIBN(nn.Module):
    """IN and BN side by side on all channels, outputs concatenated (IBN-c).

    The output has ``2 * num_features`` channels: the IN-normalised map
    followed by the BN-normalised map of the same input. Submodules ``IN``
    (affine, no running statistics) and ``BN`` (from ``norm_cfg``).

    Args:
        num_features (int): Number of input channels.
        norm_cfg (dict): Config of the BN branch. Default: dict(type='BN').
        eps (float): Epsilon of the IN branch. Default: 1e-5.
    """

    _abbr_ = 'bn'

    def __init__(self, num_features, norm_cfg=dict(type='BN'), eps=1e-5):
        super().__init__()
        num_features = check_int('ParallelIBN', 'num_features', num_features,
                                 minimum=1)
        check_dict('ParallelIBN', 'norm_cfg', norm_cfg)
        check_number('ParallelIBN', 'eps', eps, 0, min_open=True)
        self.num_features = num_features
        self.IN = nn.InstanceNorm2d(num_features, eps=eps, affine=True)
        self.BN = build_norm_layer(norm_cfg, num_features)[1]

    def forward(self, x):
        check_instance_norm_size(x, f'ParallelIBN({self.num_features})')
        return torch.cat([self.IN(x), self.BN(x)], dim=1)


class PartialInstanceNorm(nn.InstanceNorm2d):
    """Affine IN on the first ``int(num_features * ratio)`` channels; the
    other channels pass through unchanged (the post-addition norm of IBN-d).

    With ``ratio=1`` this is an affine ``InstanceNorm2d`` (IBN-b, and the
    IBN-b stem), computed through the faster native group norm. The
    parameters are ``weight`` and ``bias`` of the normalised channels only.

    Args:
        num_features (int): Number of channels of the input.
        ratio (float): Fraction of channels normalised, in (0, 1].
        eps (float): Epsilon of the IN. Default: 1e-5.
    """

    def __init__(self, num_features, ratio=1.0, eps=1e-5):
        name = 'PartialInstanceNorm'
        num_features = check_int(name, 'num_features', num_features,
                                 minimum=1)
        check_number(name, 'ratio', ratio, 0, 1, min_open=True)
        check_number(name, 'eps', eps, 0, min_open=True)
        num_in = int(num_features * ratio)
        if num_in < 1:
            raise ValueError(
                f'PartialInstanceNorm: ratio {ratio} of {num_features} '
                f'channels normalises no channel')
        super().__init__(num_in, eps=eps, affine=True)
        self.total_features = num_features

    def forward(self, x):
        check_instance_norm_size(x, f'InstanceNorm({self.num_features})')
        k = self.num_features
        # group_norm with one group per channel is IN, and its native kernel
        # is several times cheaper than instance_norm's batch_norm route
        if k == self.total_features:
            return F.group_norm(x, k, self.weight, self.bias, self.eps)
        return torch.cat([
            F.group_norm(x[:, :k], k, self.weight, self.bias, self.eps),
            x[:, k:]
        ], dim=1)
