"""Appearance domains: how a scene looks, as data.

A style is a dict of rendering parameters. :data:`SOURCE_STYLE` is complete
(the GTA5-like source: saturated, clean, sunny); every domain of
:data:`DOMAIN_STYLES` lists what it changes on top of its ``'base'`` (default
the source): ``'real'`` (Cityscapes-like: muted, overcast, a camera's blur
and noise), ``'dusk'`` (dim blue light, lit windows) and ``'fog'``
(contrast falls with distance). Layouts are the same in every domain.

Style keys:

- ``materials``: per material (:mod:`.materials`) ``colors`` (RGB choices,
  one per region), ``jitter`` (std of a per-region RGB offset) and
  ``texture`` (fine, medium, coarse luminance noise, fractions of the colour).
- ``sky_horizon``: RGB choices at the horizon (the sky colours are the
  zenith); ``clouds``: cloud brightness, 0..1.
- ``ambient``: RGB light on lit surfaces; ``lit_windows``: share of windows
  lit, in ``lit_window_colors``.
- ``haze``: extinction per camera height of distance, towards ``haze_color``.
- ``texture_gain``: multiplies every texture amplitude.
- ``saturation``, ``contrast``, ``brightness``, ``gamma`` (> 0),
  ``white_balance`` (per-channel gains): the camera's colour response.
- ``vignette`` (0..1 darkening at the corners), ``blur`` (Gaussian sigma in
  pixels at 256 px width), ``sensor_noise`` (std in 8-bit levels).
- ``jitter``: per-image log-normal std of ``brightness``, ``contrast``,
  ``haze`` and each ``white_balance`` channel.
"""
import copy
from typing import Mapping, Union

from .materials import MATERIAL_NAMES

# material: (jitter, texture (fine, medium, coarse), colour choices)
_SOURCE_MATERIALS = dict(
    sky=(8, (0.0, 0.0, 0.0), [(60, 130, 235), (85, 150, 240)]),
    road=(6, (0.03, 0.04, 0.06), [(72, 72, 78)]),
    road_marking=(5, (0.02, 0.02, 0.0), [(235, 235, 230), (240, 210, 60)]),
    sidewalk=(8, (0.03, 0.05, 0.04),
              [(175, 165, 155), (160, 160, 168), (192, 176, 150)]),
    curb=(5, (0.02, 0.0, 0.0), [(205, 205, 200)]),
    building_wall=(12, (0.02, 0.05, 0.05),
                   [(200, 160, 120), (165, 165, 175), (215, 195, 150),
                    (150, 95, 75), (125, 135, 160), (230, 225, 215)]),
    building_window=(8, (0.02, 0.04, 0.0), [(55, 85, 130), (40, 60, 90)]),
    vegetation=(10, (0.1, 0.22, 0.12),
                [(55, 140, 40), (75, 155, 45), (40, 115, 50)]),
    tree_trunk=(8, (0.05, 0.08, 0.0), [(95, 65, 40)]),
    pole=(6, (0.02, 0.0, 0.0), [(125, 125, 130), (90, 95, 100)]),
    sign_face=(6, (0.01, 0.0, 0.0),
               [(215, 30, 30), (30, 80, 200), (240, 200, 20),
                (245, 245, 245)]),
    sign_border=(5, (0.01, 0.0, 0.0), [(240, 240, 240), (200, 20, 20)]),
    car_body=(10, (0.01, 0.02, 0.0),
              [(200, 25, 25), (25, 60, 180), (235, 235, 235), (30, 30, 30),
               (230, 180, 25), (40, 140, 60), (150, 150, 155)]),
    car_window=(6, (0.02, 0.05, 0.0), [(35, 45, 65)]),
    car_wheel=(3, (0.02, 0.0, 0.0), [(22, 22, 22)]),
    car_light=(5, (0.0, 0.0, 0.0), [(255, 45, 35)]),
    person_top=(15, (0.03, 0.05, 0.0),
                [(200, 40, 40), (40, 80, 200), (230, 230, 230), (30, 30, 30),
                 (60, 160, 70), (240, 170, 30)]),
    person_bottom=(10, (0.03, 0.05, 0.0),
                   [(40, 50, 90), (30, 30, 30), (120, 100, 80), (80, 80, 85)]),
    person_skin=(8, (0.01, 0.0, 0.0),
                 [(235, 190, 150), (190, 140, 100), (120, 80, 55)]),
)

