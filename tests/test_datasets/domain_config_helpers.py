"""Building a domain config part's datasets on generated data."""
import copy
import os.path as osp

from mmengine.config import Config
from mmseg.registry import DATASETS

from tests.test_datasets.helpers import REPO_ROOT

DOMAINS_DIR = osp.join(REPO_ROOT, 'configs', '_base_', 'datasets', 'domains')


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
