"""Helpers of the dataset tests: the official Cityscapes label table, the
packed ground truth of a sample, a dataset built on generated data with the
test pipeline, its sample names, and a domain config part's datasets."""
import copy
import os.path as osp

import numpy as np
from cityscapesscripts.helpers.labels import labels as official_labels
from mmengine.config import Config
from mmengine.registry import init_default_scope
from mmseg.registry import DATASETS

import ibnseg  # noqa: F401

from tests.helpers.tools import REPO_ROOT

# the dataset configs and pipelines name mmseg's types without a scope
init_default_scope('mmseg')

DOMAINS_DIR = osp.join(REPO_ROOT, 'configs', '_base_', 'datasets', 'domains')
TEST_PIPELINE = [
    dict(type='LoadImageFromFile'),
    dict(type='LoadLabelIdAnnotations'),
    dict(type='PackDomainSegInputs', domain='test')
]


def build(type, root, **kwargs):
    """A dataset of ``type`` on ``root`` with the test pipeline."""
    # mmengine's serialization runs a full gc.collect per dataset
    kwargs.setdefault('serialize_data', False)
    kwargs.setdefault('pipeline', TEST_PIPELINE)
    return DATASETS.build(dict(type=type, data_root=str(root), **kwargs))


def names(dataset):
    return [
        dataset.get_data_info(i)['sample_name'] for i in range(len(dataset))
    ]


#: the Cityscapes label id of each trainId 0..18, from cityscapesscripts'
#: table, not from ibnseg's
OFFICIAL_LABEL_IDS = np.array([
    next(label.id for label in official_labels if label.trainId == train_id)
    for train_id in range(19)
], np.uint8)


def official_lut() -> np.ndarray:
    """256-entry label id -> trainId table built from cityscapesscripts
    (255 for ids without a trainId)."""
    lut = np.full(256, 255, np.uint8)
    for label in official_labels:
        if 0 <= label.id < 256 and 0 <= label.trainId < 255:
            lut[label.id] = label.trainId
    return lut


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
