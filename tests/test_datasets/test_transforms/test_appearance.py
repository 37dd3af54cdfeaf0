import copy

import cv2
import numpy as np
import pytest
from mmseg.registry import TRANSFORMS

import ibnseg  # noqa: F401
from ibnseg.datasets.transforms import (APPEARANCE_SHIFTS, AppearanceShift,
                                        insert_appearance_shift)

RNG = np.random.default_rng(0)
IMG = RNG.integers(30, 220, (12, 16, 3), dtype=np.uint8)  # BGR
LABEL = RNG.integers(0, 19, (12, 16), dtype=np.uint8)


def run(cfg, img=IMG, **extra):
    results = dict(
        img=img.copy(), gt_seg_map=LABEL.copy(), img_path='x/1.png', **extra)
    out = TRANSFORMS.build(cfg)(results)
    np.testing.assert_array_equal(out['gt_seg_map'], LABEL)
    return out['img']


@pytest.mark.parametrize('name', sorted(APPEARANCE_SHIFTS))
def test_every_preset_changes_pixels_not_labels_and_keeps_dtype(name):
    cfg = APPEARANCE_SHIFTS[name]
    assert isinstance(TRANSFORMS.build(cfg), AppearanceShift)
    out = run(cfg)
    assert out.dtype == np.uint8 and out.shape == IMG.shape
    assert not np.array_equal(out, IMG)
    out_float = run(cfg, img=IMG.astype(np.float32))
    assert out_float.dtype == np.float32
    assert out_float.min() >= 0 and out_float.max() <= 255


F = IMG.astype(np.float64)
GREY = cv2.cvtColor(IMG, cv2.COLOR_BGR2GRAY)[..., None].astype(np.float64)


@pytest.mark.parametrize('cfg,expected', [
    (dict(type='ChannelShift', strength=50), F + 50),
    (dict(type='ChannelShift', strength=50, channel='R'), F + [0, 0, 50]),
    (dict(type='ChannelShift', strength=-40, channel='R',
          channel_order='rgb'), F - [40, 0, 0]),
    (dict(type='ChannelShift', strength=-300), F * 0),  # clipped
    (dict(type='ContrastBrightness', strength=0.5),
     (F - F.mean()) * 0.5 + F.mean()),
    (dict(type='ContrastBrightness', strength=1.0, brightness=0.5), F / 2),
    (dict(type='GammaShift', strength=2.0), 255 * (F / 255)**2),
    (dict(type='HueRotate', strength=360), F),
    (dict(type='Desaturate', strength=1.0), GREY + F * 0),
    (dict(type='Desaturate', strength=0.5), (F + GREY) / 2),
    (dict(type='Blur', strength=0), F),
    (dict(type='NightShift', strength=0.5, blue_cast=0.4),
     F * 0.5 * [1, 0.9, 0.8]),  # BGR: blue only darkened
    (dict(type='NightShift', strength=0.0), F),
])
def test_each_shift_follows_its_formula(cfg, expected):
    out = run(cfg).astype(np.float64)
    np.testing.assert_allclose(out, np.clip(expected, 0, 255), atol=1)
    out = run(cfg, img=IMG.astype(np.float32))  # float: clipped, not rounded
    np.testing.assert_allclose(out, np.clip(expected, 0, 255), atol=0.51)


def test_hue_rotation_moves_hue_keeps_value():
    red_bgr = np.zeros((2, 2, 3), np.uint8)
    red_bgr[..., 2] = 200
    out = run(dict(type='HueRotate', strength=120), img=red_bgr)
    np.testing.assert_array_equal(out[..., 1], 200)  # red -> green
    np.testing.assert_array_equal(out[..., [0, 2]], 0)
    hsv_in = cv2.cvtColor(IMG, cv2.COLOR_BGR2HSV)
    hsv_out = cv2.cvtColor(run(dict(type='HueRotate', strength=90)),
                           cv2.COLOR_BGR2HSV)
    assert np.abs(hsv_out[..., 2].astype(int) - hsv_in[..., 2]).max() <= 1


def test_blur_smooths_keeps_mean_and_needs_colour():
    out = run(dict(type='Blur', strength=2.0)).astype(float)
    assert np.abs(np.diff(out, axis=1)).mean() < \
        0.5 * np.abs(np.diff(IMG.astype(float), axis=1)).mean()
    assert out.mean() == pytest.approx(IMG.mean(), abs=2)
    with pytest.raises(ValueError, match='Blur: expected an HxWx3 colour '
                       r"image in results\['img'\], got shape \(12, 16\)"):
        run(dict(type='Blur', strength=1), img=IMG[..., 0])


def test_gaussian_noise_is_seeded_per_image():
    cfg = dict(type='GaussianNoise', strength=10, seed=3)
    first, again = run(cfg), run(cfg)
    np.testing.assert_array_equal(first, again)  # same image, same noise
    results = dict(img=IMG.copy(), img_path='x/2.png')  # same pixels
    other_path = TRANSFORMS.build(cfg)(results)['img']
    assert not np.array_equal(first, other_path)
    other_seed = run(dict(cfg, seed=4))
    assert not np.array_equal(first, other_seed)
    noise = first.astype(float) - IMG
    assert noise.std() == pytest.approx(10, rel=0.25)
    assert abs(noise.mean()) < 2


@pytest.mark.parametrize('cfg', [dict(type='Blur', strength=0),
                                 dict(type='NightShift', strength=0.0)])
def test_zero_strength_leaves_the_image_exactly(cfg):
    np.testing.assert_array_equal(run(cfg), IMG)


@pytest.mark.parametrize('cfg,error,match', [
    (dict(type='ChannelShift', strength=5, channel='X'), ValueError,
     "channel must be None, 'R', 'G' or 'B', got 'X'"),
    (dict(type='Blur', strength='big'), TypeError,
     "strength must be a number, got 'big'"),
    (dict(type='Blur', strength=1, channel_order='grb'), ValueError,
     "channel_order must be 'bgr' or 'rgb', got 'grb'"),
    (dict(type='NightShift', strength=0.5, blue_cast=2), ValueError,
     r'blue_cast must lie in \[0.0, 1.0\], got 2.0'),
    (dict(type='ContrastBrightness', strength=1, brightness=-1), ValueError,
     r'brightness must lie in \[0.0, inf\]'),
    (dict(type='ContrastBrightness', strength=-1), ValueError,
     r'strength must lie in \[0.0, inf\], got -1.0'),
    (dict(type='GammaShift', strength=0), ValueError,
     r'strength \(gamma\) must be > 0, got 0'),
    (dict(type='Desaturate', strength=2), ValueError,
     r'strength must lie in \[0.0, 1.0\], got 2.0'),
])
def test_bad_options_are_named(cfg, error, match):
    with pytest.raises(error, match=f'{cfg["type"]}: {match}'):
        TRANSFORMS.build(cfg)


def test_insert_appearance_shift():
    pipeline = [dict(type='LoadImageFromFile'), dict(type='LoadAnnotations')]
    original = copy.deepcopy(pipeline)
    shifted = insert_appearance_shift(pipeline, 'night0.5')
    assert shifted[1] == APPEARANCE_SHIFTS['night0.5']
    assert pipeline == original
    custom = dict(type='Blur', strength=3)
    assert insert_appearance_shift(pipeline, custom)[1] == custom
    with pytest.raises(KeyError, match='rgb\\+50'):
        insert_appearance_shift(pipeline, 'sepia')
    with pytest.raises(ValueError, match='LoadImageFromFile'):
        insert_appearance_shift(pipeline[1:], 'grey')
