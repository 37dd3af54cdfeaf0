"""Small datasets in the real on-disk layouts, written through
``ibnseg.datasets.layouts`` so they have the formats the downloads have.

Images are random noise. Cityscapes/GTA5/ACDC labels are label ids drawn
from the whole table plus ids it does not know (34, 99, 200, 254: all
become 255), the first pixels running through every one of them.
``size`` arguments are (height, width).
"""
import json
import os
import os.path as osp
import struct
import zlib
from dataclasses import dataclass, field
from typing import Dict, List, Sequence, Tuple

import numpy as np

from ibnseg.datasets.layouts import (CITYSCAPES_LABEL_IDS_SUFFIX,
                                     CITYSCAPES_TRAIN_IDS_SUFFIX,
                                     LABEL_ID_TO_TRAIN_ID, gta5_id,
                                     gta5_paths, save_png_atomic,
                                     write_cityscapes_sample,
                                     write_gta5_sample)

UNUSED_LABEL_IDS = (34, 99, 200, 254)
GENERATED_LABEL_IDS = tuple(range(34)) + UNUSED_LABEL_IDS
GARBAGE_BYTES = b'this is not an image file\x00\x01\x02' * 8


def random_image(rng: np.random.Generator, size: Tuple[int, int]):
    """HxWx3 uint8 RGB noise."""
    return rng.integers(0, 256, size=(*size, 3), dtype=np.uint8)


def _covering(rng, values, size, dtype=np.uint8):
    """Values drawn from ``values``, the first pixels running through all."""
    values = np.asarray(values, dtype=dtype)
    label = rng.choice(values, size=size).astype(dtype)
    count = min(label.size, values.size)
    label.reshape(-1)[:count] = values[:count]
    return label


def random_label_ids(rng: np.random.Generator, size: Tuple[int, int]):
    """HxW uint8 label ids from ``GENERATED_LABEL_IDS``."""
    return _covering(rng, GENERATED_LABEL_IDS, size)


def random_train_ids(rng: np.random.Generator, size: Tuple[int, int]):
    """HxW uint8 trainIds (0..18 and 255)."""
    return _covering(rng, list(range(19)) + [255], size)


def corrupt_file(path: str) -> str:
    """Overwrite ``path`` with bytes no image decoder accepts."""
    with open(path, 'wb') as f:
        f.write(GARBAGE_BYTES)
    return path


def truncate_file(path: str, keep_fraction: float = 0.5) -> str:
    """Cut ``path`` to its first ``keep_fraction`` of bytes."""
    with open(path, 'rb') as f:
        data = f.read()
    with open(path, 'wb') as f:
        f.write(data[:max(1, int(len(data) * keep_fraction))])
    return path


def claim_png_size(path: str, width: int, height: int) -> str:
    """Make the PNG's IHDR (CRC valid) claim ``width`` x ``height``; the
    pixel data stay: a small file passing for a huge image until decoded."""
    with open(path, 'rb') as f:
        data = bytearray(f.read())
    assert data[12:16] == b'IHDR', f'{path}: no IHDR chunk first'
    data[16:24] = struct.pack('>II', width, height)
    data[29:33] = struct.pack('>I', zlib.crc32(bytes(data[12:29])))
    with open(path, 'wb') as f:
        f.write(data)
    return path


def write_split_file(path: str, ids: Sequence) -> str:
    """One id per line (a GTA5 split file or an mmseg ``ann_file``)."""
    os.makedirs(osp.dirname(osp.abspath(path)), exist_ok=True)
    with open(path, 'w') as f:
        f.writelines(f'{i}\n' for i in ids)
    return str(path)


def _save_jpeg(path: str, image_rgb: np.ndarray) -> str:
    from PIL import Image
    os.makedirs(osp.dirname(path), exist_ok=True)
    Image.fromarray(image_rgb).save(path, format='JPEG', quality=90)
    return path


@dataclass
class GeneratedGTA5:
    """``ids``: every frame stem written, sorted; ``good_ids``: those
    without a fault; ``label_ids``: stem -> label ids written (frames with
    a label file); ``problems``: stem -> the fault injected."""
    root: str
    ids: List[str]
    good_ids: List[str]
    label_ids: Dict[str, np.ndarray] = field(repr=False)
    problems: Dict[str, str]

    def train_ids(self, stem: str) -> np.ndarray:
        return LABEL_ID_TO_TRAIN_ID[self.label_ids[stem]]


