"""Helpers shared by the dataset tests."""
import importlib.util
import os.path as osp

import numpy as np
from cityscapesscripts.helpers.labels import labels as official_labels

REPO_ROOT = osp.dirname(osp.dirname(osp.dirname(osp.abspath(__file__))))
TEST_PIPELINE = [
    dict(type='LoadImageFromFile'),
    dict(type='LoadLabelIdAnnotations'),
    dict(type='PackDomainSegInputs', domain='test')
]


def official_train_id(label_id: int) -> int:
    """trainId of ``label_id`` per cityscapesscripts; 255 when it has none."""
    for label in official_labels:
        if label.id == label_id:
            return label.trainId if 0 <= label.trainId < 255 else 255
    return 255


def official_lut() -> np.ndarray:
    """256-entry label id -> trainId table built from cityscapesscripts."""
    return np.array([official_train_id(i) for i in range(256)], np.uint8)


def load_tool(name: str):
    """Import ``tools/<name>.py`` as a module (tools/ is not a package)."""
    path = osp.join(REPO_ROOT, 'tools', f'{name}.py')
    spec = importlib.util.spec_from_file_location(f'tool_{name}', path)
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


def gt_of(sample) -> np.ndarray:
    """The packed ground truth of a dataset item as an HxW array."""
    return sample['data_samples'].gt_sem_seg.data[0].numpy()