#: The complete style of the source domain; other styles override it.
SOURCE_STYLE = dict(
    materials={
        name: dict(colors=colors, jitter=jitter, texture=texture)
        for name, (jitter, texture, colors) in _SOURCE_MATERIALS.items()
    },
    sky_horizon=[(185, 215, 250)],
    clouds=0.15,
    ambient=(1.0, 1.0, 1.0),
    lit_windows=0.0,
    lit_window_colors=[(255, 205, 120)],
    haze=0.004,
    haze_color=(200, 215, 235),
    texture_gain=1.0,
    saturation=1.15,
    contrast=1.1,
    brightness=1.0,
    gamma=1.0,
    white_balance=(1.0, 1.0, 1.0),
    vignette=0.0,
    blur=0.0,
    sensor_noise=0.0,
    jitter=dict(brightness=0.08,
                contrast=0.05,
                haze=0.2,
                white_balance=0.02),
)

#: Overrides per domain (merged onto ``'base'``, default the source style).
DOMAIN_STYLES = dict(
    source=dict(),
    real=dict(
        materials=dict(
            sky=dict(colors=[(175, 190, 205), (200, 205, 212)]),
            road=dict(colors=[(100, 95, 100), (115, 108, 110)],
                      texture=(0.06, 0.08, 0.12)),
            road_marking=dict(colors=[(190, 190, 185)]),
            sidewalk=dict(colors=[(135, 125, 120), (150, 145, 140)],
                          texture=(0.06, 0.10, 0.08)),
            curb=dict(colors=[(160, 158, 155)]),
            building_wall=dict(colors=[(150, 140, 125), (120, 118, 115),
                                       (170, 160, 145), (110, 90, 80),
                                       (140, 140, 135)],
                               jitter=8,
                               texture=(0.05, 0.10, 0.10)),
            building_window=dict(colors=[(60, 65, 70), (80, 85, 90)]),
            vegetation=dict(colors=[(70, 95, 45), (85, 100, 55), (55, 75, 40)],
                            texture=(0.15, 0.30, 0.15)),
            tree_trunk=dict(colors=[(70, 60, 50)]),
            pole=dict(colors=[(110, 110, 105)]),
            sign_face=dict(colors=[(170, 40, 40), (40, 70, 140),
                                   (200, 170, 40), (210, 210, 205)]),
            sign_border=dict(colors=[(210, 210, 205)]),
            car_body=dict(colors=[(110, 110, 115), (40, 40, 45),
                                  (190, 190, 190), (80, 90, 110),
                                  (120, 40, 40)]),
            car_window=dict(colors=[(40, 45, 50)]),
            car_light=dict(colors=[(200, 60, 50)]),
            person_top=dict(colors=[(60, 60, 70), (90, 80, 70),
                                    (150, 150, 155), (40, 50, 80),
                                    (120, 50, 50)]),
            person_bottom=dict(colors=[(35, 35, 45), (60, 60, 70),
                                       (90, 80, 70)]),
            person_skin=dict(colors=[(210, 170, 140), (170, 125, 95)]),
        ),
        sky_horizon=[(215, 218, 220)],
        clouds=0.08,
        haze=0.005,
        haze_color=(200, 205, 210),
        saturation=0.8,
        contrast=0.85,
        brightness=0.95,
        gamma=1.1,
        white_balance=(1.0, 1.02, 0.96),
        vignette=0.25,
        blur=0.7,
        sensor_noise=3.0,
    ),
    dusk=dict(
        materials=dict(
            sky=dict(colors=[(25, 35, 85), (35, 40, 100)]),
            car_light=dict(colors=[(255, 60, 40)]),
        ),
        sky_horizon=[(245, 140, 70), (230, 110, 90)],
        clouds=0.05,
        ambient=(0.40, 0.36, 0.48),
        lit_windows=0.35,
        lit_window_colors=[(255, 205, 120), (250, 230, 170)],
        haze=0.006,
        haze_color=(90, 70, 90),
        saturation=0.85,
        contrast=0.8,
        gamma=1.15,
        white_balance=(1.1, 0.95, 1.0),
        vignette=0.3,
        blur=0.4,
        sensor_noise=5.0,
    ),
    fog=dict(
        materials=dict(sky=dict(colors=[(195, 198, 202)])),
        sky_horizon=[(205, 207, 210)],
        clouds=0.0,
        haze=0.06,
        haze_color=(200, 203, 207),
        saturation=0.8,
        contrast=0.9,
        blur=0.5,
        sensor_noise=2.0,
    ),
)

_MATERIAL_KEYS = ('colors', 'jitter', 'texture')
_RGB_LIST_KEYS = ('sky_horizon', 'lit_window_colors')
_TRIPLE_KEYS = ('ambient', 'haze_color', 'white_balance')
_POSITIVE_KEYS = ('saturation', 'contrast', 'brightness', 'gamma')
_NON_NEGATIVE_KEYS = ('haze', 'texture_gain', 'blur', 'sensor_noise')
_UNIT_KEYS = ('clouds', 'lit_windows', 'vignette')


