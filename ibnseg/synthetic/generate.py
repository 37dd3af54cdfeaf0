"""Synthetic samples, and datasets of one domain in the GTA5 or Cityscapes
layout (written with :mod:`ibnseg.datasets.layouts`, so the real datasets
and configs read them).

The layout of sample ``index`` of ``split`` depends only on
``(seed, split, index)``, its appearance also on the domain: domains
generated with one seed are paired (same label maps, other appearance).
A manifest (``synthetic.json``) records the settings of a folder: the same
settings again only write the missing samples (an interrupted run
resumes); other settings are refused unless ``force``.
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
                                     write_gta5_sample)
from ibnseg.datasets.roots import GTA5_SPLIT_DIR
from ibnseg.datasets.subsets import write_id_list
from ibnseg.engine.fileio import atomic_write
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


def generate_sample(
        index: int,
        domain: str = 'source',
        size: Tuple[int, int] = (128, 256),
        seed: int = 0,
        split: str = 'train',
        style: Optional[Mapping] = None) -> Tuple[np.ndarray, np.ndarray]:
    """Sample ``index`` of ``split``: HxWx3 uint8 RGB image and HxW uint8
    Cityscapes label ids.

    ``domain`` is a key of ``DOMAIN_STYLES``, or names ``style`` (a style
    dict, see :mod:`.styles`); the name seeds the appearance either way.
    """
    style = resolve_style(domain if style is None else style)
    key = [_check_index(seed, 'seed'), _check_split(split),
           _check_index(index, 'index')]
    scene = sample_scene(size, np.random.default_rng(key))
    # the appearance's own generator: layouts match across domains
    image = render_scene(scene, style, np.random.default_rng(
        key + [zlib.crc32(domain.encode('utf-8'))]))
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


def _samples(num_train: int, num_val: int) -> list:
    return [(split, index)
            for split, count in (('train', num_train), ('val', num_val))
            for index in range(count)]


def _write_sample(task: tuple) -> bool:
    """Generate and write one sample; False if it existed and was kept."""
    (root, layout, domain, style, size, seed, split, index, num_train,
     overwrite) = task
    image_path, label_path, where = _sample_files(root, layout, domain, split,
                                                  index, num_train)
    if not overwrite and osp.isfile(image_path) and osp.isfile(label_path):
        return False  # writes are atomic: an existing file is complete
    image, label_ids = generate_sample(index, domain, size, seed, split, style)
    write = write_gta5_sample if layout == 'gta5' else write_cityscapes_sample
    write(root, image_rgb=image, label_ids=label_ids, **where)
    return True


def _init_worker():
    # the workers already run in parallel; threads inside each would only
    # compete for the same cores
    cv2.setNumThreads(1)


def _describe_task(task: tuple) -> str:
    root, layout, domain, _, _, _, split, index = task[:8]
    return f'{domain} {split} sample {index} ({layout} layout in {root})'


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
    for split, index in _samples(manifest['num_train'], manifest['num_val']):
        files.update(_sample_files(root, manifest['layout'],
                                   manifest['domain'], split, index,
                                   manifest['num_train'])[:2])
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
    """Write ``num_train`` and ``num_val`` samples of ``domain`` (rendered
    with ``style`` when given) to ``root`` in ``layout`` ('gta5' or
    'cityscapes'); ``root`` must be new, empty or made by this function.
    ``force`` rewrites everything, also over other settings; ``nproc``
    worker processes; ``progress`` shows mmengine's progress bar.

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
    manifest = dict(generator_version=GENERATOR_VERSION, domain=domain,
                    layout=layout, size=list(size), seed=seed,
                    num_train=num_train, num_val=num_val,
                    # JSON round trip: tuples become lists, as when read back
                    style=json.loads(json.dumps(resolved)))

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
    atomic_write(osp.join(root, MANIFEST_NAME),
                 json.dumps(manifest, indent=1) + '\n')

    tasks = [(root, layout, domain, resolved, size, seed, split, index,
              num_train, force)
             for split, index in _samples(num_train, num_val)]
    written = parallel_map(_write_sample, tasks, nproc, progress=progress,
                           initializer=_init_worker, chunksize=4,
                           describe=_describe_task)
    summary = dict(root=root, layout=layout, written=int(sum(written)),
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
