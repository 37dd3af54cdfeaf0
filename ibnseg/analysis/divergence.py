"""Per-channel feature statistics of an image set and their divergence
(IBN-Net paper, Sec. 3.1 / Fig. 2), as :data:`FORMULA` says. ``eps`` keeps
a channel that never varies (a dead ReLU) from giving 0 / 0; identical
statistics still give exactly 0. Only count, sum and sum of squares are
kept (float64), so the result does not depend on the batch size and no
feature map is kept.
"""
from typing import Optional

import numpy as np
import torch

#: Added to both variances before the symmetric KL.
DEFAULT_EPS = 1e-6

#: The measure, as the tool's help and JSON state it (the log terms of the
#: two KLs cancel for 1-D Gaussians).
FORMULA = (
    'For each image, each channel of a layer is pooled to its spatial mean. '
    'Over a set, each channel is fitted a Gaussian N(mu, var) (population '
    'variance). Per channel, D = KL(a||b) + KL(b||a) = 0.5*(var_a/var_b + '
    'var_b/var_a - 2) + 0.5*(mu_a - mu_b)^2*(1/var_a + 1/var_b), with eps '
    'added to var_a and var_b; the layer divergence is the mean of D over '
    'channels.')


class ChannelMeanStats:
    """Running Gaussian fit of the per-image channel means of one layer:
    ``count``, and ``mean`` and ``variance`` (population variance) as
    float64 arrays of length C. Sums stay on the features' device."""

    def __init__(self):
        self.count = 0
        self._sum: Optional[torch.Tensor] = None
        self._sum_sq: Optional[torch.Tensor] = None

    @property
    def num_channels(self) -> int:
        return 0 if self._sum is None else int(self._sum.numel())

    def update(self, features: torch.Tensor) -> None:
        """Add a batch of feature maps shaped (N, C, *spatial)."""
        if not isinstance(features, torch.Tensor) or features.dim() < 3:
            shape = getattr(features, 'shape', type(features).__name__)
            raise ValueError(
                'ChannelMeanStats.update expects feature maps shaped '
                f'(N, C, H, W), got {shape}')
        # Rows summed in the map's precision (at least float32), the row
        # sums in float64: as precise as float64 pooling without a float64
        # copy of the whole map (double the memory of a 1024x2048 pass).
        features = features.detach()
        low_precision = features.dtype in (torch.float16, torch.bfloat16)
        row_sums = features.sum(
            dim=-1, dtype=torch.float32 if low_precision else None).double()
        num, channels = features.shape[:2]
        self.update_channel_means(
            row_sums.reshape(num, channels, -1).mean(dim=-1) /
            features.shape[-1])

    def update_channel_means(self, channel_means: torch.Tensor) -> None:
        """Add per-image channel means shaped (N, C)."""
        channel_means = torch.as_tensor(channel_means).detach()
        if channel_means.dim() != 2:
            raise ValueError('ChannelMeanStats.update_channel_means expects '
                             f'shape (N, C), got {tuple(channel_means.shape)}')
        values = channel_means.to(torch.float64)
        if self._sum is None:
            self._sum = torch.zeros_like(values[0])
            self._sum_sq = torch.zeros_like(values[0])
        elif values.shape[1] != self._sum.numel():
            raise ValueError(
                f'ChannelMeanStats: got {values.shape[1]} channels after '
                f'{self._sum.numel()} in earlier batches')
        self._sum += values.sum(dim=0)
        self._sum_sq += (values * values).sum(dim=0)
        self.count += values.shape[0]

    def _check_filled(self) -> None:
        if self.count == 0:
            raise ValueError('ChannelMeanStats: no images were recorded')

    @property
    def mean(self) -> np.ndarray:
        self._check_filled()
        return (self._sum / self.count).cpu().numpy()

    @property
    def variance(self) -> np.ndarray:
        self._check_filled()
        mean = self._sum / self.count
        variance = self._sum_sq / self.count - mean * mean
        # E[x^2] - E[x]^2 can come out a rounding error below 0.
        return variance.clamp_(min=0).cpu().numpy()


def gaussian_symmetric_kl(mu_a, var_a, mu_b, var_b) -> np.ndarray:
    """``KL(a || b) + KL(b || a)`` of 1-D Gaussians (means and variances
    > 0, broadcast together), elementwise, float64."""
    mu_a, var_a, mu_b, var_b = (np.asarray(v, dtype=np.float64)
                                for v in (mu_a, var_a, mu_b, var_b))
    if np.any(var_a <= 0) or np.any(var_b <= 0):
        raise ValueError('gaussian_symmetric_kl: variances must be > 0')
    mean_gap_sq = (mu_a - mu_b)**2
    return 0.5 * (var_a / var_b + var_b / var_a - 2.0) \
        + 0.5 * mean_gap_sq * (1.0 / var_a + 1.0 / var_b)


def feature_divergence(stats_a: ChannelMeanStats,
                       stats_b: ChannelMeanStats,
                       eps: float = DEFAULT_EPS) -> float:
    """The paper's layer divergence between two sets' statistics of one
    layer (each of 2 images or more), ``eps`` (> 0) added to the variances."""
    if not eps > 0:
        raise ValueError(f'feature_divergence: eps must be > 0, got {eps}')
    for name, stats in (('a', stats_a), ('b', stats_b)):
        if stats.count < 2:
            raise ValueError(
                f'feature_divergence: set {name} has {stats.count} image(s); '
                'a variance over the set needs at least 2')
    if stats_a.num_channels != stats_b.num_channels:
        raise ValueError(
            'feature_divergence: the sets have different channel counts '
            f'({stats_a.num_channels} vs {stats_b.num_channels})')
    per_channel = gaussian_symmetric_kl(stats_a.mean, stats_a.variance + eps,
                                        stats_b.mean, stats_b.variance + eps)
    return float(per_channel.mean())
