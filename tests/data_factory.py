"""Tiny GTA5 and Cityscapes datasets in their real on-disk layouts, for tests.

Everything is written through ``ibnseg.datasets.layouts`` so generated data
has exactly the formats the real downloads have: GTA5 labels are palette PNGs
whose indices are Cityscapes label ids, Cityscapes labels are grayscale
``_gtFine_labelIds.png``. Images are random noise; labels are random label
ids drawn from the whole table (the 19 trained classes, the void classes)
plus ids that the table does not know (34, 99, 200, 254), which must all
become 255.

Example::

    from tests.data_factory import make_gta5, make_cityscapes
    gta = make_gta5(tmp_path / 'gta5', num_images=4, mismatched=[2])
    cs = make_cityscapes(tmp_path / 'cityscapes', splits={'train': 2,
                                                          'val': 1})

then point a config's ``data_root`` at ``gta.root`` / ``cs.root``.
"""
import os
import os.path as osp
from dataclasses import dataclass, field
from typing import Dict, List, Sequence, Tuple

import numpy as np

from ibnseg.datasets.layouts import (CITYSCAPES_TRAIN_IDS_SUFFIX,
                                     LABEL_ID_TO_TRAIN_ID,
                                     CITYSCAPES_LABEL_IDS_SUFFIX, gta5_id,
                                     gta5_paths, save_png_atomic,
                                     write_cityscapes_sample,
                                     write_gta5_sample)

#: Label ids that are not in the Cityscapes table at all.
UNUSED_LABEL_IDS = (34, 99, 200, 254)
#: Every label id a generated label may contain.
GENERATED_LABEL_IDS = tuple(range(34)) + UNUSED_LABEL_IDS
#: Bytes that no image decoder accepts.
GARBAGE_BYTES = b'this is not an image file\x00\x01\x02' * 8


def random_image(rng: np.random.Generator, size: Tuple[int, int]):
    """HxWx3 uint8 RGB noise of ``size`` = (height, width)."""
    return rng.integers(0, 256, size=(*size, 3), dtype=np.uint8)


def random_label_ids(rng: np.random.Generator, size: Tuple[int, int]):
    """HxW uint8 label ids of ``size`` = (height, width).

    Each pixel is drawn from ``GENERATED_LABEL_IDS``; the first 38 pixels (in
    raster order) run through all of them, so every id occurs in every label
    that is at least 38 pixels large.
    """
    ids = np.asarray(GENERATED_LABEL_IDS, dtype=np.uint8)
    label = rng.choice(ids, size=size).astype(np.uint8)
    flat = label.reshape(-1)
    count = min(flat.size, ids.size)
    flat[:count] = ids[:count]
    return label


def corrupt_file(path: str) -> str:
    """Overwrite ``path`` with bytes no image decoder accepts."""
    with open(path, 'wb') as f:
        f.write(GARBAGE_BYTES)
    return path


def truncate_file(path: str, keep_fraction: float = 0.5) -> str:
    """Cut ``path`` to its first ``keep_fraction`` of bytes (a broken PNG
    whose header still reads)."""
    with open(path, 'rb') as f:
        data = f.read()
    with open(path, 'wb') as f:
        f.write(data[:max(1, int(len(data) * keep_fraction))])
    return path


def write_split_file(path: str, ids: Sequence) -> str:
    """Write one id per line (a GTA5 split file or an mmseg ``ann_file``)."""
    os.makedirs(osp.dirname(osp.abspath(path)), exist_ok=True)
    with open(path, 'w') as f:
        f.writelines(f'{i}\n' for i in ids)
    return str(path)


@dataclass
class GeneratedGTA5:
    """What ``make_gta5`` wrote.

    Attributes:
        root (str): The data root.
        ids (list[str]): Stems of every frame number generated, sorted,
            including the broken ones (e.g. ``['00001', '00002']``).
        good_ids (list[str]): Stems of complete, readable, same-size pairs.
        label_ids (dict[str, np.ndarray]): The label ids written for every
            frame that has a label file (before any corruption).
        problems (dict[str, str]): Stem -> which fault was injected
            ('mismatched', 'missing_label', 'missing_image', 'corrupt_image',
            'corrupt_label').
    """
    root: str
    ids: List[str]
    good_ids: List[str]
    label_ids: Dict[str, np.ndarray] = field(repr=False)
    problems: Dict[str, str]

    def train_ids(self, stem: str) -> np.ndarray:
        """The expected trainId map of frame ``stem``."""
        return LABEL_ID_TO_TRAIN_ID[self.label_ids[stem]]


