"""The datasets' on-disk layouts (data/README.md): folder and file names,
label readers and the atomic writers of the downloads' formats."""
import os.path as osp
from typing import Optional, Tuple

import numpy as np
from PIL import Image, UnidentifiedImageError

from ..engine.fileio import atomic_write
from .labels import LABEL_ID_COLORS, LABEL_ID_TO_TRAIN_ID  # noqa: F401


class DatasetError(ValueError):
    """Data a dataset cannot use, found when it is built; the message names
    the file (and line), and the tools print it in one line."""


GTA5_IMG_DIR = 'images'
GTA5_LABEL_DIR = 'labels'
GTA5_IMG_SUFFIX = '.png'
GTA5_LABEL_IDS_SUFFIX = '.png'
GTA5_TRAIN_IDS_SUFFIX = '_labelTrainIds.png'

CITYSCAPES_IMG_DIR = 'leftImg8bit'
CITYSCAPES_LABEL_DIR = 'gtFine'
CITYSCAPES_IMG_SUFFIX = '_leftImg8bit.png'
CITYSCAPES_LABEL_IDS_SUFFIX = '_gtFine_labelIds.png'
CITYSCAPES_TRAIN_IDS_SUFFIX = '_gtFine_labelTrainIds.png'

#: BDD100K 10K semantic segmentation, trainIds in both published layouts:
#: '10k' the current download, 'seg' the older bdd100k_seg.zip.
BDD100K_LAYOUTS = {
    '10k': dict(img_dir='images/10k/{split}',
                label_dir='labels/sem_seg/masks/{split}',
                img_suffix='.jpg', seg_map_suffix='.png'),
    'seg': dict(img_dir='seg/images/{split}',
                label_dir='seg/labels/{split}',
                img_suffix='.jpg', seg_map_suffix='_train_id.png'),
}


def describe_layout(name: str, spec: dict, split: str = '{split}') -> str:
    """``'<name>': <img_dir>/*<img_suffix> + <label_dir>/*<seg_map_suffix>``
    of a layout ``spec`` (as in ``BDD100K_LAYOUTS``), for messages."""
    return (f"'{name}': {spec['img_dir'].format(split=split)}/*"
            f"{spec['img_suffix']} + {spec['label_dir'].format(split=split)}"
            f"/*{spec['seg_map_suffix']}")


def layout_options(spec: dict, split: str) -> dict:
    """The mmseg dataset options of a layout ``spec`` for ``split``."""
    return dict(
        img_suffix=spec['img_suffix'],
        seg_map_suffix=spec['seg_map_suffix'],
        data_prefix=dict(img_path=spec['img_dir'].format(split=split),
                         seg_map_path=spec['label_dir'].format(split=split)))


#: Mapillary Vistas: the v1.2 download's labels and config, then those of
#: v1.2 in the v2.0 download.
MAPILLARY_IMG_DIR = '{split}/images'
MAPILLARY_LABEL_DIRS = ('{split}/labels', '{split}/v1.2/labels')
MAPILLARY_CONFIGS = ('config.json', 'config_v1.2.json')
MAPILLARY_IMG_SUFFIX = '.jpg'
MAPILLARY_LABEL_IDS_SUFFIX = '.png'
MAPILLARY_TRAIN_IDS_SUFFIX = '_trainIds.png'
SYNTHIA_IMG_DIR = 'RGB'
SYNTHIA_LABEL_DIR = 'GT/LABELS'
SYNTHIA_IMG_SUFFIX = '.png'
SYNTHIA_LABEL_IDS_SUFFIX = '.png'
SYNTHIA_TRAIN_IDS_SUFFIX = '_labelTrainIds.png'
ACDC_CONDITIONS = ('fog', 'night', 'rain', 'snow')
ACDC_IMG_DIR = 'rgb_anon/{condition}/{split}'
ACDC_LABEL_DIR = 'gt/{condition}/{split}'
ACDC_IMG_SUFFIX = '_rgb_anon.png'
ACDC_TRAIN_IDS_SUFFIX = '_gt_labelTrainIds.png'
ACDC_LABEL_IDS_SUFFIX = '_gt_labelIds.png'


def gta5_id(index) -> str:
    """The file stem of GTA5 frame ``index`` (``7`` -> ``'00007'``)."""
    text = str(index).strip()
    return f'{int(text):05d}' if text.isdigit() else text


def gta5_paths(root: str, sample_id) -> Tuple[str, str, str]:
    """(image, label-id PNG, trainId PNG) paths of one GTA5 frame."""
    stem = gta5_id(sample_id)
    label_dir = osp.join(root, GTA5_LABEL_DIR)
    return (osp.join(root, GTA5_IMG_DIR, stem + GTA5_IMG_SUFFIX),
            osp.join(label_dir, stem + GTA5_LABEL_IDS_SUFFIX),
            osp.join(label_dir, stem + GTA5_TRAIN_IDS_SUFFIX))


def cityscapes_stem(city: str, seq: int, frame: int) -> str:
    return f'{city}_{int(seq):06d}_{int(frame):06d}'


