"""Appearance shifts: change how a domain looks, never what it shows.

The paper tests trained models on images whose appearance is altered (colour
offsets, contrast, gamma, hue, blur, noise, a night look) to see how much of
the accuracy survives. Each shift here is a registered mmcv transform acting
on ``results['img']`` only (``gt_seg_map`` and every other key stay as they
are), so it drops into any test pipeline after ``LoadImageFromFile``.

Images are expected in mmcv's BGR channel order (what ``LoadImageFromFile``
gives); the options that name a colour (``channel='R'``, the blue cast) follow
``channel_order``. A uint8 image stays uint8 (rounded and clipped to 0..255);
a float image (``to_float32=True``) stays float32, clipped to 0..255.
``APPEARANCE_SHIFTS`` names ready-made settings for the tools' ``--shifts``.
"""
import copy
import zlib
from typing import Dict, List, Optional, Union

import cv2
import numpy as np
from mmcv.transforms import BaseTransform
from mmseg.registry import TRANSFORMS

_CHANNELS = ('R', 'G', 'B')


def _channel_index(channel: str, channel_order: str) -> int:
    """Index of colour ``channel`` ('R', 'G' or 'B') in the image array."""
    return channel_order.upper().index(channel)


class AppearanceShift(BaseTransform):
    """Base of the appearance shifts: float maths, then back to the input
    dtype with clipping. Subclasses implement ``shift(img, results)`` on a
    float32 BGR/RGB image in 0..255 and document their ``strength``.

    Args:
        strength (float): The shift's main parameter (see each subclass),
            within the subclass's ``STRENGTH_RANGE`` (low, high) if it has one.
        channel_order (str): 'bgr' (mmcv's loading default) or 'rgb'.
    """
    STRENGTH_RANGE = None

    def __init__(self, strength: float, channel_order: str = 'bgr'):
        if channel_order not in ('bgr', 'rgb'):
            raise ValueError(f'{self.__class__.__name__}: channel_order must '
                             f"be 'bgr' or 'rgb', got {channel_order!r}")
        try:
            self.strength = float(strength)
        except (TypeError, ValueError):
            raise TypeError(f'{self.__class__.__name__}: strength must be a '
                            f'number, got {strength!r}') from None
        self.channel_order = channel_order
        if self.STRENGTH_RANGE:
            self._in_range(self.strength, *self.STRENGTH_RANGE)

    def _in_range(self,
                  value: float,
                  low: float,
                  high: float = float('inf'),
                  name: str = 'strength') -> float:
        """``value`` of option ``name`` as a float, or a ValueError naming
        the expected range."""
        value = float(value)
        if not low <= value <= high:
            raise ValueError(f'{self.__class__.__name__}: {name} must lie in '
                             f'[{low}, {high}], got {value}')
        return value

    def shift(self, img: np.ndarray, results: dict) -> np.ndarray:
        raise NotImplementedError

    def transform(self, results: dict) -> dict:
        img = results['img']
        if img.ndim != 3 or img.shape[2] != 3:
            raise ValueError(
                f'{self.__class__.__name__}: expected an HxWx3 colour image '
                f"in results['img'], got shape {img.shape} "
                f"({results.get('img_path', 'no img_path')})")
        shifted = self.shift(img.astype(np.float32), results)
        shifted = np.clip(shifted, 0, 255)
        if img.dtype == np.uint8:
            shifted = np.rint(shifted).astype(np.uint8)
        else:
            shifted = shifted.astype(np.float32)
        results['img'] = shifted
        return results

    #: attributes shown by ``repr``; subclasses add their own options
    _repr_keys = ('strength', )

    def __repr__(self) -> str:
        options = ', '.join(f'{key}={getattr(self, key)!r}'
                            for key in self._repr_keys)
        return f'{self.__class__.__name__}({options})'


@TRANSFORMS.register_module()
class ChannelShift(AppearanceShift):
    """Add a constant to every colour channel, or to one of them.

    Args:
        strength (float): Grey levels added (negative darkens); ``50`` with
            ``channel=None`` is the paper's "RGB+50".
        channel (str, optional): 'R', 'G' or 'B' to shift one channel only;
            None shifts all three.
        channel_order (str): 'bgr' or 'rgb'.
    """
    _repr_keys = ('strength', 'channel')

    def __init__(self,
                 strength: float,
                 channel: Optional[str] = None,
                 channel_order: str = 'bgr'):
        super().__init__(strength, channel_order)
        if channel is not None and channel not in _CHANNELS:
            raise ValueError(f"ChannelShift: channel must be None, 'R', 'G' "
                             f"or 'B', got {channel!r}")
        self.channel = channel

    def shift(self, img, results):
        if self.channel is None:
            return img + self.strength
        img[..., _channel_index(self.channel, self.channel_order)] += \
            self.strength
        return img


