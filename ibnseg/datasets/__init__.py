from . import transforms  # noqa: F401
from .cityscapes import CityscapesLabelIdsDataset
from .gta5 import GTA5Dataset
from .labels import CLASSES, LABEL_ID_TO_TRAIN_ID, PALETTE
from .skip_report import SKIP_REPORT_NAME, read_skip_report
from .subsets import read_id_list, select_subset, write_id_list

__all__ = [
    'GTA5Dataset', 'CityscapesLabelIdsDataset', 'CLASSES', 'PALETTE',
    'LABEL_ID_TO_TRAIN_ID', 'SKIP_REPORT_NAME', 'read_skip_report',
    'select_subset', 'read_id_list', 'write_id_list'
]