def make_gta5(root,
              num_images: int = 4,
              size: Tuple[int, int] = (32, 64),
              seed: int = 0,
              first_index: int = 1,
              mismatched: Sequence[int] = (),
              missing_labels: Sequence[int] = (),
              missing_images: Sequence[int] = (),
              corrupt_images: Sequence[int] = (),
              corrupt_labels: Sequence[int] = ()) -> GeneratedGTA5:
    """Write a GTA5 dataset in the public download's layout.

    Writes ``root/images/NNNNN.png`` and ``root/labels/NNNNN.png`` (palette
    PNG of label ids) for frames ``first_index .. first_index+num_images-1``.
    The fault arguments take frame numbers:

    Args:
        root: Target folder (created).
        num_images (int): Number of frames.
        size (tuple[int, int]): (height, width) of every image.
        seed (int): Seed of the random images and labels.
        first_index (int): Number of the first frame.
        mismatched: Frames whose label is 2 px taller and 3 px wider than
            the image.
        missing_labels: Frames written without a label file.
        missing_images: Frames written without an image file.
        corrupt_images: Frames whose image file is replaced by garbage.
        corrupt_labels: Frames whose label file is replaced by garbage.

    Returns:
        GeneratedGTA5: paths, ids and the label ids written.
    """
    root = str(root)
    rng = np.random.default_rng(seed)
    faults = {}
    for name, frames in (('mismatched', mismatched),
                         ('missing_label', missing_labels),
                         ('missing_image', missing_images),
                         ('corrupt_image', corrupt_images),
                         ('corrupt_label', corrupt_labels)):
        for frame in frames:
            faults[gta5_id(frame)] = name
    ids, label_ids = [], {}
    for frame in range(first_index, first_index + num_images):
        stem = gta5_id(frame)
        fault = faults.get(stem)
        label_size = (size[0] + 2, size[1] + 3) \
            if fault == 'mismatched' else size
        label = random_label_ids(rng, label_size)
        img_path, label_path = write_gta5_sample(root, frame,
                                                 random_image(rng, size),
                                                 label)
        ids.append(stem)
        if fault == 'missing_label':
            os.remove(label_path)
        else:
            label_ids[stem] = label
        if fault == 'missing_image':
            os.remove(img_path)
        elif fault == 'corrupt_image':
            corrupt_file(img_path)
        elif fault == 'corrupt_label':
            corrupt_file(label_path)
    unknown = set(faults) - set(ids)
    if unknown:
        raise ValueError(f'make_gta5: fault frames {sorted(unknown)} are '
                         f'outside {first_index}..'
                         f'{first_index + num_images - 1}')
    return GeneratedGTA5(
        root=root,
        ids=ids,
        good_ids=[i for i in ids if i not in faults],
        label_ids=label_ids,
        problems=faults)


@dataclass
class GeneratedCityscapes:
    """What ``make_cityscapes`` wrote.

    Attributes:
        root (str): The data root.
        names (dict[str, list[str]]): Split -> sorted sample names relative
            to ``leftImg8bit/<split>`` without suffix
            (``'aachen/aachen_000000_000000'``), the form of an mmseg
            ``ann_file`` line.
        label_ids (dict[str, np.ndarray]): ``'<split>/<name>'`` -> the label
            ids written.
    """
    root: str
    names: Dict[str, List[str]]
    label_ids: Dict[str, np.ndarray] = field(repr=False)

    def train_ids(self, split: str, name: str) -> np.ndarray:
        """The expected trainId map of sample ``name`` of ``split``."""
        return LABEL_ID_TO_TRAIN_ID[self.label_ids[f'{split}/{name}']]

    def label_path(self, split: str, name: str, train_ids=False) -> str:
        """Path of the label-id (or, with ``train_ids``, trainId) PNG."""
        suffix = CITYSCAPES_TRAIN_IDS_SUFFIX if train_ids \
            else CITYSCAPES_LABEL_IDS_SUFFIX
        return osp.join(self.root, 'gtFine', split, name + suffix)


def make_cityscapes(root,
                    splits: Dict[str, int] = None,
                    cities: Sequence[str] = ('aachen', 'bremen'),
                    size: Tuple[int, int] = (32, 64),
                    seed: int = 0,
                    with_train_ids: bool = False) -> GeneratedCityscapes:
    """Write a Cityscapes dataset in the official layout.

    Writes ``leftImg8bit/<split>/<city>/<city>_000000_<frame:06d>_
    leftImg8bit.png`` and the matching ``gtFine/..._gtFine_labelIds.png``;
    samples of a split are dealt to ``cities`` in turn.

    Args:
        root: Target folder (created).
        splits (dict[str, int]): Split name -> number of frames. Defaults to
            ``{'train': 3, 'val': 2}``.
        cities (Sequence[str]): City folder names.
        size (tuple[int, int]): (height, width) of every image.
        seed (int): Seed of the random images and labels.
        with_train_ids (bool): Also write ``_gtFine_labelTrainIds.png`` (what
            a conversion would produce), so mmseg's own
            ``CityscapesDataset`` can read the data.

    Returns:
        GeneratedCityscapes: sample names and the label ids written.
    """
    root = str(root)
    splits = {'train': 3, 'val': 2} if splits is None else splits
    rng = np.random.default_rng(seed)
    names, label_ids = {}, {}
    for split, count in splits.items():
        names[split] = []
        for frame in range(count):
            city = cities[frame % len(cities)]
            label = random_label_ids(rng, size)
            _, label_path = write_cityscapes_sample(
                root, split, city, 0, frame, random_image(rng, size), label)
            name = f'{city}/{osp.basename(label_path)}'[:-len(
                CITYSCAPES_LABEL_IDS_SUFFIX)]
            names[split].append(name)
            label_ids[f'{split}/{name}'] = label
            if with_train_ids:
                save_png_atomic(
                    label_path[:-len(CITYSCAPES_LABEL_IDS_SUFFIX)] +
                    CITYSCAPES_TRAIN_IDS_SUFFIX, LABEL_ID_TO_TRAIN_ID[label])
        names[split].sort()
    return GeneratedCityscapes(root=root, names=names, label_ids=label_ids)


def gta5_label_path(root, frame, train_ids=False) -> str:
    """Path of frame ``frame``'s label-id (or trainId) PNG under ``root``."""
    _, label_ids_path, train_ids_path = gta5_paths(str(root), frame)
    return train_ids_path if train_ids else label_ids_path
