"""Appearance shifts: transforms that change only ``results['img']`` (the
paper's colour, contrast, gamma, hue, blur, noise and night tests), placed
after ``LoadImageFromFile``. A uint8 image stays uint8 (rounded), a float one
float32; both are clipped to 0..255."""
import copy
import zlib
from typing import Dict, List, Optional, Union

import cv2
import numpy as np
from mmcv.transforms import BaseTransform
from mmseg.registry import TRANSFORMS

_CHANNELS = ('R', 'G', 'B')


class AppearanceShift(BaseTransform):
    """Base of the shifts: subclasses implement ``shift(img, results)`` on a
    float32 image in 0..255.

    Args:
        strength (float): The shift's main parameter, within
            ``STRENGTH_RANGE`` (low, high) where the subclass sets one.
        channel_order (str): 'bgr' (mmcv's loading default) or 'rgb'; the
            options that name a colour follow it.
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
        value = float(value)
        if not low <= value <= high:
            raise ValueError(f'{self.__class__.__name__}: {name} must lie in '
                             f'[{low}, {high}], got {value}')
        return value

    def _index(self, name: str) -> int:
        """Index of colour ``name`` ('R', 'G' or 'B') in the image."""
        return self.channel_order.upper().index(name)

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

    def __repr__(self) -> str:
        options = ', '.join(f'{key}={value!r}'
                            for key, value in vars(self).items()
                            if not key.startswith('_')
                            and key != 'channel_order')
        return f'{self.__class__.__name__}({options})'


@TRANSFORMS.register_module()
class ChannelShift(AppearanceShift):
    """Add ``strength`` grey levels to every channel (50: the paper's
    "RGB+50"), or to ``channel`` ('R', 'G' or 'B') only.
    """

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
        img[..., self._index(self.channel)] += self.strength
        return img


@TRANSFORMS.register_module()
class ContrastBrightness(AppearanceShift):
    """``((img - mean) * strength + mean) * brightness``, ``mean`` over all
    pixels and channels; ``strength`` (contrast) and ``brightness`` are
    factors >= 0, 1 leaving the image unchanged.
    """
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
    """``255 * (img / 255) ** strength``, gamma > 0 (> 1 darkens)."""

    def __init__(self, strength: float, channel_order: str = 'bgr'):
        super().__init__(strength, channel_order)
        if self.strength <= 0:
            raise ValueError(
                f'GammaShift: strength (gamma) must be > 0, got {strength}')

    def shift(self, img, results):
        return 255.0 * np.power(img / 255.0, self.strength)


@TRANSFORMS.register_module()
class HueRotate(AppearanceShift):
    """Rotate every pixel's HSV hue by ``strength`` degrees, keeping
    saturation and value."""

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
    """``(1 - strength) * img + strength * luma(img)`` (BT.601), strength in
    [0, 1]."""
    STRENGTH_RANGE = (0.0, 1.0)

    def shift(self, img, results):
        grey = cv2.cvtColor(img, cv2.COLOR_BGR2GRAY if self.channel_order
                            == 'bgr' else cv2.COLOR_RGB2GRAY)[..., None]
        return (1.0 - self.strength) * img + self.strength * grey


@TRANSFORMS.register_module()
class Blur(AppearanceShift):
    """Gaussian blur of standard deviation ``strength`` pixels (>= 0),
    borders reflected."""
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
    """Zero-mean Gaussian noise of standard deviation ``strength`` (>= 0)
    grey levels, per pixel and channel.

    Args:
        seed (int): The noise of an image is drawn with the seed
            ``(seed, crc32(img_path))``, the same whatever the order, workers
            or machine; without ``img_path``, from one generator seeded with
            ``seed``, in call order.
    """
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
    """A night look: ``img * (1 - strength) * tint``, the tint dimming red
    by ``blue_cast * strength`` and green by half that.

    Args:
        strength (float): In [0, 1], the brightness removed.
        blue_cast (float): In [0, 1].
    """
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
        tint[self._index('R')] = 1.0 - dim
        tint[self._index('G')] = 1.0 - dim / 2
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
    """A copy of ``pipeline`` (with one ``LoadImageFromFile`` step) with
    ``shift``, a key of ``APPEARANCE_SHIFTS`` or a transform config, right
    after image loading."""
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
