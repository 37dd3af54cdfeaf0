"""Pictures of a cross-domain evaluation, written atomically as PNG: per-class
IoU bars (matplotlib's object API, no global backend) and sample strips."""
import io
from dataclasses import dataclass
from typing import Optional, Sequence

import cv2
import numpy as np
from matplotlib.backends.backend_agg import FigureCanvasAgg
from matplotlib.figure import Figure
from mmseg.utils import get_palette

from ibnseg.engine.fileio import atomic_write

STRIP_COLUMNS = ('image', 'ground truth', 'prediction')


@dataclass
class DomainSample:
    """One sample to show: RGB image, ground truth and prediction (HxW)."""
    image: np.ndarray
    gt: np.ndarray
    pred: np.ndarray


def plot_per_class_iou(path: str,
                       classes: Sequence[str],
                       series: dict,
                       title: str = '') -> None:
    """Write grouped bars of per-class IoU to ``path``: ``series`` maps a
    legend label to the IoU (%) per class (None/NaN: no bar)."""
    figure = Figure(figsize=(max(8, 0.6 * len(classes)), 4.5), dpi=100)
    FigureCanvasAgg(figure)
    axes = figure.add_subplot()
    positions = np.arange(len(classes))
    width = 0.8 / max(1, len(series))
    for index, (label, values) in enumerate(series.items()):
        heights = np.array(
            [np.nan if v is None else v for v in values], dtype=float)
        axes.bar(positions + (index - (len(series) - 1) / 2) * width,
                 np.nan_to_num(heights, nan=0.0), width, label=label)
    axes.set_xticks(positions)
    axes.set_xticklabels(classes, rotation=60, ha='right')
    axes.set_ylabel('IoU (%)')
    axes.set_ylim(0, 100)
    axes.set_title(title)
    axes.legend()
    axes.grid(axis='y', alpha=0.3)
    figure.tight_layout()
    buffer = io.BytesIO()
    figure.savefig(buffer, format='png')
    atomic_write(path, buffer.getvalue())


def colorize(label: np.ndarray, palette: Sequence[Sequence[int]],
             ignore_color=(0, 0, 0)) -> np.ndarray:
    """An RGB image of a class-index map; indices without a colour get
    ``ignore_color``."""
    lookup = np.zeros((256, 3), dtype=np.uint8)
    lookup[:] = ignore_color
    colors = np.asarray(palette, dtype=np.uint8)[:256]
    lookup[:len(colors)] = colors
    return lookup[label.astype(np.int64).clip(0, 255)]


def _fit_height(image: np.ndarray, height: int, nearest: bool) -> np.ndarray:
    width = max(1, round(image.shape[1] * height / image.shape[0]))
    return cv2.resize(
        image, (width, height),
        interpolation=cv2.INTER_NEAREST if nearest else cv2.INTER_AREA)


def sample_strip(samples: Sequence,
                 palette: Optional[Sequence[Sequence[int]]] = None,
                 height: int = 192,
                 title: str = '') -> np.ndarray:
    """An RGB image of ``samples`` (:class:`DomainSample`), a row each
    (image | ground truth | prediction), in ``palette`` (Cityscapes')."""
    if not samples:
        raise ValueError('sample_strip: no samples to show')
    palette = get_palette('cityscapes') if palette is None else palette
    rows = []
    for sample in samples:
        tiles = [
            _fit_height(sample.image, height, nearest=False),
            _fit_height(colorize(sample.gt, palette), height, nearest=True),
            _fit_height(colorize(sample.pred, palette), height, nearest=True)
        ]
        gap = np.full((height, 4, 3), 255, np.uint8)
        rows.append(np.concatenate(
            [tiles[0], gap, tiles[1], gap, tiles[2]], axis=1))
    width = max(r.shape[1] for r in rows)
    tile_width = (rows[0].shape[1] - 8) // 3
    header = np.full((44 if title else 24, width, 3), 255, np.uint8)
    if title:
        cv2.putText(header, title, (4, 16), cv2.FONT_HERSHEY_SIMPLEX, 0.5,
                    (0, 0, 0), 1, cv2.LINE_AA)
    for index, name in enumerate(STRIP_COLUMNS):
        cv2.putText(header, name, (index * (tile_width + 4) + 4,
                                   header.shape[0] - 6),
                    cv2.FONT_HERSHEY_SIMPLEX, 0.5, (0, 0, 0), 1, cv2.LINE_AA)
    padded = [
        np.pad(r, ((0, 4), (0, width - r.shape[1]), (0, 0)),
               constant_values=255) for r in rows
    ]
    return np.concatenate([header] + padded, axis=0)


def write_sample_strip(path: str, samples: Sequence, palette=None,
                       title: str = '') -> None:
    """Write :func:`sample_strip` as a PNG."""
    strip = sample_strip(samples, palette, title=title)
    atomic_write(path, cv2.imencode('.png', strip[..., ::-1])[1].tobytes())
