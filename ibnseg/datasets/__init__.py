from . import transforms  # noqa: F401
from .acdc import ACDCDataset
from .bdd100k import BDD100KSegDataset
from .bdd100k_drivable import BDD100KDrivableDataset
from .cityscapes import CityscapesLabelIdsDataset
from .gta5 import GTA5Dataset
from .labels import (CLASSES, LABEL_ID_TO_TRAIN_ID, PALETTE,
                     SYNTHIA_13_CLASSES, SYNTHIA_16_CLASSES)
from .layouts import DatasetError
from .mapillary import MapillaryToCityscapesDataset
from .skip_report import SKIP_REPORT_NAME, read_skip_report
from .subsets import (read_id_list, seeded_subset, select_subset,
                      write_id_list)
from .synthia import SynthiaDataset

__all__ = [
    'GTA5Dataset', 'CityscapesLabelIdsDataset', 'BDD100KSegDataset',
    'BDD100KDrivableDataset',
    'MapillaryToCityscapesDataset', 'SynthiaDataset', 'ACDCDataset',
    'CLASSES', 'PALETTE', 'LABEL_ID_TO_TRAIN_ID', 'SYNTHIA_16_CLASSES',
    'SYNTHIA_13_CLASSES', 'SKIP_REPORT_NAME', 'read_skip_report',
    'select_subset', 'seeded_subset', 'read_id_list', 'write_id_list',
    'DatasetError'
]
