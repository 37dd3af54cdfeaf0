"""Render a :class:`~.scene.Scene` in an appearance domain, in the order a
camera image forms: surface colour and texture, light, atmosphere, then the
camera's colour response, optics and noise; every random draw comes from the
``rng`` passed in."""
from statistics import NormalDist
from typing import Mapping, Union

import cv2
import numpy as np

from .materials import MATERIAL_INDEX, MATERIAL_NAMES
from .scene import Scene
from .styles import resolve_style

# surfaces that give off light: ambient light and shadows do not dim them
_EMISSIVE = np.zeros(len(MATERIAL_NAMES), bool)
_EMISSIVE[[MATERIAL_INDEX['sky'], MATERIAL_INDEX['car_light']]] = True
# blur and the sizes of noise features are given for a 256 px wide image and
# scale with the width, so one style looks the same at every resolution
_REFERENCE_WIDTH = 256.0


def _pick_colors(rng, spec, count):
    colors = np.asarray(spec['colors'], np.float32)
    chosen = colors[rng.integers(len(colors), size=count)]
    return chosen + rng.normal(0.0, spec['jitter'], (count, 3))


def _smooth_noise(rng, height, width, cell, interpolation=cv2.INTER_LINEAR):
    """Unit-variance-ish noise whose features are about ``cell`` pixels at
    the reference width (and proportionally larger in larger images)."""
    cell = max(cell * width / _REFERENCE_WIDTH, 1.0)
    small = rng.standard_normal(
        (max(int(height / cell), 1) + 1, max(int(width / cell), 1) + 1))
    return cv2.resize(small.astype(np.float32), (width, height),
                      interpolation=interpolation)


def _log_normal(rng, std, size=None):
    return np.exp(rng.normal(0.0, std, size)) if std > 0 else (
        1.0 if size is None else np.ones(size))


def _fast_normal(rng, shape) -> np.ndarray:
    """Approximately standard normal float32 noise, several times faster than
    ``standard_normal``: the sum of four uniform bytes (Irwin-Hall)."""
    total = rng.integers(0, 256, (4, ) + tuple(shape),
                         np.uint8).sum(0, dtype=np.int16)
    # four uniform bytes: mean 4 * 127.5, variance 4 * (256**2 - 1) / 12
    return (total.astype(np.float32) - 510.0) * np.float32(1 / 147.80)


def _camera_matrix(style, rng) -> np.ndarray:
    """3x4 affine colour transform: white balance, saturation, contrast
    (about mid-grey) and brightness, with this image's jitter, in one step."""
    jitter = style['jitter']
    balance = np.asarray(style['white_balance']) * _log_normal(
        rng, jitter['white_balance'], 3)
    luma = np.asarray([[0.299, 0.587, 0.114]])
    saturation = style['saturation']
    matrix = saturation * np.eye(3) + (1 - saturation) * np.ones((3, 1)) @ luma
    contrast = style['contrast'] * _log_normal(rng, jitter['contrast'])
    brightness = style['brightness'] * _log_normal(rng, jitter['brightness'])
    matrix = brightness * contrast * matrix @ np.diag(balance)
    offset = np.full((3, 1), brightness * (1 - contrast) * 127.5)
    return np.hstack([matrix, offset]).astype(np.float32)


