"""Tiny GTA5 and Cityscapes datasets in their real on-disk layouts, for tests.

Everything is written through ``ibnseg.datasets.layouts`` so generated data
has exactly the formats the real downloads have: GTA5 labels are palette PNGs
whose indices are Cityscapes label ids, Cityscapes labels are grayscale
``_gtFine_labelIds.png``. Images are random noise; labels are random label
ids drawn from the whole table (the 19 trained classes, the void classes)
plus ids that the table does not know (34, 99, 200, 254), which must all
become 255.

Example::

    from tests.helpers.data_factory import make_gta5, make_cityscapes
    gta = make_gta5(tmp_path / 'gta5', num_images=4, mismatched=[2])
    cs = make_cityscapes(tmp_path / 'cityscapes', splits={'train': 2,
                                                          'val': 1})

then point a config's ``data_root`` at ``gta.root`` / ``cs.root``.
"""
import json
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


def claim_png_size(path: str, width: int, height: int) -> str:
    """Rewrite the IHDR chunk of the PNG at ``path`` (with a valid CRC) so
    that its header claims ``width`` x ``height``; the pixel data stays as
    it was. A file of a few hundred bytes then passes for a huge image
    until it is decoded, as a crafted file would."""
    import struct
    import zlib
    with open(path, 'rb') as f:
        data = bytearray(f.read())
    assert data[12:16] == b'IHDR', f'{path}: no IHDR chunk first'
    data[16:24] = struct.pack('>II', width, height)
    data[29:33] = struct.pack('>I', zlib.crc32(bytes(data[12:29])))
    with open(path, 'wb') as f:
        f.write(data)
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


# -- the domain-generalisation targets ----------------------------------------
def _save_jpeg(path: str, image_rgb: np.ndarray) -> str:
    """Write an RGB JPEG (BDD100K and Mapillary images are JPEGs)."""
    from PIL import Image
    os.makedirs(osp.dirname(path), exist_ok=True)
    Image.fromarray(image_rgb).save(path, format='JPEG', quality=90)
    return path


def random_train_ids(rng: np.random.Generator, size: Tuple[int, int]):
    """HxW uint8 trainIds (0..18 and 255); the first 20 pixels run through
    all of them."""
    values = np.array(list(range(19)) + [255], np.uint8)
    label = rng.choice(values, size=size).astype(np.uint8)
    flat = label.reshape(-1)
    count = min(flat.size, values.size)
    flat[:count] = values[:count]
    return label


@dataclass
class GeneratedSplits:
    """What ``make_bdd100k`` / ``make_mapillary`` / ``make_acdc`` wrote.

    Attributes:
        root (str): The data root.
        names (dict[str, list[str]]): Split (for ACDC '<condition>/<split>')
            -> sorted sample names, relative to the image folder and
            without suffix (ACDC: '<sequence>/<name>').
        labels (dict[str, np.ndarray]): '<split>/<name>' -> what the label
            file holds (trainIds for BDD100K; label ids for Mapillary; for
            ACDC the Cityscapes label ids of its ``_gt_labelIds.png``).
        label_paths (dict[str, str]): '<split>/<name>' -> label file.
        image_paths (dict[str, str]): '<split>/<name>' -> image file.
        layout (str): BDD100K's layout ('10k' or 'seg'); '' otherwise.
        config (list[dict]): Mapillary's config.json ``labels``; [] else.
    """
    root: str
    names: Dict[str, List[str]]
    labels: Dict[str, np.ndarray] = field(repr=False)
    label_paths: Dict[str, str] = field(repr=False)
    image_paths: Dict[str, str] = field(repr=False)
    layout: str = ''
    config: List[dict] = field(default_factory=list, repr=False)


