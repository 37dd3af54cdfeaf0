"""Synthetic samples, and whole datasets in the GTA5 and Cityscapes layouts.

Seeding: the layout of sample ``index`` of ``split`` depends only on
``(seed, split, index)``; its appearance also on the domain name. So domains
generated with the same seed are *paired*: their val sets show the same
scenes (same label maps) in different appearances, which isolates the
appearance shift. Use different seeds for independent layouts.

Datasets are written with the real layout writers of
:mod:`ibnseg.datasets.layouts`, so GTA5Dataset and CityscapesLabelIdsDataset
(and their configs) read them like the real data:

- ``layout='gta5'``: ``images/NNNNN.png``, ``labels/NNNNN.png`` (palette
  label ids), train frames numbered from 1, val frames after them, and the
  split files ``splits/train.txt``, ``splits/val.txt``.
- ``layout='cityscapes'``: ``leftImg8bit/<split>/<city>/<city>_000000_
  NNNNNN_leftImg8bit.png`` and ``gtFine/<split>/<city>/..._gtFine_labelIds
  .png``; the city is the domain name (lower-case letters and digits).

A manifest (``synthetic.json``) records how a folder was generated. Running
again with the same settings only writes the samples that are missing (an
interrupted run resumes); different settings are refused unless ``force``,
which rewrites every sample and removes the ones the old settings wrote that
the new ones do not.
"""
import json
import os
import os.path as osp
import re
import zlib
from typing import Dict, Mapping, Optional, Tuple

import cv2
import numpy as np

from ibnseg.datasets.layouts import (CITYSCAPES_IMG_DIR, CITYSCAPES_IMG_SUFFIX,
                                     CITYSCAPES_LABEL_DIR,
                                     CITYSCAPES_LABEL_IDS_SUFFIX,
                                     cityscapes_stem, gta5_id, gta5_paths,
                                     write_cityscapes_sample,
                                     write_gta5_sample, write_text_atomic)
from ibnseg.datasets.roots import GTA5_SPLIT_DIR
from ibnseg.datasets.subsets import write_id_list
from ibnseg.utils.parallel import parallel_map
from .render import render_scene
from .scene import _check_size, sample_scene
from .styles import resolve_style

SPLITS = ('train', 'val', 'test')
LAYOUTS = ('gta5', 'cityscapes')
MANIFEST_NAME = 'synthetic.json'
#: Bumped whenever the same settings would produce different images, so a
#: folder made by an older generator is not silently mixed with new samples.
GENERATOR_VERSION = 1


def _check_index(value, what) -> int:
    if isinstance(value, bool) or not isinstance(value, (int, np.integer)) \
            or value < 0:
        raise ValueError(f'{what}: expected an integer >= 0, got {value!r}')
    return int(value)


def _check_split(split: str) -> int:
    if split not in SPLITS:
        raise ValueError(f'split: expected one of {SPLITS}, got {split!r}')
    return SPLITS.index(split)


def layout_rng(seed: int, split: str, index: int) -> np.random.Generator:
    """The generator that lays out sample ``index`` of ``split``."""
    return np.random.default_rng([
        _check_index(seed, 'seed'),
        _check_split(split),
        _check_index(index, 'index')
    ])


def appearance_rng(seed: int, split: str, index: int,
                   domain: str) -> np.random.Generator:
    """The generator that renders sample ``index`` of ``split`` in
    ``domain`` (independent of the layout's, so layouts match across
    domains)."""
    return np.random.default_rng([
        _check_index(seed, 'seed'),
        _check_split(split),
        _check_index(index, 'index'),
        zlib.crc32(domain.encode('utf-8'))
    ])


def generate_sample(
        index: int,
        domain: str = 'source',
        size: Tuple[int, int] = (128, 256),
        seed: int = 0,
        split: str = 'train',
        style: Optional[Mapping] = None) -> Tuple[np.ndarray, np.ndarray]:
    """One synthetic sample.

    Args:
        index (int): Sample number within ``split``.
        domain (str): Appearance domain; a key of ``DOMAIN_STYLES`` unless
            ``style`` is given.
        size (tuple[int, int]): (height, width).
        seed (int): Dataset seed (>= 0).
        split (str): 'train', 'val' or 'test'.
        style (Mapping, optional): A style dict to render ``domain`` with
            (see :mod:`.styles`); the domain name still seeds the
            appearance.

    Returns:
        tuple[np.ndarray, np.ndarray]: HxWx3 uint8 RGB image and HxW uint8
        Cityscapes label ids.
    """
    style = resolve_style(domain if style is None else style)
    scene = sample_scene(size, layout_rng(seed, split, index))
    image = render_scene(scene, style,
                         appearance_rng(seed, split, index, domain))
    return image, scene.label_ids