def render_scene(scene: Scene, style: Union[str, Mapping],
                 rng: np.random.Generator) -> np.ndarray:
    """``scene`` in ``style`` (a domain name or style dict, see
    :mod:`.styles`) as an HxWx3 uint8 RGB image."""
    style = resolve_style(style)
    materials = style['materials']
    height, width = scene.size
    material, region = scene.material, scene.region
    specs = [materials[name] for name in MATERIAL_NAMES]
    num_regions = len(scene.region_material)

    # surface colour: every region its own colour; details (windows, lane
    # marks, curbs) one colour per image. One table, one lookup.
    colors = np.empty((num_regions + len(specs), 3), np.float32)
    for index in np.unique(scene.region_material):
        owned = np.flatnonzero(scene.region_material == index)
        colors[owned] = _pick_colors(rng, specs[index], len(owned))
    colors[num_regions:] = np.concatenate(
        [_pick_colors(rng, spec, 1) for spec in specs])
    sky = material == MATERIAL_INDEX['sky']
    if sky.any():
        # the sky is one region; its colour is the zenith of a gradient
        zenith = colors[region[sky][0]]
        horizon_rgb = _pick_colors(
            rng,
            dict(colors=style['sky_horizon'],
                 jitter=materials['sky']['jitter']), 1)[0]
        t = np.clip(
            np.arange(height, dtype=np.float32) / max(scene.horizon, 1.0), 0.0,
            1.0)[:, None, None]
        sky_rgb = zenith * (1 - t) + horizon_rgb * t
        if style['clouds'] > 0:
            sky_rgb = sky_rgb + np.float32(style['clouds'] * 255.0) * \
                np.maximum(_smooth_noise(rng, height, width, 12), 0)[..., None]
    own = material == scene.region_material[region]
    rgb = colors[np.where(own, region, num_regions + material)]
    if sky.any():
        rgb = np.where(sky[..., None], sky_rgb, rgb)

    # texture (luminance noise at three scales, amplitudes per material)
    # and light (emissive surfaces keep their colour), as one gain per pixel
    amplitude = np.asarray([spec['texture'] for spec in specs],
                           np.float32) * np.float32(style['texture_gain'])
    texture = (amplitude[material, 0] * _fast_normal(rng, (height, width)) +
               amplitude[material, 1] * _smooth_noise(rng, height, width, 4) +
               amplitude[material, 2] * _smooth_noise(rng, height, width, 16))
    light = np.where(_EMISSIVE[:, None], np.float32(1.0),
                     np.asarray(style['ambient'], np.float32))
    rgb *= np.maximum(1.0 + texture, 0.0)[..., None] * light[material]

    windows = material == MATERIAL_INDEX['building_window']
    if style['lit_windows'] > 0 and windows.any():
        # lit in blocks of a few windows, the given share of them
        cells = _smooth_noise(rng, height, width, 6, cv2.INTER_NEAREST)
        share = min(style['lit_windows'], 1 - 1e-9)
        glowing = windows & (cells < NormalDist().inv_cdf(share))
        glow = _pick_colors(
            rng,
            dict(colors=style['lit_window_colors'],
                 jitter=materials['building_window']['jitter']), 1)[0]
        rgb[glowing] = glow

    # atmosphere: exponential fog towards the haze colour (not on the sky,
    # whose colour already is what the atmosphere looks like)
    haze = style['haze'] * _log_normal(rng, style['jitter']['haze'])
    if haze > 0:
        visible = np.exp(
            np.float32(-haze) * np.where(sky, np.float32(0), scene.depth))
        rgb = rgb * visible[..., None] + np.asarray(
            style['haze_color'], np.float32) * (1 - visible[..., None])

    # camera: colour response, gamma, vignetting, optics, sensor
    image = cv2.transform(rgb, _camera_matrix(style, rng))
    if style['gamma'] != 1:
        image = 255.0 * (np.maximum(image, 0) / np.float32(255.0))**np.float32(
            style['gamma'])
    if style['vignette'] > 0:
        ys = np.linspace(-1.0, 1.0, height, dtype=np.float32)[:, None]
        xs = np.linspace(-1.0, 1.0, width, dtype=np.float32)[None, :]
        image *= (1.0 - np.float32(style['vignette'] / 2) *
                  (xs**2 + ys**2))[..., None]
    if style['blur'] > 0:
        sigma = style['blur'] * width / _REFERENCE_WIDTH
        image = cv2.GaussianBlur(image, (0, 0), sigma)
    if style['sensor_noise'] > 0:
        image += np.float32(style['sensor_noise']) * _fast_normal(
            rng, image.shape)
    return np.clip(np.rint(image), 0, 255).astype(np.uint8)