def make_bdd100k(root,
                 layout: str = '10k',
                 splits: Dict[str, int] = None,
                 size: Tuple[int, int] = (36, 64),
                 seed: int = 0) -> GeneratedSplits:
    """Write BDD100K 10K semantic segmentation in one published layout.

    ``layout='10k'``: ``images/10k/<split>/<name>.jpg`` and
    ``labels/sem_seg/masks/<split>/<name>.png``; ``layout='seg'``: the older
    ``seg/images/<split>/<name>.jpg`` and
    ``seg/labels/<split>/<name>_train_id.png``. Labels are grayscale
    trainIds (0..18, 255), as BDD100K publishes them; names look like the
    real ones ('7d2f7975-e0c1c5a7').

    Args:
        root: Target folder (created).
        layout (str): '10k' or 'seg'.
        splits (dict[str, int]): Split -> number of images. Defaults to
            ``{'train': 2, 'val': 2}``.
        size (tuple[int, int]): (height, width); the real images are
            720x1280.
        seed (int): Seed of images, labels and names.

    Returns:
        GeneratedSplits: names and the trainIds written.
    """
    from ibnseg.datasets.layouts import BDD100K_LAYOUTS
    root = str(root)
    spec = BDD100K_LAYOUTS[layout]
    splits = {'train': 2, 'val': 2} if splits is None else splits
    rng = np.random.default_rng(seed)
    names, labels, label_paths, image_paths = {}, {}, {}, {}
    for split, count in splits.items():
        names[split] = []
        for _ in range(count):
            name = '%08x-%08x' % tuple(rng.integers(0, 2**32, 2))
            label = random_train_ids(rng, size)
            key = f'{split}/{name}'
            image_paths[key] = _save_jpeg(
                osp.join(root, spec['img_dir'].format(split=split),
                         name + spec['img_suffix']), random_image(rng, size))
            label_paths[key] = save_png_atomic(
                osp.join(root, spec['label_dir'].format(split=split),
                         name + spec['seg_map_suffix']), label)
            labels[key] = label
            names[split].append(name)
        names[split].sort()
    return GeneratedSplits(root, names, labels, label_paths, image_paths,
                           layout=layout)


#: The ``name`` of each Mapillary Vistas v1.2 class, in id order, as in the
#: dataset's config.json; the ``readable`` names and colours are mmseg's
#: MapillaryDataset_v1 METAINFO, which copies the same file.
MAPILLARY_V12_NAMES = (
    'animal--bird', 'animal--ground-animal', 'construction--barrier--curb',
    'construction--barrier--fence', 'construction--barrier--guard-rail',
    'construction--barrier--other-barrier', 'construction--barrier--wall',
    'construction--flat--bike-lane', 'construction--flat--crosswalk-plain',
    'construction--flat--curb-cut', 'construction--flat--parking',
    'construction--flat--pedestrian-area', 'construction--flat--rail-track',
    'construction--flat--road', 'construction--flat--service-lane',
    'construction--flat--sidewalk', 'construction--structure--bridge',
    'construction--structure--building', 'construction--structure--tunnel',
    'human--person', 'human--rider--bicyclist', 'human--rider--motorcyclist',
    'human--rider--other-rider', 'marking--crosswalk-zebra',
    'marking--general', 'nature--mountain', 'nature--sand', 'nature--sky',
    'nature--snow', 'nature--terrain', 'nature--vegetation', 'nature--water',
    'object--banner', 'object--bench', 'object--bike-rack',
    'object--billboard', 'object--catch-basin', 'object--cctv-camera',
    'object--fire-hydrant', 'object--junction-box', 'object--mailbox',
    'object--manhole', 'object--phone-booth', 'object--pothole',
    'object--street-light', 'object--support--pole',
    'object--support--traffic-sign-frame', 'object--support--utility-pole',
    'object--traffic-light', 'object--traffic-sign--back',
    'object--traffic-sign--front', 'object--trash-can',
    'object--vehicle--bicycle', 'object--vehicle--boat',
    'object--vehicle--bus', 'object--vehicle--car',
    'object--vehicle--caravan', 'object--vehicle--motorcycle',
    'object--vehicle--on-rails', 'object--vehicle--other-vehicle',
    'object--vehicle--trailer', 'object--vehicle--truck',
    'object--vehicle--wheeled-slow', 'void--car-mount', 'void--ego-vehicle',
    'void--unlabeled')


def mapillary_v12_config() -> dict:
    """A Mapillary Vistas v1.2 config.json as the download has it:
    ``labels`` in id order, each with color, instances, readable, name and
    evaluate (only 'Unlabeled' is not evaluated)."""
    from mmseg.datasets import MapillaryDataset_v1
    meta = MapillaryDataset_v1.METAINFO
    labels = [
        dict(color=list(color), instances=False, readable=readable,
             name=name, evaluate=name != 'void--unlabeled')
        for name, readable, color in zip(MAPILLARY_V12_NAMES,
                                         meta['classes'], meta['palette'])
    ]
    assert len(labels) == 66
    return dict(labels=labels, version='1.2', mapping='public',
                folder_structure='{split}/{content}/{key:.{22}}.{ext}')


