"""Segment one's own images around mmseg's ``inference_model``: outputs
named after the images (``MMSegInferencer`` numbers them), the model loaded
strictly and safely, classes and palette from the config.
"""
import copy
import glob
import os
import os.path as osp
from dataclasses import dataclass
from typing import Iterator, List, Optional, Sequence, Tuple

import mmcv
import numpy as np
from mmengine.config import Config
from mmengine.dist import is_distributed
from mmengine.model import revert_sync_batchnorm
from mmengine.utils import ProgressBar
from mmseg.apis import inference_model, init_model
from mmseg.registry import DATASETS
from mmseg.visualization import SegLocalVisualizer
from PIL import Image

from ..datasets.labels import CLASSES, TRAIN_ID_LABEL_IDS
from ..datasets.layouts import save_png_atomic
from ..engine.fileio import check_output_names
from ..engine.runner_setup import check_checkpoint, load_config
from ..utils.checkpoint import load_strictly

__all__ = [
    'IMAGE_EXTENSIONS', 'LABEL_FORMATS', 'PRED_DIR', 'VIS_DIR',
    'ImageInputError', 'ImageReadError', 'InputImage', 'SegmentedImage',
    'check_label_format', 'check_output_paths', 'find_images',
    'inference_dataset_meta', 'init_segmentor', 'load_segmentor',
    'output_paths', 'segment_images', 'to_label_format'
]

#: Endings taken from folders and patterns (named files: any ending).
IMAGE_EXTENSIONS = ('.bmp', '.jpeg', '.jpg', '.png', '.tif', '.tiff',
                    '.webp')

#: Label PNG values: class indices, or the benchmark's Cityscapes label ids.
LABEL_FORMATS = ('trainid', 'labelid')

#: Output sub-folders (label PNGs, overlays), named as by MMSegInferencer.
PRED_DIR = 'pred'
VIS_DIR = 'vis'


class ImageInputError(ValueError):
    """An image argument that names no image, or two inputs with one output
    name; the message names them."""


class ImageReadError(ValueError):
    """An image file that cannot be decoded; the message names it."""


@dataclass(frozen=True)
class InputImage:
    """One image to segment: ``path`` as the user spells it, ``name`` its
    output name without extension (``'berlin/berlin_000000_000019_x'``)."""
    path: str
    name: str


@dataclass(frozen=True)
class SegmentedImage:
    """What :func:`segment_images` wrote for one image: the label PNG (8-bit)
    and the colour overlay (RGB)."""
    image: InputImage
    label_path: str
    overlay_path: str


def _is_image_file(path: str) -> bool:
    return path.lower().endswith(IMAGE_EXTENSIONS) and osp.isfile(path)


def _images_in(folder: str, exclude: Sequence[str] = ()) -> List[str]:
    """Image files below ``folder``, sorted, but hidden ones and those
    below ``exclude`` (real paths)."""
    found = []
    # links are followed (datasets are often linked in), each real folder
    # once: a link to an ancestor would never end
    visited = set(exclude)
    for dirpath, dirnames, filenames in os.walk(folder, followlinks=True):
        real = osp.realpath(dirpath)
        if real in visited:
            dirnames[:] = []
            continue
        visited.add(real)
        dirnames[:] = [d for d in dirnames if not d.startswith('.')]
        found += [
            osp.join(dirpath, name) for name in filenames
            if not name.startswith('.')
            and _is_image_file(osp.join(dirpath, name))
        ]
    return sorted(found)


def _inside(path: str, folders: Sequence[str]) -> bool:
    real = osp.realpath(path)
    return any(real == f or real.startswith(f.rstrip(os.sep) + os.sep)
               for f in folders)


def _glob_root(pattern: str) -> str:
    """The folder part of ``pattern`` before its first wildcard."""
    while glob.has_magic(pattern):
        pattern = osp.dirname(pattern)
    return pattern or '.'


