"""The Cityscapes label table shared by GTA5 and Cityscapes.

Both datasets store *label ids* (0..33, the Cityscapes annotation ids); models
train on the 19 *trainIds*. Class names and the 19 colours come from mmseg's
``CityscapesDataset.METAINFO`` so the two can never disagree.
"""
import numpy as np
from mmseg.datasets import CityscapesDataset

IGNORE_INDEX = 255

#: The 19 evaluated classes, in trainId order.
CLASSES = tuple(CityscapesDataset.METAINFO['classes'])
#: RGB colour of each trainId (list of [r, g, b]), as mmseg draws them.
PALETTE = [list(c) for c in CityscapesDataset.METAINFO['palette']]

#: The largest label id of the official table. Its ids are -1..33, and -1
#: ('license plate') is never stored in a label file, so a stored label id
#: is 0..33; anything larger is unknown (and 255, the trainId ignore value,
#: is the sign of a trainId map).
MAX_LABEL_ID = 33

#: Label id of each trainId: ``TRAIN_ID_LABEL_IDS[train_id] == label_id``.
TRAIN_ID_LABEL_IDS = (7, 8, 11, 12, 13, 17, 19, 20, 21, 22, 23, 24, 25, 26, 27,
                      28, 31, 32, 33)

# Colours of the label ids that have no trainId (void and rare classes), as in
# the official table; ids without an entry here or in TRAIN_ID_LABEL_IDS are
# black, like 'unlabeled'.
_VOID_LABEL_COLORS = {
    5: (111, 74, 0), 6: (81, 0, 81), 9: (250, 170, 160), 10: (230, 150, 140),
    14: (180, 165, 180), 15: (150, 100, 100), 16: (150, 120, 90),
    18: (153, 153, 153), 29: (0, 0, 90), 30: (0, 0, 110)
}


def _build_label_id_to_train_id() -> np.ndarray:
    lut = np.full(256, IGNORE_INDEX, dtype=np.uint8)
    for train_id, label_id in enumerate(TRAIN_ID_LABEL_IDS):
        lut[label_id] = train_id
    lut.flags.writeable = False  # shared by every importer: keep it constant
    return lut


def _build_label_id_colors() -> np.ndarray:
    colors = np.zeros((256, 3), dtype=np.uint8)
    for label_id, color in _VOID_LABEL_COLORS.items():
        colors[label_id] = color
    for train_id, label_id in enumerate(TRAIN_ID_LABEL_IDS):
        colors[label_id] = PALETTE[train_id]
    colors.flags.writeable = False
    return colors


#: 256-entry uint8 lookup: ``LABEL_ID_TO_TRAIN_ID[label_ids]`` gives trainIds;
#: every id outside the table (void classes, unused or corrupt values) -> 255.
LABEL_ID_TO_TRAIN_ID = _build_label_id_to_train_id()
#: (256, 3) uint8 RGB colour of each label id: the palette of GTA5 label PNGs.
LABEL_ID_COLORS = _build_label_id_colors()


def label_ids_to_train_ids(label_ids: np.ndarray) -> np.ndarray:
    """Map an integer array of label ids to a uint8 array of trainIds.

    Values outside 0..255 cannot come from an 8-bit label file; they raise
    rather than wrap around silently.
    """
    label_ids = np.asarray(label_ids)
    if not np.issubdtype(label_ids.dtype, np.integer):
        raise TypeError(
            f'label ids must be an integer array, got dtype {label_ids.dtype}')
    if label_ids.size and (label_ids.min() < 0 or label_ids.max() > 255):
        raise ValueError(
            'label ids must lie in 0..255 (8-bit label files), got range '
            f'{label_ids.min()}..{label_ids.max()}')
    return LABEL_ID_TO_TRAIN_ID[label_ids]