def make_mapillary(root,
                   splits: Dict[str, int] = None,
                   size: Tuple[int, int] = (40, 56),
                   with_config: bool = True,
                   seed: int = 0,
                   sizes: Sequence[Tuple[int, int]] = ()) -> GeneratedSplits:
    """Write Mapillary Vistas v1.2 in its download's layout.

    ``<split>/images/<key>.jpg``, ``<split>/labels/<key>.png`` (palette PNG
    whose indices are the class ids 0..65, palette = the class colours) and
    ``config.json`` (see ``mapillary_v12_config``). Keys are 22 characters
    like the real ones. Every id 0..65 occurs in every label (the first 66
    pixels run through them).

    Args:
        root: Target folder (created).
        splits (dict[str, int]): 'training' / 'validation' -> number of
            images. Defaults to ``{'training': 2, 'validation': 2}``.
        size (tuple[int, int]): (height, width) of every image, unless
            ``sizes`` gives one per image (the real sizes vary).
        with_config (bool): Write config.json.
        seed (int): Seed.
        sizes: Optional (height, width) per image, in generation order.

    Returns:
        GeneratedSplits: names, the label ids written and the config
        ``labels``.
    """
    root = str(root)
    splits = {'training': 2, 'validation': 2} if splits is None else splits
    config = mapillary_v12_config()
    colors = np.array([label['color'] for label in config['labels']],
                      np.uint8)
    rng = np.random.default_rng(seed)
    alphabet = np.array(list('abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTU'
                             'VWXYZ0123456789_-'))
    names, labels, label_paths, image_paths = {}, {}, {}, {}
    index = 0
    for split, count in splits.items():
        names[split] = []
        for _ in range(count):
            shape = tuple(sizes[index]) if index < len(sizes) else size
            index += 1
            name = ''.join(rng.choice(alphabet, 22))
            label = rng.integers(0, 66, size=shape).astype(np.uint8)
            flat = label.reshape(-1)
            flat[:min(66, flat.size)] = np.arange(min(66, flat.size))
            key = f'{split}/{name}'
            image_paths[key] = _save_jpeg(
                osp.join(root, split, 'images', name + '.jpg'),
                random_image(rng, shape))
            label_paths[key] = save_png_atomic(
                osp.join(root, split, 'labels', name + '.png'), label,
                palette=colors)
            labels[key] = label
            names[split].append(name)
        names[split].sort()
    if with_config:
        os.makedirs(root, exist_ok=True)
        with open(osp.join(root, 'config.json'), 'w') as f:
            json.dump(config, f, indent=2)
    return GeneratedSplits(root, names, labels, label_paths, image_paths,
                           config=config['labels'])


#: Values a generated SYNTHIA class channel holds: every class id of the
#: README (0..22) and ids it does not define (23, 40; 300 needs 16 bits).
SYNTHIA_GENERATED_IDS = tuple(range(23)) + (23, 40, 300)


@dataclass
class GeneratedSynthia:
    """What ``make_synthia`` wrote.

    Attributes:
        root (str): The data root.
        ids (list[str]): Frame stems ('0000000', ...), sorted.
        class_ids (dict[str, np.ndarray]): Stem -> the class-id channel
            written (uint16).
        instance_ids (dict[str, np.ndarray]): Stem -> the instance channel.
    """
    root: str
    ids: List[str]
    class_ids: Dict[str, np.ndarray] = field(repr=False)
    instance_ids: Dict[str, np.ndarray] = field(repr=False)

    def label_path(self, stem: str) -> str:
        return osp.join(self.root, 'GT', 'LABELS', stem + '.png')

    def image_path(self, stem: str) -> str:
        return osp.join(self.root, 'RGB', stem + '.png')