def _expand(argument: str,
            exclude: Sequence[str] = ()) -> Tuple[str, List[str]]:
    """``(root, images)`` of a file, folder or pattern argument."""
    if osp.isdir(argument):
        images = _images_in(argument, exclude)
        if not images:
            raise ImageInputError(
                f'{argument}: no image in this folder (looked for '
                f'{", ".join(IMAGE_EXTENSIONS)} files, recursively)')
        return argument, images
    if osp.isfile(argument):
        return osp.dirname(argument) or '.', [argument]
    if glob.has_magic(argument):
        images = []
        for match in sorted(glob.glob(argument, recursive=True)):
            if osp.isdir(match):
                images += _images_in(match, exclude)
            elif _is_image_file(match) and not _inside(match, exclude):
                images.append(match)
        if not images:
            raise ImageInputError(
                f'{argument}: the pattern matches no image (looked for '
                f'{", ".join(IMAGE_EXTENSIONS)} files)')
        return _glob_root(argument), images
    raise ImageInputError(f'{argument}: no such file or folder')


def find_images(arguments: Sequence[str],
                check_headers: bool = True,
                exclude: Sequence[str] = ()) -> List[InputImage]:
    """The images that folders (recursively, sorted), files and glob
    patterns name, in order, each once, named by their path below the
    arguments' common folder (a pattern's: its part before any wildcard).

    Args:
        arguments (Sequence[str]): The user's image arguments.
        check_headers (bool): Open every image's header before any model
            is loaded.
        exclude (Sequence[str]): Folders not taken from (earlier outputs).

    Raises:
        ImageInputError: An argument names nothing or no image, a file is
            not an image, or two images would share an output name.
    """
    if not arguments:
        raise ImageInputError('no image given')
    exclude = [osp.realpath(os.fspath(folder)) for folder in exclude]
    entries, seen = [], set()
    for argument in arguments:
        root, paths = _expand(os.fspath(argument), exclude)
        for path in paths:
            full = osp.abspath(path)
            if full not in seen:
                seen.add(full)
                entries.append((path, full, osp.abspath(root)))
    base = osp.commonpath([root for _, _, root in entries])
    images, names = [], {}
    for path, full, _ in entries:
        name = osp.splitext(osp.relpath(full, base))[0]
        if name in names:
            raise ImageInputError(
                f'{names[name]} and {path} would both be written as '
                f'{name}.png: rename one, or segment them in two runs')
        names[name] = path
        images.append(InputImage(path=path, name=name))
    if check_headers:
        for image in images:
            _check_header(image.path)
    return images


def output_paths(image: InputImage, out_dir: str) -> Tuple[str, str]:
    """``(<out_dir>/pred/<name>.png, <out_dir>/vis/<name>.png)``."""
    return (osp.join(out_dir, PRED_DIR, image.name + '.png'),
            osp.join(out_dir, VIS_DIR, image.name + '.png'))


def check_output_paths(images: Sequence[InputImage], out_dir: str,
                       option: str = 'out_dir') -> None:
    """Raise ``OutputPathError`` (naming the image, its output and
    ``option``) unless every output stays inside ``out_dir`` and none is
    another's (``..`` after a wildcard climbs out)."""
    check_output_names(
        ((image.path, path) for image in images
         for path in output_paths(image, out_dir)), out_dir, option)


def _check_header(path: str) -> None:
    try:
        with Image.open(path) as image:
            image.size
    except Exception as error:  # PIL raises several types for bad files
        raise ImageInputError(
            f'{path}: not a readable image ({error})') from None


def _dataset_cfg(cfg: Config) -> dict:
    """The test (else val, else train) dataset, unwrapped."""
    for key in ('test_dataloader', 'val_dataloader', 'train_dataloader'):
        dataset = (cfg.get(key) or {}).get('dataset')
        if dataset:
            break
    else:
        raise ValueError(
            f'config {cfg.filename}: no test_dataloader.dataset (nor a val '
            'or train one) to read the classes and palette from')
    while True:
        if dataset.get('datasets'):  # ConcatDataset
            dataset = dataset['datasets'][0]
        elif dataset.get('dataset'):  # RepeatDataset and other wrappers
            dataset = dataset['dataset']
        else:
            return dataset


