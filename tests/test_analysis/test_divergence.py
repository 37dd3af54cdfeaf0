import numpy as np
import pytest
import torch
from scipy import integrate, stats

from ibnseg.analysis import (DEFAULT_EPS, ChannelMeanStats, feature_divergence,
                             gaussian_symmetric_kl)


def stats_of(channel_means) -> ChannelMeanStats:
    result = ChannelMeanStats()
    result.update_channel_means(torch.as_tensor(np.asarray(channel_means)))
    return result


def kl_by_integration(mu_p, var_p, mu_q, var_q) -> float:
    """KL(p || q) of 1-D Gaussians by numerical integration (independent
    of the closed form under test)."""
    p = stats.norm(mu_p, np.sqrt(var_p))
    q = stats.norm(mu_q, np.sqrt(var_q))
    low = min(p.ppf(1e-12), q.ppf(1e-12))
    high = max(p.isf(1e-12), q.isf(1e-12))
    value, _ = integrate.quad(
        lambda x: p.pdf(x) * (p.logpdf(x) - q.logpdf(x)), low, high,
        limit=200)
    return value


def test_symmetric_kl_matches_numerical_integration_elementwise():
    # (mu_a, var_a, mu_b, var_b) per element
    cases = [(0.0, 1.0, 1.0, 1.0), (0.0, 1.0, 0.0, 4.0),
             (-2.0, 0.3, 1.5, 2.5), (10.0, 0.01, 10.2, 0.05)]
    expected = [kl_by_integration(ma, va, mb, vb) +
                kl_by_integration(mb, vb, ma, va) for ma, va, mb, vb in cases]
    np.testing.assert_allclose(
        gaussian_symmetric_kl(*(np.array(c) for c in zip(*cases))),
        expected, rtol=1e-6)
    with pytest.raises(ValueError, match='variances must be > 0'):
        gaussian_symmetric_kl(0, 0, 0, 1)


def test_feature_divergence_closed_form_with_eps():
    rng = np.random.default_rng(0)
    means_a = rng.normal(0, 1, size=(50, 6))
    means_b = rng.normal(0.5, 2, size=(40, 6))
    eps = 1e-3
    expected = gaussian_symmetric_kl(
        means_a.mean(0), means_a.var(0) + eps,
        means_b.mean(0), means_b.var(0) + eps).mean()
    assert feature_divergence(stats_of(means_a), stats_of(means_b),
                              eps) == pytest.approx(expected, rel=1e-12)


def test_divergence_is_symmetric_and_grows_with_mean_shift():
    rng = np.random.default_rng(3)
    a = stats_of(rng.normal(0, 1, size=(20, 8)))
    b = stats_of(rng.gamma(2.0, 1.5, size=(35, 8)))
    assert feature_divergence(a, b) == feature_divergence(b, a) > 0

    base = rng.normal(0, 1, size=(64, 4))
    base[:, 2] = 0.0  # a channel that never fires: variance 0
    divergences = [feature_divergence(stats_of(base), stats_of(base + shift))
                   for shift in (0.0, 0.1, 0.5, 1.0, 3.0)]
    assert divergences[0] == 0.0  # identical sets, even with that channel
    assert all(np.diff(divergences) > 0)
    # A pure shift keeps the variances: D = shift^2 / var, averaged.
    expected = (3.0**2 / (base.var(0) + DEFAULT_EPS)).mean()
    assert divergences[-1] == pytest.approx(expected, rel=1e-9)


def test_float16_and_large_float32_maps_are_pooled_precisely():
    half = torch.full((4, 2, 3, 3), 1000.0, dtype=torch.float16)
    half[:2] += 1
    collected = ChannelMeanStats()
    collected.update(half)
    np.testing.assert_allclose(collected.mean, [1000.5, 1000.5])
    np.testing.assert_allclose(collected.variance, [0.25, 0.25])
    generator = torch.Generator().manual_seed(0)
    features = 10 + torch.rand(3, 2, 1024, 1024, generator=generator)
    features += torch.tensor([0.0, 0.05, 0.1]).view(3, 1, 1, 1)
    collected = ChannelMeanStats()
    collected.update(features)
    exact = features.double().mean(dim=(2, 3))
    np.testing.assert_allclose(collected.mean, exact.mean(0).numpy(),
                               rtol=1e-8)
    np.testing.assert_allclose(collected.variance, exact.var(0, False),
                               rtol=1e-6)


def test_bad_inputs_are_refused_with_clear_errors():
    one_image = stats_of(np.ones((1, 3)))
    two_images = stats_of(np.ones((2, 3)))
    with pytest.raises(ValueError, match='set a has 1 image'):
        feature_divergence(one_image, two_images)
    with pytest.raises(ValueError, match='different channel counts'):
        feature_divergence(two_images, stats_of(np.ones((2, 4))))
    with pytest.raises(ValueError, match='eps must be > 0'):
        feature_divergence(two_images, two_images, eps=0)
    with pytest.raises(ValueError, match='no images were recorded'):
        ChannelMeanStats().mean
    with pytest.raises(ValueError, match=r'\(N, C, H, W\)'):
        ChannelMeanStats().update(torch.ones(4, 3))
    grown = stats_of(np.ones((2, 3)))
    with pytest.raises(ValueError, match='4 channels after 3'):
        grown.update_channel_means(torch.ones(2, 4))