def make_synthia(root,
                 num_images: int = 3,
                 size: Tuple[int, int] = (38, 64),
                 seed: int = 0) -> GeneratedSynthia:
    """Write SYNTHIA RAND-CITYSCAPES in its download's layout.

    ``RGB/<7 digits>.png`` (8-bit RGB) and ``GT/LABELS/<7 digits>.png``: a
    16-bit PNG of three channels, in file (RGB) order the class id, the
    instance id (random 16-bit values, so reading the wrong channel or only
    8 bits gives different labels) and zeros. Class ids are drawn from
    ``SYNTHIA_GENERATED_IDS``, the first pixels running through all of
    them. Frames are numbered from 0000000, as in the download.

    Args:
        root: Target folder (created).
        num_images (int): Number of frames.
        size (tuple[int, int]): (height, width); the real frames are
            760x1280.
        seed (int): Seed.

    Returns:
        GeneratedSynthia: stems and the channels written.
    """
    import cv2
    root = str(root)
    rng = np.random.default_rng(seed)
    values = np.array(SYNTHIA_GENERATED_IDS, np.uint16)
    ids, class_ids, instance_ids = [], {}, {}
    for frame in range(num_images):
        stem = f'{frame:07d}'
        classes = rng.choice(values, size=size).astype(np.uint16)
        flat = classes.reshape(-1)
        flat[:min(values.size, flat.size)] = values[:min(values.size,
                                                         flat.size)]
        instances = rng.integers(256, 65536, size=size).astype(np.uint16)
        # cv2 writes BGR: the class id goes last to be the file's first
        bgr = np.stack([np.zeros_like(classes), instances, classes], -1)
        label_path = osp.join(root, 'GT', 'LABELS', stem + '.png')
        os.makedirs(osp.dirname(label_path), exist_ok=True)
        if not cv2.imwrite(label_path, bgr):
            raise OSError(f'cannot write {label_path}')
        save_png_atomic(osp.join(root, 'RGB', stem + '.png'),
                        random_image(rng, size))
        ids.append(stem)
        class_ids[stem] = classes
        instance_ids[stem] = instances
    return GeneratedSynthia(root, ids, class_ids, instance_ids)


def make_acdc(root,
              conditions: Sequence[str] = ('fog', 'night', 'rain', 'snow'),
              splits: Dict[str, int] = None,
              size: Tuple[int, int] = (27, 48),
              seed: int = 0,
              with_train_ids: bool = True,
              with_label_ids: bool = True) -> GeneratedSplits:
    """Write ACDC in its download's layout.

    ``rgb_anon/<condition>/<split>/<seq>/<seq>_frame_<n:06d>_rgb_anon.png``
    and, beside it under ``gt/``, ``..._gt_labelIds.png`` (Cityscapes label
    ids, from ``random_label_ids``) and ``..._gt_labelTrainIds.png`` (the
    same mapped with the official table), as the download has both. Frames
    of a split are dealt to two sequences.

    Args:
        root: Target folder (created).
        conditions: Subset of fog, night, rain, snow.
        splits (dict[str, int]): Split -> frames per condition. Defaults to
            ``{'val': 2}``.
        size (tuple[int, int]): (height, width); the real ones are
            1080x1920.
        seed (int): Seed.
        with_train_ids (bool), with_label_ids (bool): Which label files to
            write.

    Returns:
        GeneratedSplits: names per '<condition>/<split>' ('<seq>/<name>')
        and the label ids written.
    """
    root = str(root)
    splits = {'val': 2} if splits is None else splits
    rng = np.random.default_rng(seed)
    names, labels, label_paths, image_paths = {}, {}, {}, {}
    for condition in conditions:
        for split, count in splits.items():
            group = f'{condition}/{split}'
            names[group] = []
            for frame in range(count):
                seq = ('GOPR0475', 'GP010476')[frame % 2]
                name = f'{seq}/{seq}_frame_{frame:06d}'
                label = random_label_ids(rng, size)
                key = f'{group}/{name}'
                image_paths[key] = save_png_atomic(
                    osp.join(root, 'rgb_anon', condition, split,
                             name + '_rgb_anon.png'), random_image(rng, size))
                gt = osp.join(root, 'gt', condition, split, name)
                if with_label_ids:
                    label_paths[key] = save_png_atomic(
                        gt + '_gt_labelIds.png', label)
                if with_train_ids:
                    label_paths[key] = save_png_atomic(
                        gt + '_gt_labelTrainIds.png',
                        LABEL_ID_TO_TRAIN_ID[label])
                labels[key] = label
                names[group].append(name)
            names[group].sort()
    return GeneratedSplits(root, names, labels, label_paths, image_paths)


