"""Every config in configs/ loads, names known weights, and builds its
model and datasets (on generated data at the configs' default paths)."""
import functools
import glob
import os.path as osp
import re

import pytest
from mmengine.config import Config
from mmengine.config import utils as config_utils
from mmengine.registry import init_default_scope
from mmseg.registry import DATASETS, MODELS

import ibnseg  # noqa: F401
from ibnseg.models.backbones.ibn_weights import WEIGHT_URLS
from ibnseg.synthetic import generate_domain_dataset
from tests.data_factory import make_cityscapes, make_gta5, write_split_file

REPO_ROOT = osp.dirname(osp.dirname(osp.dirname(osp.abspath(__file__))))
CONFIGS = sorted(
    osp.relpath(p, REPO_ROOT)
    for p in glob.glob(osp.join(REPO_ROOT, 'configs', '**', '*.py'),
                       recursive=True) if '_base_' not in p)
LOADERS = ('train_dataloader', 'val_dataloader', 'test_dataloader')
# Configs of two training directions share their model: build each once.
_BUILT_MODELS = set()


@pytest.fixture(scope='module', autouse=True)
def fast_mmseg_bases():
    """mmengine re-reads mmseg's 160 model-index YAML files for every
    ``mmseg::`` base; the answer never changes within a run."""
    original = config_utils._get_cfg_metainfo
    config_utils._get_cfg_metainfo = functools.lru_cache(None)(original)
    yield
    config_utils._get_cfg_metainfo = original


@pytest.fixture(scope='module')
def data_dir(tmp_path_factory):
    root = tmp_path_factory.mktemp('configs')
    make_cityscapes(root / 'data' / 'cityscapes', {'train': 2, 'val': 2})
    gta = make_gta5(root / 'data' / 'gta5', num_images=6)
    for split, ids in (('train', gta.ids[:2]), ('val', gta.ids[2:4]),
                       ('test', gta.ids[4:])):
        write_split_file(root / 'data' / 'gta5' / 'splits' / f'{split}.txt',
                         ids)
    synthetic = root / 'data' / 'synthetic'
    generate_domain_dataset(str(synthetic / 'source'), 'source', 2, 2,
                            size=(32, 64), layout='gta5', progress=False)
    for domain in ('real', 'dusk', 'fog'):
        generate_domain_dataset(str(synthetic / domain), domain, 0, 2,
                                size=(32, 64), layout='cityscapes',
                                progress=False)
    return root


def test_configs_found():
    assert 'configs/ibn_b_cityscapes.py' in CONFIGS
    assert len(CONFIGS) > 50


def _expected_backbone(name):
    """(depth, ibn) that a config's file name promises."""
    depth = re.search(r'r(\d+)', name)
    ibn = re.search(r'ibn[-_]([ab])', name)
    return (int(depth.group(1)) if depth else None,
            ibn.group(1) if ibn else None)


@pytest.mark.slow
@pytest.mark.parametrize('config', CONFIGS)
def test_config_builds(config, data_dir, monkeypatch):
    cfg = Config.fromfile(osp.join(REPO_ROOT, config))
    backbone = cfg.model.backbone
    depth, ibn = _expected_backbone(osp.basename(config))
    assert backbone.type == 'IBNResNet'
    assert backbone.get('ibn') == ibn, 'file name and ibn variant disagree'
    if depth is not None:
        assert backbone.depth == depth
    init = backbone.get('init_cfg')
    if init:  # a published file the missing-file message can point to
        assert osp.basename(init.checkpoint) in WEIGHT_URLS

    init_default_scope(cfg.get('default_scope', 'mmseg'))
    model_cfg = repr(cfg.model.to_dict())
    if model_cfg not in _BUILT_MODELS:
        model = MODELS.build(cfg.model)
        assert type(model.backbone).__name__ == 'IBNResNet'
        _BUILT_MODELS.add(model_cfg)

    monkeypatch.chdir(data_dir)  # the configs' data roots are relative
    for loader in LOADERS:
        dataset = DATASETS.build(cfg[loader].dataset)
        assert len(dataset) > 0, f'{loader} of {config} is empty'
    for name, domain in cfg.get('cross_domain', {}).get('domains',
                                                        {}).items():
        assert len(DATASETS.build(domain.dataloader.dataset)) > 0, name