def cityscapes_city(domain: str) -> str:
    """The Cityscapes 'city' a domain's frames are filed under."""
    city = re.sub('[^a-z0-9]', '', domain.lower())
    if not city:
        raise ValueError(f'domain {domain!r}: needs at least one letter or '
                         'digit to name its Cityscapes city folder')
    return city


def _sample_files(root: str, layout: str, domain: str, split: str, index: int,
                  num_train: int) -> Tuple[str, str, dict]:
    """(image path, label path, writer arguments) of one sample."""
    if layout == 'gta5':
        frame = index + 1 + (num_train if split == 'val' else 0)
        image_path, label_path, _ = gta5_paths(root, frame)
        return image_path, label_path, dict(index=frame)
    city = cityscapes_city(domain)
    stem = cityscapes_stem(city, 0, index)
    return (osp.join(root, CITYSCAPES_IMG_DIR, split, city,
                     stem + CITYSCAPES_IMG_SUFFIX),
            osp.join(root, CITYSCAPES_LABEL_DIR, split, city,
                     stem + CITYSCAPES_LABEL_IDS_SUFFIX),
            dict(split=split, city=city, seq=0, frame=index))


def _write_sample(task: tuple) -> bool:
    """Generate and write one sample; False if it existed and was kept."""
    (root, layout, domain, style, size, seed, split, index, num_train,
     overwrite) = task
    image_path, label_path, where = _sample_files(root, layout, domain, split,
                                                  index, num_train)
    if not overwrite and osp.isfile(image_path) and osp.isfile(label_path):
        return False  # writes are atomic: an existing file is complete
    image, label_ids = generate_sample(index, domain, size, seed, split, style)
    if layout == 'gta5':
        write_gta5_sample(root, where['index'], image, label_ids)
    else:
        write_cityscapes_sample(root,
                                image_rgb=image,
                                label_ids=label_ids,
                                **where)
    return True


def _init_worker():
    # the workers already run in parallel; threads inside each would only
    # compete for the same cores
    cv2.setNumThreads(1)


def _describe_task(task: tuple) -> str:
    root, layout, domain, _, _, _, split, index = task[:8]
    return f'{domain} {split} sample {index} ({layout} layout in {root})'


def _manifest(domain, layout, size, seed, num_train, num_val, style) -> dict:
    return dict(
        generator_version=GENERATOR_VERSION,
        domain=domain,
        layout=layout,
        size=list(size),
        seed=seed,
        num_train=num_train,
        num_val=num_val,
        # JSON round trip: tuples become lists, as when read back
        style=json.loads(json.dumps(style)))


def _read_manifest(root: str) -> Optional[dict]:
    path = osp.join(root, MANIFEST_NAME)
    if not osp.isfile(path):
        if osp.isdir(root) and any(not name.startswith('.')
                                   for name in os.listdir(root)):
            raise ValueError(
                f'{root}: folder is not empty and has no {MANIFEST_NAME}, so '
                'it was not made by ibnseg.synthetic; refusing to write '
                'synthetic samples into it (choose an empty or new folder)')
        return None
    try:
        with open(path, encoding='utf-8') as f:
            return json.load(f)
    except (OSError, ValueError) as err:
        raise ValueError(f'{path}: unreadable manifest ({err}); delete it '
                         'and the folder, or choose another folder') from err


def _planned_files(root: str, manifest: Mapping) -> set:
    """Every image and label file the manifest's settings write."""
    files = set()
    for split, count in (('train', manifest['num_train']),
                         ('val', manifest['num_val'])):
        for index in range(count):
            image_path, label_path, _ = _sample_files(root, manifest['layout'],
                                                      manifest['domain'],
                                                      split, index,
                                                      manifest['num_train'])
            files.update((image_path, label_path))
    return files