def inference_dataset_meta(cfg: Config) -> dict:
    """``dict(classes, palette)`` of ``cfg``'s dataset class and
    ``metainfo`` (no data needed).

    Raises:
        ValueError: No top-level ``test_pipeline`` with ``LoadImageFromFile``
            (what ``inference_model`` reads), or classes that do not match
            ``decode_head.num_classes``; naming the config.
    """
    pipeline = cfg.get('test_pipeline')
    if not pipeline:
        raise ValueError(
            f'config {cfg.filename}: no test_pipeline. mmseg\'s '
            'inference_model reads a top-level test_pipeline, e.g. '
            "test_pipeline = [dict(type='LoadImageFromFile'), "
            "dict(type='Resize', scale=(2048, 1024), keep_ratio=True), "
            "dict(type='PackSegInputs')]")
    if 'LoadImageFromFile' not in [t.get('type') for t in pipeline]:
        raise ValueError(
            f'config {cfg.filename}: test_pipeline has no LoadImageFromFile '
            f'(its transforms: {[t.get("type") for t in pipeline]})')
    dataset = _dataset_cfg(cfg)
    dataset_type = dataset.get('type')
    dataset_class = dataset_type if isinstance(dataset_type, type) else \
        DATASETS.get(dataset_type)
    if dataset_class is None:
        raise ValueError(f'config {cfg.filename}: unknown dataset type '
                         f'{dataset_type!r}')
    meta = dataset_class._load_metainfo(dataset.get('metainfo'))
    classes = tuple(meta.get('classes') or ())
    palette = [list(c) for c in meta.get('palette') or ()]
    if len(palette) != len(classes):
        # a class subset keeps its classes' colours, as mmseg's datasets do
        full = dict(zip(dataset_class.METAINFO.get('classes', ()),
                        dataset_class.METAINFO.get('palette', ())))
        if not all(name in full for name in classes):
            raise ValueError(
                f'config {cfg.filename}: the dataset has {len(classes)} '
                f'classes but {len(palette)} palette colours')
        palette = [list(full[name]) for name in classes]
    heads = cfg.model.get('decode_head')
    head = heads[-1] if isinstance(heads, (list, tuple)) else heads
    num_classes = (head or {}).get('num_classes')
    if num_classes is not None and num_classes != len(classes):
        raise ValueError(
            f'config {cfg.filename}: the model predicts {num_classes} '
            f'classes (decode_head.num_classes) but its dataset '
            f'{dataset_class.__name__} has {len(classes)}')
    return dict(classes=classes, palette=palette)


def check_label_format(label_format: str, classes: Sequence[str]) -> None:
    """Raise ValueError unless ``label_format`` can encode ``classes``:
    ``'labelid'`` needs the 19 Cityscapes classes in trainId order."""
    if label_format not in LABEL_FORMATS:
        raise ValueError(f'label format {label_format!r}: expected one of '
                         f'{LABEL_FORMATS}')
    if label_format == 'labelid' and tuple(classes) != CLASSES:
        raise ValueError(
            'label format labelid writes Cityscapes label ids, which needs '
            f'a model of the 19 Cityscapes classes {CLASSES}; this one '
            f'predicts {tuple(classes)}')


def to_label_format(pred: np.ndarray, label_format: str) -> np.ndarray:
    """A prediction (HxW class indices) as a label PNG's uint8 values;
    ``'labelid'`` maps anything but a trainId (the ignore index) to 0,
    'unlabeled', which the benchmark does not score."""
    check_label_format(label_format, CLASSES)
    pred = np.asarray(pred)
    if pred.size and (pred.min() < 0 or pred.max() > 255):
        raise ValueError('a label PNG holds 0..255; the prediction has '
                         f'values {pred.min()}..{pred.max()}')
    if label_format == 'trainid':
        return pred.astype(np.uint8)
    lut = np.zeros(256, dtype=np.uint8)
    lut[:len(TRAIN_ID_LABEL_IDS)] = TRAIN_ID_LABEL_IDS
    return lut[pred.astype(np.int64)]


def load_segmentor(cfg: Config, checkpoint: str, device: str = 'cpu'):
    """``cfg.model`` with ``checkpoint`` loaded strictly, in eval mode."""
    model = init_model(copy.deepcopy(cfg), checkpoint=None, device='cpu')
    load_strictly(model, checkpoint, cfg.filename)
    if not is_distributed():
        # The Runner does this too: SyncBN needs a process group.
        model = revert_sync_batchnorm(model)
    return model.to(device).eval()


def init_segmentor(config, checkpoint: str, device: str = 'cpu',
                   cfg_options: Optional[dict] = None):
    """mmseg's ``init_model`` (``config`` a file or a Config), but loaded
    by :func:`load_segmentor` with ``dataset_meta`` from the config
    (:func:`inference_dataset_meta`), not a guess by class count.

    Raises:
        FileNotFoundError: The config or a local checkpoint is missing.
        ValueError: The config cannot serve inference.
        CheckpointError: The checkpoint is unusable or for another model.
    """
    if isinstance(config, Config):
        cfg = Config(config.to_dict(), filename=config.filename)
        if cfg_options:
            cfg.merge_from_dict(cfg_options)
    else:
        cfg = load_config(os.fspath(config), cfg_options)
    meta = inference_dataset_meta(cfg)
    check_checkpoint(checkpoint)
    model = load_segmentor(cfg, checkpoint, device=device)
    model.dataset_meta = meta
    return model


