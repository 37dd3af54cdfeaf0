"""The Cityscapes label table (GTA5 and Cityscapes store its ids 0..33,
models train on its 19 trainIds) and the other domains' tables to them."""
from typing import Dict, NamedTuple, Optional, Sequence, Tuple

import numpy as np
from mmseg.datasets import CityscapesDataset

IGNORE_INDEX = 255

CLASSES = tuple(CityscapesDataset.METAINFO['classes'])
PALETTE = [list(c) for c in CityscapesDataset.METAINFO['palette']]

MAX_LABEL_ID = 33

#: Label id of each trainId: ``TRAIN_ID_LABEL_IDS[train_id] == label_id``.
TRAIN_ID_LABEL_IDS = (7, 8, 11, 12, 13, 17, 19, 20, 21, 22, 23, 24, 25, 26, 27,
                      28, 31, 32, 33)

# the official colours of the ids without a trainId; other ids are black
_VOID_LABEL_COLORS = {
    5: (111, 74, 0), 6: (81, 0, 81), 9: (250, 170, 160), 10: (230, 150, 140),
    14: (180, 165, 180), 15: (150, 100, 100), 16: (150, 120, 90),
    18: (153, 153, 153), 29: (0, 0, 90), 30: (0, 0, 110)
}


def build_lut(id_to_train_id: Dict[int, int]) -> np.ndarray:
    """Read-only 256-entry uint8 lookup of {label id: trainId}, else 255."""
    lut = np.full(256, IGNORE_INDEX, dtype=np.uint8)
    for label_id, train_id in id_to_train_id.items():
        if not (0 <= label_id < 256 and
                (0 <= train_id < len(CLASSES) or train_id == IGNORE_INDEX)):
            raise ValueError(f'bad table entry {label_id} -> {train_id}')
        lut[label_id] = train_id
    lut.flags.writeable = False  # shared by every importer: keep it constant
    return lut


LABEL_ID_TO_TRAIN_ID = build_lut(
    {label_id: t for t, label_id in enumerate(TRAIN_ID_LABEL_IDS)})
#: (256, 3) uint8 RGB colour of each label id: the palette of GTA5 label PNGs.
LABEL_ID_COLORS = np.zeros((256, 3), dtype=np.uint8)
LABEL_ID_COLORS[list(_VOID_LABEL_COLORS)] = list(_VOID_LABEL_COLORS.values())
LABEL_ID_COLORS[list(TRAIN_ID_LABEL_IDS)] = PALETTE
LABEL_ID_COLORS.flags.writeable = False


def label_ids_to_train_ids(label_ids: np.ndarray) -> np.ndarray:
    """The uint8 trainIds of integer label ids; values outside 0..255 raise
    rather than wrap around."""
    label_ids = np.asarray(label_ids)
    if not np.issubdtype(label_ids.dtype, np.integer):
        raise TypeError(
            f'label ids must be an integer array, got dtype {label_ids.dtype}')
    if label_ids.size and (label_ids.min() < 0 or label_ids.max() > 255):
        raise ValueError(
            'label ids must lie in 0..255 (8-bit label files), got range '
            f'{label_ids.min()}..{label_ids.max()}')
    return LABEL_ID_TO_TRAIN_ID[label_ids]


class LabelIdTable(NamedTuple):
    """How a dataset's label-id files become trainIds.

    Attributes:
        name (str): The table's name, for messages.
        lut (np.ndarray): 256-entry uint8 lookup, label id -> trainId (255
            for ids without one).
        max_label_id (int): The largest id defined; larger ones are unknown
            (mapped to 255 and counted).
        channel (int, optional): The channel (RGB order) of multi-channel
            label files holding the id, decoded keeping 16 bits.
        rejected_hint (str): Said after a file holding a rejected value.
        reject (tuple[int]): Values refused in a label-id file.
    """
    name: str
    lut: np.ndarray
    max_label_id: int
    channel: Optional[int] = None
    rejected_hint: str = ''
    reject: Tuple[int, ...] = ()


#: Cityscapes and ACDC: a label-id file holding 255 (no label id) is a
#: trainId map under the wrong name.
CITYSCAPES_LABEL_ID_TABLE = LabelIdTable(
    'Cityscapes', LABEL_ID_TO_TRAIN_ID, MAX_LABEL_ID,
    rejected_hint=(
        'it looks like a trainId map saved under the label-id name, and '
        'mapping it again would score silently wrong. Use the official '
        'label-id files, or name trainId files "*_labelTrainIds.png".'),
    reject=(IGNORE_INDEX, ))
#: GTA5's labels use the Cityscapes ids; 255 there is only unknown.
GTA5_LABEL_ID_TABLE = CITYSCAPES_LABEL_ID_TABLE._replace(reject=())