@TRANSFORMS.register_module()
class ContrastBrightness(AppearanceShift):
    """Scale contrast about the image's mean grey level, then brightness.

    ``out = ((img - mean) * strength + mean) * brightness``, ``mean`` being
    the mean over all pixels and channels.

    Args:
        strength (float): Contrast factor, >= 0; 1 leaves contrast unchanged,
            0.5 halves every pixel's distance from the mean, 0 gives a flat
            grey image.
        brightness (float): Brightness factor, >= 0; 1 leaves it unchanged.
        channel_order (str): 'bgr' or 'rgb'.
    """
    _repr_keys = ('strength', 'brightness')
    STRENGTH_RANGE = (0.0, float('inf'))

    def __init__(self,
                 strength: float,
                 brightness: float = 1.0,
                 channel_order: str = 'bgr'):
        super().__init__(strength, channel_order)
        self.brightness = self._in_range(brightness, 0.0, name='brightness')

    def shift(self, img, results):
        mean = img.mean()
        return ((img - mean) * self.strength + mean) * self.brightness


@TRANSFORMS.register_module()
class GammaShift(AppearanceShift):
    """Gamma curve: ``out = 255 * (img / 255) ** strength``.

    Args:
        strength (float): Gamma, > 0; 1 leaves the image unchanged, > 1
            darkens the mid-tones, < 1 brightens them. Black and white stay.
        channel_order (str): 'bgr' or 'rgb'.
    """

    def __init__(self, strength: float, channel_order: str = 'bgr'):
        super().__init__(strength, channel_order)
        if self.strength <= 0:
            raise ValueError(
                f'GammaShift: strength (gamma) must be > 0, got {strength}')

    def shift(self, img, results):
        return 255.0 * np.power(img / 255.0, self.strength)


@TRANSFORMS.register_module()
class HueRotate(AppearanceShift):
    """Rotate every pixel's hue, keeping saturation and value.

    Args:
        strength (float): Rotation in degrees on the HSV hue circle (any
            sign; 360 is a full turn, 120 maps red to green to blue).
        channel_order (str): 'bgr' or 'rgb'.
    """

    def shift(self, img, results):
        to_hsv, from_hsv = (cv2.COLOR_BGR2HSV, cv2.COLOR_HSV2BGR) \
            if self.channel_order == 'bgr' else (cv2.COLOR_RGB2HSV,
                                                 cv2.COLOR_HSV2RGB)
        # float input to cvtColor: values in 0..1, hue in degrees 0..360
        hsv = cv2.cvtColor(np.clip(img, 0, 255) / 255.0, to_hsv)
        hsv[..., 0] = np.mod(hsv[..., 0] + self.strength, 360.0)
        return cv2.cvtColor(hsv, from_hsv) * 255.0


@TRANSFORMS.register_module()
class Desaturate(AppearanceShift):
    """Blend every pixel towards its grey (luma) value.

    ``out = (1 - strength) * img + strength * luma(img)``.

    Args:
        strength (float): In [0, 1]; 0 leaves the image unchanged, 1 makes it
            grey (all channels equal).
        channel_order (str): 'bgr' or 'rgb'.
    """
    STRENGTH_RANGE = (0.0, 1.0)

    def shift(self, img, results):
        # ITU-R BT.601 luma
        grey = cv2.cvtColor(img, cv2.COLOR_BGR2GRAY if self.channel_order
                            == 'bgr' else cv2.COLOR_RGB2GRAY)[..., None]
        return (1.0 - self.strength) * img + self.strength * grey


@TRANSFORMS.register_module()
class Blur(AppearanceShift):
    """Gaussian blur.

    Args:
        strength (float): Standard deviation of the Gaussian in pixels, >= 0
            (0 leaves the image unchanged); the kernel spans about
            +-3 sigma. Borders are reflected.
        channel_order (str): 'bgr' or 'rgb'.
    """
    STRENGTH_RANGE = (0.0, float('inf'))

    def shift(self, img, results):
        if self.strength == 0:
            return img
        return cv2.GaussianBlur(
            img, (0, 0),
            sigmaX=self.strength,
            borderType=cv2.BORDER_REFLECT_101)


@TRANSFORMS.register_module()
class GaussianNoise(AppearanceShift):
    """Add zero-mean Gaussian noise, independently per pixel and channel.

    The noise is seeded per image: it is drawn from a generator seeded with
    ``(seed, crc32(img_path))``, so an image gets the same noise whatever
    the order, the number of dataloader workers or the machine. Without an
    ``img_path`` in the results the transform's own generator (seeded with
    ``seed``) is used in call order.

    Args:
        strength (float): Standard deviation of the noise in grey levels,
            >= 0 (0 leaves the image unchanged).
        seed (int): Base seed.
        channel_order (str): 'bgr' or 'rgb'.
    """
    _repr_keys = ('strength', 'seed')
    STRENGTH_RANGE = (0.0, float('inf'))

    def __init__(self,
                 strength: float,
                 seed: int = 0,
                 channel_order: str = 'bgr'):
        super().__init__(strength, channel_order)
        self.seed = int(seed)
        self._fallback_rng = np.random.default_rng(self.seed)

    def shift(self, img, results):
        path = results.get('img_path')
        rng = self._fallback_rng if path is None else np.random.default_rng(
            [self.seed, zlib.crc32(str(path).encode('utf-8'))])
        noise = rng.standard_normal(img.shape, dtype=np.float32)
        return img + self.strength * noise


