"""A contact sheet of synthetic samples: one row per layout, one column per
domain, for documentation and for checking the generator by eye."""
from typing import Sequence, Tuple

import cv2
import numpy as np

from ibnseg.datasets.labels import LABEL_ID_COLORS
from ibnseg.datasets.layouts import save_png_atomic
from .generate import generate_sample

_HEADER_HEIGHT = 18
_GAP = 2


def make_contact_sheet(domains: Sequence[str],
                       num_samples: int = 4,
                       size: Tuple[int, int] = (128, 256),
                       seed: int = 0,
                       split: str = 'val') -> np.ndarray:
    """An RGB uint8 sheet: a row per sample (0..num_samples-1 of
    ``split``), a column of label colours and one per domain, under a header
    naming them; ``size``, ``seed``, ``split`` as in :func:`generate_sample`.
    """
    height, width = size
    titles = ['labels'] + list(domains)
    sheet_width = len(titles) * (width + _GAP) - _GAP
    sheet = np.full(
        (_HEADER_HEIGHT + num_samples * (height + _GAP), sheet_width, 3), 255,
        np.uint8)
    for column, title in enumerate(titles):
        cv2.putText(sheet, title, (column * (width + _GAP) + 4, 13),
                    cv2.FONT_HERSHEY_SIMPLEX, 0.45, (0, 0, 0), 1, cv2.LINE_AA)
    for row in range(num_samples):
        top = _HEADER_HEIGHT + row * (height + _GAP)
        for column, domain in enumerate(domains, start=1):
            image, label_ids = generate_sample(row, domain, size, seed, split)
            left = column * (width + _GAP)
            sheet[top:top + height, left:left + width] = image
        sheet[top:top + height, :width] = LABEL_ID_COLORS[label_ids]
    return sheet


def save_contact_sheet(path: str, domains: Sequence[str], **kwargs) -> str:
    """Write :func:`make_contact_sheet` to ``path`` as a PNG (atomically)."""
    return save_png_atomic(path, make_contact_sheet(domains, **kwargs))
