"""The image sets and pairs that feature divergence compares: appearance
pairs (the same images, the second set under an appearance shift of
``APPEARANCE_SHIFTS``; or two domains' folders) and content pairs (two
disjoint seeded halves of one folder).
"""
import copy
import os.path as osp
from dataclasses import dataclass, field
from typing import Iterator, List, Optional, Sequence, Tuple

import mmcv
import numpy as np
import torch
from mmengine.runner import set_random_seed
from mmseg.registry import TRANSFORMS

from ibnseg.apis import find_images

PAIR_TYPES = ('domain', 'appearance', 'content')


@dataclass
class ImageSet:
    """Image files (read in order) named ``name``, optionally seen through
    ``shift``, a transform config applied to every image (BGR uint8) after
    resizing."""
    name: str
    paths: Tuple[str, ...]
    shift: Optional[dict] = field(default=None, compare=False)


@dataclass
class ImageSetPair:
    """Two image sets to compare; ``name`` labels outputs (``'domain'``,
    ``'content'`` or ``'appearance:<shift>'``), ``pair_type`` is one of
    :data:`PAIR_TYPES`."""
    name: str
    pair_type: str
    set_a: ImageSet
    set_b: ImageSet


def list_images(folder: str) -> List[str]:
    """Image files below ``folder`` (recursive, sorted), found as
    ``tools/infer.py`` finds them."""
    if not osp.isdir(folder):
        raise FileNotFoundError(f'image folder {folder!r} does not exist')
    return [image.path for image in find_images([folder], check_headers=False)]


def split_in_halves(paths: Sequence[str],
                    seed: int) -> Tuple[Tuple[str, ...], Tuple[str, ...]]:
    """Two disjoint, equally large random halves of ``paths`` (one image
    is left out of an odd count: equally noisy variances on both sides)."""
    if len(paths) < 4:
        raise ValueError(f'a content pair needs at least 4 images (2 per '
                         f'half), got {len(paths)}')
    order = np.random.default_rng(seed).permutation(len(paths))
    half = len(paths) // 2
    first = tuple(paths[i] for i in sorted(order[:half]))
    second = tuple(paths[i] for i in sorted(order[half:2 * half]))
    return first, second


def resolve_appearance_shift(name: str) -> dict:
    """A copy of the transform config of ``APPEARANCE_SHIFTS[name]``."""
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


def iter_image_batches(image_set: ImageSet,
                       batch_size: int,
                       size: Optional[Tuple[int, int]] = None,
                       seed: int = 0) -> Iterator[List[torch.Tensor]]:
    """Load ``image_set`` in batches of (3, H, W) uint8 BGR tensors.

    Args:
        batch_size (int): Images per batch (the last may be smaller).
        size (tuple[int, int], optional): Resize every image to
            (width, height); without it a batch's images must match in size.
        seed (int): Seeds the global generators before a shift draws from
            them, so every model sees the very same images.
    """
    if batch_size < 1:
        raise ValueError(f'batch_size must be >= 1, got {batch_size}')
    transform = None
    if image_set.shift is not None:
        transform = TRANSFORMS.build(image_set.shift)
        set_random_seed(seed)
    for start in range(0, len(image_set.paths), batch_size):
        paths = image_set.paths[start:start + batch_size]
        images = []
        for path in paths:
            image = _read_image(path, size)
            if transform is not None:
                # img_path lets a shift that draws noise seed it per image
                # (ibnseg's GaussianNoise does): the same file, same noise.
                image = transform(dict(img=image, img_path=path))['img']
            images.append(image)
        shapes = {image.shape for image in images}
        if len(shapes) > 1:
            raise ValueError(
                f'images of one batch differ in size ({sorted(shapes)}, '
                f'files {paths[0]!r} ... {paths[-1]!r}); resize them with '
                'size=(width, height) (--size) or use batch size 1')
        yield [torch.from_numpy(np.ascontiguousarray(image.transpose(2, 0, 1)))
               for image in images]
