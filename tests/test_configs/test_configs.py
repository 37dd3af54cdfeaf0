"""Every config in configs/ loads, names known weights, and builds its
model and datasets (on generated data at the configs' default paths)."""
import copy
import glob
import os.path as osp
import re

import pytest
import torch
from mmengine.config import Config
from mmengine.evaluator import Evaluator
from mmengine.registry import init_default_scope
from mmseg.registry import DATASETS, MODELS

import ibnseg  # noqa: F401
from ibnseg.engine.runner_setup import enable_tta
from ibnseg.evaluation import evaluation_rows
from ibnseg.models.backbones.ibn_weights import WEIGHT_URLS
from ibnseg.synthetic import generate_domain_dataset
from tests.helpers.data_factory import (make_acdc, make_bdd100k,
                                        make_bdd100k_drivable, make_cityscapes,
                                        make_gta5, make_mapillary,
                                        make_synthia, write_split_file)
from tests.helpers.tools import REPO_ROOT

CONFIGS = sorted(
    osp.relpath(p, REPO_ROOT)
    for p in glob.glob(osp.join(REPO_ROOT, 'configs', '**', '*.py'),
                       recursive=True) if '_base_' not in p)
LOADERS = ('train_dataloader', 'val_dataloader', 'test_dataloader')
# Configs of two training directions share their model: build each once.
_BUILT_MODELS = set()
#: dataset config -> (length, metainfo): configs share datasets (a grid's
#: backbones), each is built once
_DATASETS = {}


@pytest.fixture(scope='module')
def data_dir(tmp_path_factory):
    root = tmp_path_factory.mktemp('configs')
    make_cityscapes(root / 'data' / 'cityscapes', {'train': 2, 'val': 2})
    gta = make_gta5(root / 'data' / 'gta5', num_images=6)
    for split, ids in (('train', gta.ids[:2]), ('val', gta.ids[2:4]),
                       ('test', gta.ids[4:])):
        write_split_file(root / 'data' / 'gta5' / 'splits' / f'{split}.txt',
                         ids)
    # the domain-generalisation domains, one frame per split a config
    # reads (the configs only need non-empty datasets)
    make_bdd100k(root / 'data' / 'bdd100k', splits={'train': 1, 'val': 1})
    # every time-of-day / weather row of the drivable configs needs a frame
    make_bdd100k_drivable(root / 'data' / 'bdd100k',
                          splits={'train': 2, 'val': 8})
    make_mapillary(root / 'data' / 'mapillary',
                   splits={'training': 1, 'validation': 1})
    synthia = make_synthia(root / 'data' / 'synthia', num_images=2)
    write_split_file(root / 'data' / 'synthia' / 'splits' / 'val.txt',
                     synthia.ids[1:])
    make_acdc(root / 'data' / 'acdc', splits={'val': 1},
              with_label_ids=False)
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
    # the domain-generalisation protocol: 3 backbones x 2 heads x 3
    # combinations, and the short names
    for protocol in ('gta5-to-cbm', 'synthia-to-cbm', 'cityscapes-to-bmga'):
        grid = [c for c in CONFIGS if f'_{protocol}-' in c]
        assert len(grid) == 6, (protocol, grid)
    for short in ('r50', 'ibn_a', 'ibn_b'):
        for protocol in ('gta5_to_cbm', 'synthia_to_cbm'):
            assert f'configs/{short}_{protocol}.py' in CONFIGS


def _expected_backbone(name):
    """(type, depth, ibn) that a config's file name promises."""
    depth = re.search(r'(?:densenet|r)(\d+)', name)
    ibn = re.search(r'ibn[-_]([ab])', name)
    kind = 'IBNDenseNet' if 'densenet' in name else 'IBNResNet'
    return (kind, int(depth.group(1)) if depth else None,
            ibn.group(1) if ibn else None)


@pytest.mark.slow
@pytest.mark.parametrize('config', CONFIGS)
def test_config_builds(config, data_dir, monkeypatch):
    cfg = Config.fromfile(osp.join(REPO_ROOT, config))
    backbone = cfg.model.backbone
    kind, depth, ibn = _expected_backbone(osp.basename(config))
    assert backbone.type == kind
    assert backbone.get('ibn') == ibn, 'file name and ibn variant disagree'
    if depth is not None:
        assert backbone.depth == depth
    stride = re.search(r'-d(8|16)_', osp.basename(config))
    if stride:  # the output stride the name promises
        assert (backbone.strides, backbone.dilations) == {
            '8': ((1, 2, 1, 1), (1, 1, 2, 4)),
            '16': ((1, 2, 2, 1), (1, 1, 1, 2))
        }[stride.group(1)]
    init = backbone.get('init_cfg')
    if init:  # a published file the missing-file message can point to
        assert osp.basename(init.checkpoint) in WEIGHT_URLS

    init_default_scope(cfg.get('default_scope', 'mmseg'))
    model_cfg = repr(cfg.model.to_dict())
    if model_cfg not in _BUILT_MODELS:
        with torch.device('meta'):  # no memory, no initialisation: fast
            model = MODELS.build(cfg.model)
        assert type(model.backbone).__name__ == kind
        _BUILT_MODELS.add(model_cfg)

    monkeypatch.chdir(data_dir)  # the configs' data roots are relative
    for loader in LOADERS:
        length, metainfo = _built(cfg[loader].dataset)
        assert length > 0, f'{loader} of {config} is empty'
    # the evaluator's options fit the dataset (e.g. SYNTHIA's class subsets
    # name its classes): checked when the classes are handed over
    Evaluator(cfg.val_evaluator).dataset_meta = metainfo
    for name, domain in cfg.get('cross_domain', {}).get('domains',
                                                        {}).items():
        assert _built(domain.dataloader.dataset)[0] > 0, name
    _check_tta(cfg, config)