#: SYNTHIA class id (its README: 1 sky, ..., 22 lanemarking) -> trainId, as
#: DAFormer's and RobustNet's converters map them.
SYNTHIA_ID_TO_TRAIN_ID = {
    3: 0, 4: 1, 2: 2, 21: 3, 5: 4, 7: 5, 15: 6, 9: 7, 6: 8, 16: 9, 1: 10,
    10: 11, 17: 12, 8: 13, 18: 14, 19: 15, 20: 16, 12: 17, 11: 18
}
#: 16-bit multi-channel PNGs, the class id (up to 22) in the R channel.
SYNTHIA_LABEL_ID_TABLE = LabelIdTable(
    'SYNTHIA', build_lut(SYNTHIA_ID_TO_TRAIN_ID), 22, channel=0)
#: The 16 Cityscapes classes SYNTHIA has (all but terrain, truck, train):
#: the classes of "mIoU16" in the DG/UDA literature.
SYNTHIA_16_CLASSES = tuple(
    c for c in CLASSES if c not in ('terrain', 'truck', 'train'))
#: "mIoU13": the 16 without wall, fence and pole.
SYNTHIA_13_CLASSES = tuple(
    c for c in SYNTHIA_16_CLASSES if c not in ('wall', 'fence', 'pole'))

#: Mapillary Vistas v1.2 classes with a Cityscapes class, by config.json's
#: ``name`` and ``readable`` fields, as RobustNet maps them; others -> 255.
MAPILLARY_TO_CITYSCAPES = (
    ('construction--flat--road', 'Road', 'road'),
    ('marking--general', 'Lane Marking - General', 'road'),
    ('object--manhole', 'Manhole', 'road'),
    ('construction--barrier--curb', 'Curb', 'sidewalk'),
    ('construction--flat--sidewalk', 'Sidewalk', 'sidewalk'),
    ('construction--structure--building', 'Building', 'building'),
    ('construction--barrier--wall', 'Wall', 'wall'),
    ('construction--barrier--fence', 'Fence', 'fence'),
    ('object--support--pole', 'Pole', 'pole'),
    ('object--support--utility-pole', 'Utility Pole', 'pole'),
    ('object--traffic-light', 'Traffic Light', 'traffic light'),
    ('object--traffic-sign--front', 'Traffic Sign (Front)', 'traffic sign'),
    ('nature--vegetation', 'Vegetation', 'vegetation'),
    ('nature--terrain', 'Terrain', 'terrain'),
    ('nature--sky', 'Sky', 'sky'),
    ('human--person', 'Person', 'person'),
    ('human--rider--bicyclist', 'Bicyclist', 'rider'),
    ('human--rider--motorcyclist', 'Motorcyclist', 'rider'),
    ('human--rider--other-rider', 'Other Rider', 'rider'),
    ('object--vehicle--car', 'Car', 'car'),
    ('object--vehicle--truck', 'Truck', 'truck'),
    ('object--vehicle--bus', 'Bus', 'bus'),
    ('object--vehicle--on-rails', 'On Rails', 'train'),
    ('object--vehicle--motorcycle', 'Motorcycle', 'motorcycle'),
    ('object--vehicle--bicycle', 'Bicycle', 'bicycle'),
)
MAPILLARY_V12_NUM_LABELS = 66


def mapillary_label_id_table(labels: Sequence[dict],
                             source: str = 'config.json') -> LabelIdTable:
    """The id -> trainId table of a Mapillary Vistas config.json's
    ``labels`` (in id order), by class name; a list other than v1.2's 66
    labels, or a mapped class missing, raises naming ``source``."""
    if not isinstance(labels, (list, tuple)) or \
            len(labels) != MAPILLARY_V12_NUM_LABELS:
        count = len(labels) if isinstance(labels, (list, tuple)) else 'no'
        raise ValueError(
            f'{source}: "labels" holds {count} entries; expected the '
            f'{MAPILLARY_V12_NUM_LABELS} classes of Mapillary Vistas v1.2 '
            '(v2.0 has 124: use its v1.2 config, config_v1.2.json)')
    by_field = [{entry[field]: (entry[0], CLASSES.index(entry[2]))
                 for entry in MAPILLARY_TO_CITYSCAPES} for field in (0, 1)]
    id_to_train_id, found = {}, set()
    for label_id, label in enumerate(labels):
        if not isinstance(label, dict) or not (label.get('name')
                                               or label.get('readable')):
            raise ValueError(
                f'{source}: label {label_id} ({label!r}) has no "name" or '
                '"readable" field; expected objects like {"name": '
                '"construction--flat--road", "readable": "Road", ...}')
        # by ``readable`` only for config files without ``name``
        name = label.get('name')
        match = by_field[0].get(name) if name else by_field[1].get(
            label.get('readable'))
        if match:
            found.add(match[0])
            id_to_train_id[label_id] = match[1]
    missing = [n for n, _, _ in MAPILLARY_TO_CITYSCAPES if n not in found]
    if missing:
        raise ValueError(
            f'{source}: no label named {", ".join(missing)}; expected the '
            'class names of Mapillary Vistas v1.2 (see '
            'ibnseg.datasets.labels.MAPILLARY_TO_CITYSCAPES)')
    return LabelIdTable('Mapillary Vistas v1.2', build_lut(id_to_train_id),
                        MAPILLARY_V12_NUM_LABELS - 1)