def _read_rgb(path: str) -> np.ndarray:
    image = mmcv.imread(path)  # BGR, as the pipeline's LoadImageFromFile
    if image is None:
        raise ImageReadError(f'{path}: the image cannot be decoded')
    return mmcv.bgr2rgb(image)


def _batches(images: Sequence[InputImage], batch_size: int
             ) -> Iterator[List[Tuple[InputImage, np.ndarray]]]:
    """Consecutive images of one size (mmseg stacks without padding)."""
    batch = []
    for image in images:
        rgb = _read_rgb(image.path)
        if batch and (len(batch) == batch_size
                      or batch[0][1].shape != rgb.shape):
            yield batch
            batch = []
        batch.append((image, rgb))
    if batch:
        yield batch


def segment_images(model,
                   images: Sequence[InputImage],
                   out_dir: str,
                   label_format: str = 'trainid',
                   opacity: float = 0.5,
                   batch_size: int = 1,
                   with_labels: bool = False,
                   progress: bool = True) -> List[SegmentedImage]:
    """Segment ``images`` with ``inference_model`` and write, atomically and
    at each image's size, its label PNG (:func:`to_label_format`) and its
    overlay (mmseg's ``SegLocalVisualizer``) at :func:`output_paths`;
    return a :class:`SegmentedImage` per image, in input order.

    Args:
        model: A segmentor with ``cfg`` and ``dataset_meta``.
        images (Sequence[InputImage]): From :func:`find_images`.
        out_dir (str): Output folder.
        label_format (str): One of :data:`LABEL_FORMATS`.
        opacity (float): Weight of the class colours, in (0, 1].
        batch_size (int): Images per forward pass (of one size).
        with_labels (bool): Write class names onto the overlay.
        progress (bool): Show mmengine's progress bar.

    Raises:
        OutputPathError: Before any image is read (:func:`check_output_paths`).
        ImageReadError: An image cannot be decoded or the pipeline fails on
            it; the message names the files.
    """
    meta = getattr(model, 'dataset_meta', None)
    if not meta or not meta.get('classes') or not meta.get('palette'):
        raise ValueError('the model has no dataset_meta with classes and '
                         'palette; load it with init_segmentor')
    check_label_format(label_format, meta['classes'])
    if not 0 < opacity <= 1:
        raise ValueError(f'opacity must be in (0, 1], got {opacity}')
    if batch_size < 1:
        raise ValueError(f'batch_size must be >= 1, got {batch_size}')
    check_output_paths(images, out_dir)
    visualizer = SegLocalVisualizer(
        name=f'ibnseg_segment_images_{id(model)}', alpha=opacity)
    visualizer.set_dataset_meta(
        classes=list(meta['classes']), palette=list(meta['palette']))
    bar = ProgressBar(len(images)) if progress else None
    written = []
    for batch in _batches(images, batch_size):
        paths = [image.path for image, _ in batch]
        try:
            results = inference_model(model, paths)
        except Exception as error:
            # the pipeline and the model say what failed, not on which file
            raise ImageReadError(
                f'inference failed on {", ".join(paths)}: '
                f'{type(error).__name__}: {error}') from error
        for (image, rgb), result in zip(batch, results):
            pred = result.pred_sem_seg.data[0].cpu().numpy()
            if pred.shape != rgb.shape[:2]:
                raise ImageReadError(
                    f'{image.path}: the prediction is {pred.shape} but the '
                    f'image {rgb.shape[:2]} (the config\'s LoadImageFromFile '
                    'decodes it differently from mmcv.imread)')
            label_path, overlay_path = output_paths(image, out_dir)
            save_png_atomic(label_path, to_label_format(pred, label_format))
            visualizer.add_datasample(
                image.name, rgb, result, draw_gt=False,
                with_labels=with_labels)
            save_png_atomic(overlay_path, visualizer.get_image())
            written.append(SegmentedImage(image, label_path, overlay_path))
            if bar is not None:
                bar.update()
    if bar is not None:
        print()
    return written