@pytest.mark.slow
def test_bdd_drivable_configs_filter_their_rows(data_dir, monkeypatch):
    """The BDD100K drivable-area configs (issue 26): output stride 8 as
    BDD100K's model zoo (R-50-D8), 3 classes, each condition row the val
    split filtered by BDD's frame attributes, and BDD's drivable mIoU."""
    configs = [c for c in CONFIGS if 'bdd_drivable' in c]
    assert [osp.basename(c) for c in configs] == sorted(
        f'{b}_bdd_drivable{c}.py' for b in ('r50', 'ibn_a', 'ibn_b')
        for c in ('', '_day_clear'))
    init_default_scope('mmseg')
    monkeypatch.chdir(data_dir)
    for config in configs:
        cfg = Config.fromfile(osp.join(REPO_ROOT, config))
        assert (cfg.model.backbone.strides,
                cfg.model.backbone.dilations) == ((1, 2, 1, 1), (1, 1, 2, 4))
        assert cfg.model.decode_head.num_classes == 3
        assert cfg.model.auxiliary_head.num_classes == 3
        day = config.endswith('_day_clear.py')
        assert cfg.cross_domain.source == ('day_clear' if day
                                           else 'bdd_drivable')
        rows = {'train': cfg.train_dataloader.dataset}
        rows.update((row, spec.dataloader.dataset)
                    for row, spec in cfg.cross_domain.domains.items())
        # the generated val frames' conditions (data factory): 6 daytime,
        # 3 clear, one of each other; all 8 unfiltered
        expected = {'bdd_drivable': 8, 'daytime': 6, 'clear': 3,
                    'train': 1 if day else 2}
        assert {row: _built(dataset)[0] for row, dataset in rows.items()} \
            == {row: expected.get(row, 1) for row in rows}, config
        metric = Evaluator(cfg.val_evaluator).metrics[0]
        assert 'bdd_mIoU' in metric.metric_names
        assert metric.source_domain == cfg.cross_domain.source


#: TTA pipelines already run (configs share domains)
_TTA_CHECKED = set()


def _check_tta(cfg, config):
    """tools/test.py --tta works: a config with mmseg's ``tta_model`` has a
    ``tta_pipeline``, and every tested domain's augmented pipeline runs,
    giving each ratio and flip of the image, tagged with its domain."""
    if 'tta_model' not in cfg:
        return
    assert 'tta_pipeline' in cfg, f'{config}: tta_model but no tta_pipeline'
    cfg = copy.deepcopy(cfg)
    enable_tta(cfg)
    views = len(cfg.tta_ratios) * 2  # each ratio, flipped and not
    if 'cross_domain' in cfg:
        _, rows = evaluation_rows(cfg.cross_domain, config)
        datasets = {row.name: row.dataloader['dataset'] for row in rows}
    else:
        datasets = {None: cfg.test_dataloader.dataset}
    for name, dataset_cfg in datasets.items():
        key = repr(dataset_cfg)
        if key in _TTA_CHECKED:
            continue
        # views of 64 pixels: at the test scale (2048 wide, up to 1.75x),
        # resizing the 12 views is most of the check's time
        for step in dataset_cfg['pipeline']:
            if 'scale' in step:
                step['scale'] = (64, 64)
        sample = _build(dataset_cfg)[0]
        assert len(sample['inputs']) == views, (config, name)
        if name is not None:
            assert {s.metainfo['domain'] for s in sample['data_samples']
                    } == {name}
        _TTA_CHECKED.add(key)


def _built(dataset_cfg) -> tuple:
    """(length, metainfo) of the dataset a config builds, built once."""
    key = repr(dataset_cfg.to_dict())
    if key not in _DATASETS:
        dataset = _build(dataset_cfg)
        _DATASETS[key] = (len(dataset), dataset.metainfo)
    return _DATASETS[key]


def _build(dataset_cfg):
    # unserialized: mmengine's serialization runs a full gc.collect per
    # dataset, seconds for a config of many rows
    return DATASETS.build(dict(dataset_cfg, serialize_data=False))