#: Frame attributes ``make_bdd100k_drivable`` cycles through by default:
#: one frame for each condition row of the drivable configs (8 frames cover
#: them all), clear daytime first.
BDD_DRIVABLE_ATTRIBUTES = (
    dict(timeofday='daytime', weather='clear', scene='city street'),
    dict(timeofday='night', weather='clear', scene='highway'),
    dict(timeofday='dawn/dusk', weather='clear', scene='highway'),
    dict(timeofday='daytime', weather='overcast', scene='residential'),
    dict(timeofday='daytime', weather='partly cloudy', scene='city street'),
    dict(timeofday='daytime', weather='rainy', scene='city street'),
    dict(timeofday='daytime', weather='snowy', scene='residential'),
    dict(timeofday='daytime', weather='foggy', scene='highway'),
)


def make_bdd100k_drivable(root,
                          release: str = 'current',
                          splits: Dict[str, int] = None,
                          size: Tuple[int, int] = (36, 64),
                          attributes: Sequence[dict] = BDD_DRIVABLE_ATTRIBUTES,
                          with_attributes: bool = True,
                          seed: int = 0) -> GeneratedSplits:
    """Write BDD100K's drivable-area task in one release's layout.

    ``release='current'``: ``images/100k/<split>/<name>.jpg``,
    ``labels/drivable/masks/<split>/<name>.png`` (0 direct, 1 alternative,
    2 background) and ``labels/det_20/det_<split>.json``; ``'2018'``: the
    same images, ``drivable_maps/labels/<split>/<name>_drivable_id.png``
    (0 background, 1 direct, 2 alternative) and
    ``labels/bdd100k_labels_images_<split>.json``. Masks are grayscale with
    every stored value in each (the first 3 pixels run through them); the
    JSON lists each image as ``{"name": "<name>.jpg", "attributes": {...},
    "labels": []}``.

    Args:
        root: Target folder (created).
        release (str): 'current' or '2018'.
        splits (dict[str, int]): Split -> number of images. Defaults to
            ``{'train': 2, 'val': 2}``.
        size (tuple[int, int]): (height, width); the real images are
            720x1280.
        attributes (Sequence[dict]): Frame attributes, cycled over each
            split's images in the order they are written.
        with_attributes (bool): Write the attribute JSON.
        seed (int): Seed of images, labels and names.

    Returns:
        GeneratedSplits: names, the stored mask values written, and in
        ``config`` the frames of the attribute JSON (every split).
    """
    from ibnseg.datasets.bdd100k_drivable import RELEASE_LAYOUTS
    root = str(root)
    spec = RELEASE_LAYOUTS[release]
    splits = {'train': 2, 'val': 2} if splits is None else splits
    rng = np.random.default_rng(seed)
    names, labels, label_paths, image_paths = {}, {}, {}, {}
    all_frames = []
    for split, count in splits.items():
        names[split], frames = [], []
        for index in range(count):
            name = '%08x-%08x' % tuple(rng.integers(0, 2**32, 2))
            label = rng.integers(0, 3, size=size).astype(np.uint8)
            label.reshape(-1)[:3] = (0, 1, 2)
            key = f'{split}/{name}'
            image_paths[key] = _save_jpeg(
                osp.join(root, spec['img_dir'].format(split=split),
                         name + spec['img_suffix']), random_image(rng, size))
            label_paths[key] = save_png_atomic(
                osp.join(root, spec['label_dir'].format(split=split),
                         name + spec['seg_map_suffix']), label)
            labels[key] = label
            names[split].append(name)
            frames.append(dict(name=name + '.jpg',
                               attributes=dict(
                                   attributes[index % len(attributes)]),
                               labels=[]))
        names[split].sort()
        if with_attributes:
            path = osp.join(root, spec['attributes_file'].format(split=split))
            os.makedirs(osp.dirname(path), exist_ok=True)
            with open(path, 'w', encoding='utf-8') as f:
                json.dump(frames, f)
        all_frames += frames
    return GeneratedSplits(root, names, labels, label_paths, image_paths,
                           layout=release, config=all_frames)