def generate_domain_dataset(root: str,
                            domain: str,
                            num_train: int,
                            num_val: int,
                            size: Tuple[int, int] = (128, 256),
                            seed: int = 0,
                            layout: str = 'gta5',
                            style: Optional[Mapping] = None,
                            force: bool = False,
                            nproc: int = 1,
                            progress: bool = True) -> Dict[str, object]:
    """Write a synthetic dataset of one domain in a real on-disk layout.

    Args:
        root (str): Dataset folder (created; must be new, empty or made by
            this function).
        domain (str): Appearance domain (see ``DOMAIN_STYLES``), or the name
            of ``style``.
        num_train (int), num_val (int): Samples per split (>= 0).
        size (tuple[int, int]): (height, width) of every sample.
        seed (int): Dataset seed (>= 0); see the module notes on pairing.
        layout (str): 'gta5' or 'cityscapes'.
        style (Mapping, optional): Style dict for a custom domain.
        force (bool): Regenerate everything even if present or made with
            other settings.
        nproc (int): Worker processes.
        progress (bool): Show mmengine's progress bar.

    Returns:
        dict: ``root``, ``layout``, ``written`` and ``skipped`` counts, and
        for GTA5 the split files (``split_files``: {split: path}).
    """
    if layout not in LAYOUTS:
        raise ValueError(f'layout: expected one of {LAYOUTS}, got {layout!r}')
    num_train = _check_index(num_train, 'num_train')
    num_val = _check_index(num_val, 'num_val')
    if num_train + num_val == 0:
        raise ValueError('num_train + num_val: expected at least one sample')
    if layout == 'gta5' and num_train + num_val > 99999:
        raise ValueError('GTA5 layout numbers frames with 5 digits: expected '
                         f'num_train + num_val <= 99999, got '
                         f'{num_train + num_val}')
    nproc = _check_index(nproc, 'nproc') or 1
    size = _check_size(size)
    seed = _check_index(seed, 'seed')
    if layout == 'cityscapes':
        cityscapes_city(domain)  # fail before writing anything
    resolved = resolve_style(domain if style is None else style)
    manifest = _manifest(domain, layout, size, seed, num_train, num_val,
                         resolved)

    old = _read_manifest(root)
    if old is not None and old != manifest:
        if not force:
            changed = sorted(key for key in set(old) | set(manifest)
                             if old.get(key) != manifest.get(key))
            raise ValueError(
                f'{root}: holds a synthetic dataset made with other settings '
                f'(differing: {", ".join(changed)}); pass force=True '
                '(--force) to regenerate it, or choose another folder')
        try:
            stale = _planned_files(root, old) - _planned_files(root, manifest)
        except (KeyError, TypeError, ValueError):
            stale = set()  # a manifest from another version: keep its files
        for path in sorted(stale):
            if osp.isfile(path):
                os.remove(path)
    os.makedirs(root, exist_ok=True)
    # the manifest goes first: an interrupted run is then recognised and
    # resumed by the next one with the same settings
    write_text_atomic(osp.join(root, MANIFEST_NAME),
                      json.dumps(manifest, indent=1) + '\n')

    tasks = [(root, layout, domain, resolved, size, seed, split, index,
              num_train, force)
             for split, count in (('train', num_train), ('val', num_val))
             for index in range(count)]
    written = parallel_map(_write_sample, tasks, nproc, progress=progress,
                           initializer=_init_worker, chunksize=4,
                           describe=_describe_task)
    summary = dict(root=root,
                   layout=layout,
                   written=int(sum(written)),
                   skipped=len(written) - int(sum(written)))
    if layout == 'gta5':
        summary['split_files'] = {}
        for split, frames in (('train', range(1, num_train + 1)),
                              ('val',
                               range(num_train + 1, num_train + num_val + 1))):
            path = osp.join(root, GTA5_SPLIT_DIR, f'{split}.txt')
            if frames:
                summary['split_files'][split] = write_id_list(
                    path, [gta5_id(frame) for frame in frames])
            elif osp.isfile(path):  # left by settings that had this split
                os.remove(path)
    return summary
