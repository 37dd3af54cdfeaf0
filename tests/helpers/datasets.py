"""Helpers of the dataset tests: the official Cityscapes label table, the
packed ground truth of a sample, and a domain config part's datasets built
on generated data."""
import copy
import os.path as osp

import numpy as np
from cityscapesscripts.helpers.labels import labels as official_labels
from mmengine.config import Config
from mmseg.registry import DATASETS

from tests.helpers.tools import REPO_ROOT

DOMAINS_DIR = osp.join(REPO_ROOT, 'configs', '_base_', 'datasets', 'domains')
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


def gt_of(sample) -> np.ndarray:
    """The packed ground truth of a dataset item as an HxW array."""
    return sample['data_samples'].gt_sem_seg.data[0].numpy()


def build_domain_datasets(name, variable, root, monkeypatch):
    """{dataloader name: built dataset} of configs/_base_/datasets/domains/
    ``name`` loaded with ``$variable`` set to ``root`` (the config's own
    ``{{$VAR:default}}`` is what points it at the data)."""
    monkeypatch.setenv(variable, str(root))
    cfg = Config.fromfile(osp.join(DOMAINS_DIR, name))
    built = {}
    for key in cfg:
        if key.endswith('_dataloader'):
            dataset = copy.deepcopy(cfg[key]['dataset'])
            assert dataset['data_root'] == str(root)
            built[key] = DATASETS.build(dataset)
    return built, cfg