def save_png_atomic(path: str,
                    array: np.ndarray,
                    palette: Optional[np.ndarray] = None) -> str:
    """Write an HxW (grayscale, or indices into ``palette``, (N, 3) RGB)
    or HxWx3 RGB uint8 ``array`` as a PNG at ``path``, atomically; returns
    ``path``."""
    array = np.asarray(array)
    if array.dtype != np.uint8 or not (array.ndim == 2 or
                                       (array.ndim == 3
                                        and array.shape[2] == 3)):
        raise ValueError(
            f'{path}: expected an HxW or HxWx3 uint8 array, got '
            f'{array.dtype} array of shape {array.shape}')
    if palette is None:
        image = Image.fromarray(array)
    else:
        if array.ndim != 2:
            raise ValueError(f'{path}: a palette PNG needs an HxW array')
        height, width = array.shape
        image = Image.frombytes('P', (width, height), array.tobytes())
        image.putpalette(np.asarray(palette, np.uint8).reshape(-1).tolist())
    return atomic_write(path, lambda f: image.save(f, format='PNG'))


#: PNG colour types (the IHDR byte) by name, for messages.
PNG_COLOR_TYPES = {0: 'grayscale', 2: 'RGB', 3: 'palette',
                   4: 'grayscale+alpha', 6: 'RGBA'}
PNG_PALETTE = 3  # PIL reads palette indices unscaled at any depth up to 8


def label_depth_problem(depth: int, color_type: int,
                        wide: bool = False) -> Optional[str]:
    """What is wrong with a label PNG of this bit depth and colour type, or
    None: 8 bits per sample (a palette: up to 8; ``wide``, a label decoded
    keeping 16 bits: 16) are read as stored. Depth 0 (no PNG) passes."""
    if not depth or depth == 8 or (wide and depth == 16) or (
            color_type == PNG_PALETTE and depth < 8):
        return None
    kind = PNG_COLOR_TYPES.get(color_type, f'colour type {color_type}')
    return (f'a {depth}-bit {kind} PNG; expected 8 bits per sample (a '
            'palette PNG: at most 8' + (', this label 16' if wide else '') +
            '), as its values would otherwise not be read as stored (mmseg '
            'casts 16-bit labels to 8 bits, PIL scales 1- to 4-bit grayscale '
            'ones)')


def read_label_ids(path: str) -> np.ndarray:
    """The stored values (a palette PNG's indices) of a palette or grayscale
    label PNG, HxW uint8; a missing or undecodable file, another mode or
    bit depth raises, naming it."""
    from .first_pass import inspect_file  # it imports this module
    if not osp.isfile(path):
        raise FileNotFoundError(f'{path}: label file not found')
    depth_problem = label_depth_problem(*inspect_file(path)[3:5])
    if depth_problem:
        raise DatasetError(f'{path}: the label is {depth_problem}')
    try:
        with Image.open(path) as image:
            mode = image.mode
            array = np.array(image)
    except (UnidentifiedImageError, OSError, SyntaxError, ValueError) as err:
        raise ValueError(f'{path}: cannot decode the label PNG ({err}); '
                         'expected a palette or grayscale PNG of label ids'
                         ) from err
    if mode not in ('P', 'L') or array.ndim != 2:
        raise ValueError(
            f'{path}: label image has mode {mode!r}; expected a palette ("P") '
            'or grayscale ("L") PNG whose pixel values are label ids')
    return array.astype(np.uint8, copy=False)


def _check_sample_arrays(image_rgb: np.ndarray, label_ids: np.ndarray):
    image_rgb = np.asarray(image_rgb)
    label_ids = np.asarray(label_ids)
    if image_rgb.dtype != np.uint8 or image_rgb.ndim != 3 or \
            image_rgb.shape[2] != 3:
        raise ValueError('image_rgb: expected an HxWx3 uint8 RGB array, got '
                         f'{image_rgb.dtype} array of shape {image_rgb.shape}')
    if label_ids.ndim != 2 or not np.issubdtype(label_ids.dtype, np.integer) \
            or (label_ids.size and
                (label_ids.min() < 0 or label_ids.max() > 255)):
        raise ValueError('label_ids: expected an HxW integer array with '
                         f'values in 0..255, got {label_ids.dtype} array of '
                         f'shape {label_ids.shape}')
    return image_rgb, label_ids.astype(np.uint8)


def write_gta5_sample(root: str, index, image_rgb: np.ndarray,
                      label_ids: np.ndarray) -> Tuple[str, str]:
    """Write GTA5 frame ``index`` as the download stores it: the HxWx3 RGB
    image, and the HxW label ids (0..255) as a palette PNG of the Cityscapes
    label colours (the sizes may differ, as in the real data). Returns
    (image path, label path)."""
    image_rgb, label_ids = _check_sample_arrays(image_rgb, label_ids)
    img_path, label_path, _ = gta5_paths(root, index)
    save_png_atomic(img_path, image_rgb)
    save_png_atomic(label_path, label_ids, palette=LABEL_ID_COLORS)
    return img_path, label_path


def write_cityscapes_sample(root: str, split: str, city: str, seq: int,
                            frame: int, image_rgb: np.ndarray,
                            label_ids: np.ndarray) -> Tuple[str, str]:
    """Write a Cityscapes frame as the download stores it: the HxWx3 RGB
    ``_leftImg8bit.png`` and the HxW label ids (0..255) as a grayscale
    ``_gtFine_labelIds.png``. Returns (image path, label path)."""
    image_rgb, label_ids = _check_sample_arrays(image_rgb, label_ids)
    stem = cityscapes_stem(city, seq, frame)
    img_path = osp.join(root, CITYSCAPES_IMG_DIR, split, city,
                        stem + CITYSCAPES_IMG_SUFFIX)
    label_path = osp.join(root, CITYSCAPES_LABEL_DIR, split, city,
                          stem + CITYSCAPES_LABEL_IDS_SUFFIX)
    save_png_atomic(img_path, image_rgb)
    save_png_atomic(label_path, label_ids)
    return img_path, label_path