def make_gta5(root, num_images: int = 4, size: Tuple[int, int] = (32, 64),
              seed: int = 0,
              mismatched: Sequence[int] = (),
              missing_labels: Sequence[int] = (),
              missing_images: Sequence[int] = (),
              corrupt_images: Sequence[int] = (),
              corrupt_labels: Sequence[int] = ()) -> GeneratedGTA5:
    """GTA5's download: ``images/NNNNN.png`` and ``labels/NNNNN.png``
    (palette PNGs of label ids). The fault arguments take frame numbers;
    a mismatched label is 2 px taller and 3 px wider than its image."""
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
    for frame in range(1, num_images + 1):
        stem = gta5_id(frame)
        fault = faults.get(stem)
        label = random_label_ids(rng, (size[0] + 2, size[1] + 3)
                                 if fault == 'mismatched' else size)
        img_path, label_path = write_gta5_sample(
            root, frame, random_image(rng, size), label)
        ids.append(stem)
        if fault == 'missing_label':
            os.remove(label_path)
        else:
            label_ids[stem] = label
        if fault == 'missing_image':
            os.remove(img_path)
        elif fault in ('corrupt_image', 'corrupt_label'):
            corrupt_file(img_path if fault == 'corrupt_image' else label_path)
    unknown = set(faults) - set(ids)
    if unknown:
        raise ValueError(f'make_gta5: fault frames {sorted(unknown)} are '
                         f'outside 1..{num_images}')
    return GeneratedGTA5(root, ids, [i for i in ids if i not in faults],
                         label_ids, faults)


def gta5_label_path(root, frame, train_ids=False) -> str:
    """Path of frame ``frame``'s label-id (or trainId) PNG under ``root``."""
    _, label_ids_path, train_ids_path = gta5_paths(str(root), frame)
    return train_ids_path if train_ids else label_ids_path


@dataclass
class GeneratedCityscapes:
    """``names``: split -> sorted names relative to ``leftImg8bit/<split>``
    without suffix (an mmseg ``ann_file`` line); ``label_ids``:
    '<split>/<name>' -> the label ids written."""
    root: str
    names: Dict[str, List[str]]
    label_ids: Dict[str, np.ndarray] = field(repr=False)

    def train_ids(self, split: str, name: str) -> np.ndarray:
        return LABEL_ID_TO_TRAIN_ID[self.label_ids[f'{split}/{name}']]

    def label_path(self, split: str, name: str, train_ids=False) -> str:
        suffix = CITYSCAPES_TRAIN_IDS_SUFFIX if train_ids \
            else CITYSCAPES_LABEL_IDS_SUFFIX
        return osp.join(self.root, 'gtFine', split, name + suffix)


def make_cityscapes(root, splits: Dict[str, int] = None,
                    size: Tuple[int, int] = (32, 64), seed: int = 0,
                    with_train_ids: bool = False) -> GeneratedCityscapes:
    """Cityscapes' layout: ``leftImg8bit/<split>/<city>/..._leftImg8bit.png``
    and ``gtFine/..._gtFine_labelIds.png`` (and ``_labelTrainIds.png``, as
    a conversion writes it, with ``with_train_ids``); frames dealt to
    aachen and bremen in turn. ``splits``: default {'train': 3, 'val': 2}."""
    root = str(root)
    splits = {'train': 3, 'val': 2} if splits is None else splits
    rng = np.random.default_rng(seed)
    names, label_ids = {}, {}
    for split, count in splits.items():
        names[split] = []
        for frame in range(count):
            city = ('aachen', 'bremen')[frame % 2]
            label = random_label_ids(rng, size)
            _, label_path = write_cityscapes_sample(
                root, split, city, 0, frame, random_image(rng, size), label)
            stem = label_path[:-len(CITYSCAPES_LABEL_IDS_SUFFIX)]
            name = f'{city}/{osp.basename(stem)}'
            names[split].append(name)
            label_ids[f'{split}/{name}'] = label
            if with_train_ids:
                save_png_atomic(stem + CITYSCAPES_TRAIN_IDS_SUFFIX,
                                LABEL_ID_TO_TRAIN_ID[label])
        names[split].sort()
    return GeneratedCityscapes(root, names, label_ids)


@dataclass
class GeneratedSplits:
    """What ``make_bdd100k``/``make_mapillary``/``make_acdc``/
    ``make_bdd100k_drivable`` wrote. ``names``: split (ACDC:
    '<condition>/<split>') -> sorted names relative to the image folder
    without suffix; ``labels``, ``label_paths``, ``image_paths``:
    '<split>/<name>' -> what the label file holds, the files; ``layout``:
    BDD100K's layout or release; ``config``: Mapillary's config.json
    ``labels``, or the drivable task's attribute frames."""
    root: str
    names: Dict[str, List[str]]
    labels: Dict[str, np.ndarray] = field(repr=False)
    label_paths: Dict[str, str] = field(repr=False)
    image_paths: Dict[str, str] = field(repr=False)
    layout: str = ''
    config: List[dict] = field(default_factory=list, repr=False)