@TRANSFORMS.register_module()
class NightShift(AppearanceShift):
    """A night look: darken, and cast blue by dimming red most, green half.

    ``out = img * (1 - strength) * tint`` with per-channel ``tint`` of
    ``1 - blue_cast * strength`` for red, ``1 - blue_cast * strength / 2``
    for green and 1 for blue.

    Args:
        strength (float): In [0, 1]; the fraction of brightness removed (0
            leaves the image unchanged, 0.7 keeps 30% of the blue channel
            and less of red and green).
        blue_cast (float): In [0, 1]; how much more red is dimmed than blue
            at ``strength=1``.
        channel_order (str): 'bgr' or 'rgb'.
    """
    _repr_keys = ('strength', 'blue_cast')
    STRENGTH_RANGE = (0.0, 1.0)

    def __init__(self,
                 strength: float,
                 blue_cast: float = 0.4,
                 channel_order: str = 'bgr'):
        super().__init__(strength, channel_order)
        self.blue_cast = self._in_range(
            blue_cast, 0.0, 1.0, name='blue_cast')

    def shift(self, img, results):
        dim = self.blue_cast * self.strength
        tint = np.ones(3, dtype=np.float32)
        tint[_channel_index('R', self.channel_order)] = 1.0 - dim
        tint[_channel_index('G', self.channel_order)] = 1.0 - dim / 2
        return img * (1.0 - self.strength) * tint


#: Named appearance shifts for the evaluation and analysis tools' --shifts.
APPEARANCE_SHIFTS: Dict[str, dict] = {
    'rgb+50': dict(type='ChannelShift', strength=50),
    'rgb-50': dict(type='ChannelShift', strength=-50),
    'r+50': dict(type='ChannelShift', strength=50, channel='R'),
    'g+50': dict(type='ChannelShift', strength=50, channel='G'),
    'b+50': dict(type='ChannelShift', strength=50, channel='B'),
    'contrast0.5': dict(type='ContrastBrightness', strength=0.5),
    'contrast1.5': dict(type='ContrastBrightness', strength=1.5),
    'bright0.6': dict(type='ContrastBrightness', strength=1.0,
                      brightness=0.6),
    'bright1.4': dict(type='ContrastBrightness', strength=1.0,
                      brightness=1.4),
    'gamma0.5': dict(type='GammaShift', strength=0.5),
    'gamma2.0': dict(type='GammaShift', strength=2.0),
    'hue90': dict(type='HueRotate', strength=90),
    'hue180': dict(type='HueRotate', strength=180),
    'desat0.5': dict(type='Desaturate', strength=0.5),
    'grey': dict(type='Desaturate', strength=1.0),
    'blur2': dict(type='Blur', strength=2.0),
    'blur4': dict(type='Blur', strength=4.0),
    'noise10': dict(type='GaussianNoise', strength=10, seed=0),
    'noise25': dict(type='GaussianNoise', strength=25, seed=0),
    'night0.5': dict(type='NightShift', strength=0.5),
    'night0.8': dict(type='NightShift', strength=0.8),
}


def insert_appearance_shift(pipeline: List[dict],
                            shift: Union[str, dict]) -> List[dict]:
    """A copy of ``pipeline`` with ``shift`` right after image loading.

    Args:
        pipeline (list[dict]): A test pipeline containing one
            ``LoadImageFromFile`` step.
        shift (str | dict): A key of ``APPEARANCE_SHIFTS`` or a transform
            config dict.

    Returns:
        list[dict]: The new pipeline; the input is not modified.
    """
    if isinstance(shift, str):
        if shift not in APPEARANCE_SHIFTS:
            raise KeyError(f'unknown appearance shift {shift!r}; known: '
                           f'{", ".join(APPEARANCE_SHIFTS)}')
        shift = APPEARANCE_SHIFTS[shift]
    pipeline = copy.deepcopy(list(pipeline))
    # 'mmseg.LoadImageFromFile' (scoped) names the same transform
    load_steps = [
        i for i, step in enumerate(pipeline)
        if str(step.get('type')).split('.')[-1] == 'LoadImageFromFile'
    ]
    if len(load_steps) != 1:
        raise ValueError(
            'insert_appearance_shift: expected exactly one LoadImageFromFile '
            f'step in the pipeline, found {len(load_steps)}')
    pipeline.insert(load_steps[0] + 1, copy.deepcopy(shift))
    return pipeline
