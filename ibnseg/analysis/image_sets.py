"""The image sets and pairs that feature divergence compares.

The paper contrasts two kinds of pairs:

- appearance pairs: the same content seen differently, either the same images
  with an appearance shift applied to the second set
  (:func:`appearance_pair`, using ``ibnseg.datasets.transforms.APPEARANCE_SHIFTS``)
  or two domains (:func:`domain_pair`, two folders);
- content pairs: two disjoint sets of images from one domain
  (:func:`content_pair`, one folder split in two seeded halves).
"""
import copy
import os.path as osp
import random
from dataclasses import dataclass, field
from typing import Iterator, List, Optional, Sequence, Tuple

import mmcv
import numpy as np
import torch
from mmengine.utils import scandir
from mmseg.registry import TRANSFORMS

__all__ = ['IMAGE_SUFFIXES', 'PAIR_TYPES', 'ImageSet', 'ImageSetPair',
           'list_images', 'split_in_halves', 'resolve_appearance_shift',
           'domain_pair', 'appearance_pair', 'content_pair',
           'iter_image_batches']

IMAGE_SUFFIXES = ('.png', '.jpg', '.jpeg', '.bmp', '.tif', '.tiff', '.webp')
PAIR_TYPES = ('domain', 'appearance', 'content')


@dataclass
class ImageSet:
    """Image files, optionally seen through an appearance shift.

    Args:
        name (str): Human-readable label (which folder, half, shift).
        paths (tuple[str]): Image files, read in this order.
        shift (dict, optional): Transform config applied to every image
            after resizing (acts on ``results['img']``, BGR uint8).
    """
    name: str
    paths: Tuple[str, ...]
    shift: Optional[dict] = field(default=None, compare=False)


@dataclass
class ImageSetPair:
    """Two image sets to compare, and what kind of difference they show.

    Args:
        name (str): Label in outputs: ``'domain'``, ``'content'`` or
            ``'appearance:<shift>'``.
        pair_type (str): One of :data:`PAIR_TYPES`.
        set_a, set_b (ImageSet): The two sets.
    """
    name: str
    pair_type: str
    set_a: ImageSet
    set_b: ImageSet


def list_images(folder: str) -> List[str]:
    """Image files below ``folder`` (recursive), sorted."""
    if not osp.isdir(folder):
        raise FileNotFoundError(f'image folder {folder!r} does not exist')
    names = scandir(folder, suffix=IMAGE_SUFFIXES + tuple(
        s.upper() for s in IMAGE_SUFFIXES), recursive=True)
    paths = sorted(osp.join(folder, name) for name in names)
    if not paths:
        raise ValueError(f'image folder {folder!r} holds no images '
                         f'(looked for {", ".join(IMAGE_SUFFIXES)})')
    return paths


def split_in_halves(paths: Sequence[str],
                    seed: int) -> Tuple[Tuple[str, ...], Tuple[str, ...]]:
    """Two disjoint, equally large random halves of ``paths``.

    With an odd count one image is left out, so both sets have the same size
    (the variance estimates are then equally noisy on both sides).
    """
    if len(paths) < 4:
        raise ValueError(f'a content pair needs at least 4 images (2 per '
                         f'half), got {len(paths)}')
    order = np.random.default_rng(seed).permutation(len(paths))
    half = len(paths) // 2
    first = tuple(paths[i] for i in sorted(order[:half]))
    second = tuple(paths[i] for i in sorted(order[half:2 * half]))
    return first, second


def resolve_appearance_shift(name: str) -> dict:
    """A copy of the transform config of a named appearance shift.

    Args:
        name (str): A key of ``ibnseg.datasets.transforms.APPEARANCE_SHIFTS``
            (e.g. ``'rgb+50'``, ``'night0.5'``).
    """
    from ibnseg.datasets.transforms import APPEARANCE_SHIFTS
    if name not in APPEARANCE_SHIFTS:
        raise ValueError(f'unknown appearance shift {name!r}; choose from '
                         f'{", ".join(APPEARANCE_SHIFTS)}')
    return copy.deepcopy(APPEARANCE_SHIFTS[name])