def _write_bdd_pairs(root, spec, splits, size, rng,
                     make_label) -> GeneratedSplits:
    """Image and label pairs named like BDD100K's in ``spec``'s folders;
    ``config`` holds each split's names in the order they were drawn."""
    names, labels, label_paths, image_paths = {}, {}, {}, {}
    created = []
    for split, count in splits.items():
        created.append((split, []))
        for _ in range(count):
            name = '%08x-%08x' % tuple(rng.integers(0, 2**32, 2))
            label = make_label(rng, size)
            key = f'{split}/{name}'
            image_paths[key] = _save_jpeg(
                osp.join(root, spec['img_dir'].format(split=split),
                         name + spec['img_suffix']), random_image(rng, size))
            label_paths[key] = save_png_atomic(
                osp.join(root, spec['label_dir'].format(split=split),
                         name + spec['seg_map_suffix']), label)
            labels[key] = label
            created[-1][1].append(name)
        names[split] = sorted(created[-1][1])
    return GeneratedSplits(root, names, labels, label_paths, image_paths,
                           config=created)


def make_bdd100k(root, layout: str = '10k', splits: Dict[str, int] = None,
                 size: Tuple[int, int] = (36, 64),
                 seed: int = 0) -> GeneratedSplits:
    """BDD100K 10K semantic segmentation, ``layout`` '10k'
    (``images/10k/<split>/<name>.jpg``, ``labels/sem_seg/masks/<split>/
    <name>.png``) or 'seg' (``seg/images/...``, ``seg/labels/<split>/
    <name>_train_id.png``); grayscale trainIds, names like the real ones."""
    from ibnseg.datasets.layouts import BDD100K_LAYOUTS
    root = str(root)
    spec = BDD100K_LAYOUTS[layout]
    splits = {'train': 2, 'val': 2} if splits is None else splits
    splits = _write_bdd_pairs(root, spec, splits, size,
                              np.random.default_rng(seed), random_train_ids)
    splits.layout, splits.config = layout, []
    return splits


#: Mapillary Vistas v1.2 class names in id order, as in its config.json
#: (the readable names and colours are mmseg's MapillaryDataset_v1's).
MAPILLARY_V12_NAMES = tuple('''
animal--bird animal--ground-animal construction--barrier--curb
construction--barrier--fence construction--barrier--guard-rail
construction--barrier--other-barrier construction--barrier--wall
construction--flat--bike-lane construction--flat--crosswalk-plain
construction--flat--curb-cut construction--flat--parking
construction--flat--pedestrian-area construction--flat--rail-track
construction--flat--road construction--flat--service-lane
construction--flat--sidewalk construction--structure--bridge
construction--structure--building construction--structure--tunnel
human--person human--rider--bicyclist human--rider--motorcyclist
human--rider--other-rider marking--crosswalk-zebra marking--general
nature--mountain nature--sand nature--sky nature--snow nature--terrain
nature--vegetation nature--water object--banner object--bench
object--bike-rack object--billboard object--catch-basin object--cctv-camera
object--fire-hydrant object--junction-box object--mailbox object--manhole
object--phone-booth object--pothole object--street-light
object--support--pole object--support--traffic-sign-frame
object--support--utility-pole object--traffic-light
object--traffic-sign--back object--traffic-sign--front object--trash-can
object--vehicle--bicycle object--vehicle--boat object--vehicle--bus
object--vehicle--car object--vehicle--caravan object--vehicle--motorcycle
object--vehicle--on-rails object--vehicle--other-vehicle
object--vehicle--trailer object--vehicle--truck object--vehicle--wheeled-slow
void--car-mount void--ego-vehicle void--unlabeled'''.split())


def mapillary_v12_config() -> dict:
    """Mapillary Vistas v1.2's config.json (only 'Unlabeled' not
    evaluated)."""
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


def make_mapillary(root, splits: Dict[str, int] = None,
                   size: Tuple[int, int] = (40, 56), with_config: bool = True,
                   seed: int = 0,
                   sizes: Sequence[Tuple[int, int]] = ()) -> GeneratedSplits:
    """Mapillary Vistas v1.2: ``<split>/images/<key>.jpg``,
    ``<split>/labels/<key>.png`` (palette PNG of class ids 0..65, every id
    in every label) and ``config.json``; 22-character keys. ``sizes``: a
    size per image, in generation order (else ``size``)."""
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