def resolve_style(style: Union[str, Mapping]) -> dict:
    """The complete, validated style (a new dict) of a key of
    :data:`DOMAIN_STYLES` or of a dict of overrides (with an optional
    ``'base'`` domain); a ValueError names the domain and the bad key."""
    return _resolve(style, chain=())


def _resolve(style, chain) -> dict:
    if isinstance(style, str):
        if style not in DOMAIN_STYLES:
            raise ValueError(f'unknown synthetic domain {style!r}; known: '
                             f'{sorted(DOMAIN_STYLES)} (or pass a style dict)')
        if style in chain:
            raise ValueError(f'style {style!r}: circular "base" chain '
                             f'{" -> ".join(chain + (style, ))}')
        name, overrides = style, DOMAIN_STYLES[style]
    elif isinstance(style, Mapping):
        name, overrides = '<custom>', style
    else:
        raise TypeError('style: expected a domain name or a dict, got '
                        f'{type(style).__name__}')
    overrides = copy.deepcopy(dict(overrides))
    base = overrides.pop('base', None)
    resolved = (copy.deepcopy(SOURCE_STYLE) if base is None else
                _resolve(base, chain + (name, )))
    _merge(resolved, overrides, name)
    _validate(resolved, name)
    return resolved


def _merge(resolved: dict, overrides: Mapping, name: str) -> None:
    for key, value in overrides.items():
        if key not in SOURCE_STYLE:
            raise ValueError(f'style {name!r}: unknown key {key!r}; expected '
                             f'one of {sorted(SOURCE_STYLE) + ["base"]}')
        if key == 'materials':
            for material, spec in value.items():
                if material not in resolved['materials']:
                    raise ValueError(
                        f'style {name!r}: unknown material {material!r}; '
                        f'expected one of {list(MATERIAL_NAMES)}')
                unknown = set(spec) - set(_MATERIAL_KEYS)
                if unknown:
                    raise ValueError(
                        f'style {name!r}: material {material!r} has unknown '
                        f'keys {sorted(unknown)}; expected {_MATERIAL_KEYS}')
                resolved['materials'][material].update(spec)
        elif key == 'jitter':
            unknown = set(value) - set(SOURCE_STYLE['jitter'])
            if unknown:
                raise ValueError(
                    f'style {name!r}: unknown jitter keys {sorted(unknown)}; '
                    f'expected {sorted(SOURCE_STYLE["jitter"])}')
            resolved['jitter'].update(value)
        else:
            resolved[key] = value


def _check_rgb_list(colors, where):
    if not isinstance(colors, (list, tuple)) or not colors:
        raise ValueError(f'{where}: expected a non-empty list of RGB '
                         f'triples, got {colors!r}')
    for color in colors:
        _check_triple(color, where, 0, 255)


def _check_triple(value, where, low, high=float('inf')):
    try:
        ok = len(value) == 3 and all(low <= float(v) <= high for v in value)
    except (TypeError, ValueError):
        ok = False
    if not ok:
        raise ValueError(f'{where}: expected 3 numbers in [{low}, {high}], '
                         f'got {value!r}')


def _check_number(value, where, low, high=float('inf'), strict=False):
    if isinstance(value, bool) or not isinstance(value, (int, float)) or not (
            low < value <= high if strict else low <= value <= high):
        bound = '>' if strict else '>='
        raise ValueError(f'{where}: expected a number {bound} {low}' +
                         (f' and <= {high}' if high != float('inf') else '') +
                         f', got {value!r}')


def _validate(style: dict, name: str) -> None:
    where = f'style {name!r}'
    for material, spec in style['materials'].items():
        _check_rgb_list(spec['colors'], f'{where} {material}.colors')
        _check_number(spec['jitter'], f'{where} {material}.jitter', 0)
        _check_triple(spec['texture'], f'{where} {material}.texture', 0)
    for key in _RGB_LIST_KEYS:
        _check_rgb_list(style[key], f'{where} {key}')
    for key in _TRIPLE_KEYS:
        _check_triple(style[key], f'{where} {key}', 0,
                      255 if key == 'haze_color' else float('inf'))
    for key in _POSITIVE_KEYS:
        _check_number(style[key], f'{where} {key}', 0, strict=True)
    for key in _NON_NEGATIVE_KEYS:
        _check_number(style[key], f'{where} {key}', 0)
    for key in _UNIT_KEYS:
        _check_number(style[key], f'{where} {key}', 0, 1)
    for key, value in style['jitter'].items():
        _check_number(value, f'{where} jitter.{key}', 0)