def domain_pair(folder_a: str, folder_b: str) -> ImageSetPair:
    """Two folders, e.g. two domains: all images of each."""
    return ImageSetPair(
        name='domain', pair_type='domain',
        set_a=ImageSet(f'images of {folder_a}', tuple(list_images(folder_a))),
        set_b=ImageSet(f'images of {folder_b}', tuple(list_images(folder_b))))


def appearance_pair(folder: str, shift_name: str,
                    shift: dict) -> ImageSetPair:
    """All images of ``folder`` against the same images with ``shift``."""
    paths = tuple(list_images(folder))
    return ImageSetPair(
        name=f'appearance:{shift_name}', pair_type='appearance',
        set_a=ImageSet(f'images of {folder}', paths),
        set_b=ImageSet(f'images of {folder} + {shift_name} {shift}', paths,
                       shift=shift))


def content_pair(folder: str, seed: int) -> ImageSetPair:
    """Two disjoint seeded halves of the images of ``folder``."""
    first, second = split_in_halves(list_images(folder), seed)
    return ImageSetPair(
        name='content', pair_type='content',
        set_a=ImageSet(f'half 1 of {folder} (seed {seed})', first),
        set_b=ImageSet(f'half 2 of {folder} (seed {seed})', second))


def _read_image(path: str, size: Optional[Tuple[int, int]]) -> np.ndarray:
    try:
        image = mmcv.imread(path, flag='color', channel_order='bgr')
    except Exception as error:  # mmcv raises several types for bad files
        raise ValueError(f'cannot read image {path!r}: {error}') from error
    if image is None:
        raise ValueError(f'cannot read image {path!r}: not a decodable image')
    if size is not None:
        image = mmcv.imresize(image, size)
    return image


def _apply_shift(transform, image: np.ndarray, path: str) -> np.ndarray:
    # img_path lets shifts that draw noise seed it per image (ibnseg's
    # GaussianNoise does), so the same file always gets the same noise.
    shifted = transform(dict(img=image, img_path=path))['img']
    if not (isinstance(shifted, np.ndarray) and shifted.shape == image.shape
            and shifted.dtype == np.uint8):
        raise ValueError(
            f'appearance shift {transform!r} on {path!r} returned '
            f'{getattr(shifted, "shape", None)} '
            f'{getattr(shifted, "dtype", type(shifted).__name__)}; expected a '
            f'uint8 image shaped {image.shape}')
    return shifted


def iter_image_batches(image_set: ImageSet,
                       batch_size: int,
                       size: Optional[Tuple[int, int]] = None,
                       seed: int = 0) -> Iterator[List[torch.Tensor]]:
    """Load ``image_set`` in batches of (3, H, W) uint8 BGR tensors.

    Args:
        image_set (ImageSet): What to load.
        batch_size (int): Images per batch (the last may be smaller).
        size (tuple[int, int], optional): Resize every image to
            (width, height); without it all images of a batch must already
            have the same size.
        seed (int): Seeds python, numpy and torch before the first image so
            that a shift drawing from the global generators gives the
            same images on every pass (every model sees the very same set).
    """
    if batch_size < 1:
        raise ValueError(f'batch_size must be >= 1, got {batch_size}')
    transform = None
    if image_set.shift is not None:
        transform = TRANSFORMS.build(image_set.shift)
        random.seed(seed)
        np.random.seed(seed)
        torch.manual_seed(seed)
    for start in range(0, len(image_set.paths), batch_size):
        paths = image_set.paths[start:start + batch_size]
        images = []
        for path in paths:
            image = _read_image(path, size)
            if transform is not None:
                image = _apply_shift(transform, image, path)
            images.append(image)
        shapes = {image.shape for image in images}
        if len(shapes) > 1:
            raise ValueError(
                f'images of one batch differ in size ({sorted(shapes)}, '
                f'files {paths[0]!r} ... {paths[-1]!r}); resize them with '
                'size=(width, height) (--size) or use batch size 1')
        yield [torch.from_numpy(np.ascontiguousarray(image.transpose(2, 0, 1)))
               for image in images]