#: SYNTHIA class ids generated: the README's 0..22 and undefined ones.
SYNTHIA_GENERATED_IDS = tuple(range(23)) + (23, 40, 300)


@dataclass
class GeneratedSynthia:
    """``ids``: frame stems, sorted; ``class_ids``, ``instance_ids``:
    stem -> the channels written (uint16)."""
    root: str
    ids: List[str]
    class_ids: Dict[str, np.ndarray] = field(repr=False)
    instance_ids: Dict[str, np.ndarray] = field(repr=False)

    def label_path(self, stem: str) -> str:
        return osp.join(self.root, 'GT', 'LABELS', stem + '.png')


def make_synthia(root, num_images: int = 3, size: Tuple[int, int] = (38, 64),
                 seed: int = 0) -> GeneratedSynthia:
    """SYNTHIA RAND-CITYSCAPES: ``RGB/<7 digits>.png`` and
    ``GT/LABELS/<7 digits>.png``, 16-bit, in file (RGB) order the class id,
    a random 16-bit instance id (so reading the wrong channel or 8 bits
    gives other labels) and zeros; frames from 0000000."""
    import cv2
    root = str(root)
    rng = np.random.default_rng(seed)
    ids, class_ids, instance_ids = [], {}, {}
    for frame in range(num_images):
        stem = f'{frame:07d}'
        classes = _covering(rng, SYNTHIA_GENERATED_IDS, size, np.uint16)
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
              splits: Dict[str, int] = None, size: Tuple[int, int] = (27, 48),
              seed: int = 0, with_train_ids: bool = True,
              with_label_ids: bool = True) -> GeneratedSplits:
    """ACDC: ``rgb_anon/<condition>/<split>/<seq>/<seq>_frame_<n:06d>_
    rgb_anon.png`` and under ``gt/`` ``..._gt_labelIds.png`` and
    ``..._gt_labelTrainIds.png`` for fog, night, rain and snow; frames
    dealt to two sequences.
    ``splits``: frames per condition, default {'val': 2}; ``names`` by
    '<condition>/<split>' ('<seq>/<name>'), ``labels`` the label ids."""
    root = str(root)
    splits = {'val': 2} if splits is None else splits
    rng = np.random.default_rng(seed)
    names, labels, label_paths, image_paths = {}, {}, {}, {}
    for condition in ('fog', 'night', 'rain', 'snow'):
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


#: Frame attributes cycled by ``make_bdd100k_drivable``: one frame per
#: condition row of the drivable configs, clear daytime first.
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


def make_bdd100k_drivable(root, release: str = 'current',
                          splits: Dict[str, int] = None,
                          size: Tuple[int, int] = (36, 64),
                          attributes: Sequence[dict] = BDD_DRIVABLE_ATTRIBUTES,
                          seed: int = 0) -> GeneratedSplits:
    """BDD100K's drivable-area task in one ``release``'s layout ('current':
    ``labels/drivable/masks/<split>/<name>.png`` of 0 direct, 1 alternative,
    2 background and ``labels/det_20/det_<split>.json``; '2018':
    ``drivable_maps/labels/<split>/<name>_drivable_id.png`` of 0
    background, 1 direct, 2 alternative and ``labels/bdd100k_labels_images_
    <split>.json``), images ``images/100k/<split>/<name>.jpg``. Every mask
    holds each value; each frame's ``attributes`` cycle over a split. The
    attribute frames of every split are returned in ``config``."""
    from ibnseg.datasets.bdd100k_drivable import RELEASE_LAYOUTS
    root = str(root)
    spec = RELEASE_LAYOUTS[release]
    splits = {'train': 2, 'val': 2} if splits is None else splits

    def drivable_mask(rng, size):  # every value present
        label = rng.integers(0, 3, size=size).astype(np.uint8)
        label.reshape(-1)[:3] = (0, 1, 2)
        return label

    generated = _write_bdd_pairs(root, spec, splits, size,
                                 np.random.default_rng(seed), drivable_mask)
    all_frames = []
    for split, created in generated.config:
        frames = [
            dict(name=name + '.jpg',
                 attributes=dict(attributes[index % len(attributes)]),
                 labels=[]) for index, name in enumerate(created)
        ]
        path = osp.join(root, spec['attributes_file'].format(split=split))
        os.makedirs(osp.dirname(path), exist_ok=True)
        with open(path, 'w', encoding='utf-8') as f:
            json.dump(frames, f)
        all_frames += frames
    generated.layout, generated.config = release, all_frames
    return generated
