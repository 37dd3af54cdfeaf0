"""Every dataset config builds its datasets on generated data through its
own pipelines (training on them: tests/e2e), and one variable per domain
moves the domain for every config: IBNSEG_CITYSCAPES_ROOT and
IBNSEG_GTA5_ROOT, read by the configs' train, val, test, cross-domain and
fine-tune datasets, with GTA5's split files under its root."""
import copy
import os.path as osp

import numpy as np
import pytest
from mmengine.config import Config
from mmseg.registry import DATASETS

from ibnseg.datasets.roots import DATA_ROOT_ENV, DEFAULT_DATA_ROOTS, data_root
from ibnseg.datasets.subsets import read_id_list
from tests.helpers.data_factory import (make_acdc, make_bdd100k,
                                        make_cityscapes, make_gta5,
                                        make_mapillary, make_synthia,
                                        write_split_file)
from tests.helpers.datasets import build_domain_datasets, gt_of, names
from tests.helpers.tools import REPO_ROOT, load_tool

CONFIG_DIR = osp.join(REPO_ROOT, 'configs', '_base_', 'datasets')
CONFIGS = {
    'cityscapes.py': (1024, 2048),
    'cityscapes_half_res.py': (512, 1024),
    'gta5.py': (1052, 1914),
    'gta5_half_res.py': (563, 1024),
}
LOADERS = ('train_dataloader', 'val_dataloader', 'test_dataloader')


@pytest.fixture(scope='module')
def elsewhere(tmp_path_factory):
    """Both datasets on "another disk", in their real layouts, with GTA5's
    split files where tools/gta5_split_from_mat.py writes them; GTA5's
    frames a bit wider than 1914x1052."""
    disk = tmp_path_factory.mktemp('other_disk')
    cs = make_cityscapes(disk / 'cs', {'train': 3, 'val': 2}, size=(32, 64))
    gta = make_gta5(disk / 'games' / 'gta', num_images=7, size=(32, 59))
    for split, ids in (('train', gta.ids[:3]), ('val', gta.ids[3:5]),
                       ('test', gta.ids[5:])):
        write_split_file(osp.join(gta.root, 'splits', f'{split}.txt'), ids)
    return dict(cityscapes=cs.root, gta5=gta.root)


@pytest.fixture
def moved(elsewhere, tmp_path, monkeypatch):
    """Run from an empty folder with only the two variables set."""
    monkeypatch.chdir(tmp_path)
    for domain, root in elsewhere.items():
        monkeypatch.setenv(DATA_ROOT_ENV[domain], root)
    return elsewhere


def load_config(path):
    cfg = Config.fromfile(osp.join(CONFIG_DIR, path))
    for loader in LOADERS:
        # serialized, data_list would be empty (and cost a gc.collect)
        cfg[loader].dataset.serialize_data = False
    return cfg


@pytest.mark.parametrize('name', sorted(CONFIGS))
def test_config_loads_and_builds_every_dataset(name, moved):
    cfg = load_config(name)
    test_shape = CONFIGS[name]
    assert cfg.val_evaluator == dict(type='IoUMetric', iou_metrics=['mIoU'])
    # one domain, mmseg's IoUMetric: plain packing (a cross_domain section
    # tags pipelines with their domain's name)
    assert cfg.val_dataloader.dataset.pipeline[-1] == dict(
        type='PackSegInputs')
    # mmseg's inference_model reads it
    assert cfg.test_pipeline == cfg.test_dataloader.dataset.pipeline
    for loader in ('val_dataloader', 'test_dataloader'):
        dataset = DATASETS.build(cfg[loader].dataset)
        assert len(dataset) == 2
        sample = dataset[0]
        # keep_ratio resize: fits the test scale, touching it on one side
        height, width = sample['inputs'].shape[1:]
        assert height <= test_shape[0] and width <= test_shape[1]
        assert height == test_shape[0] or width == test_shape[1]
        assert height > 0.9 * test_shape[0] and width > 0.9 * test_shape[1]
        gt = gt_of(sample)  # scored at the label's own (original) size
        assert gt.shape[0] == 32 and gt.max() == 255 and gt.min() == 0
    dataset = DATASETS.build(cfg.train_dataloader.dataset)
    assert len(dataset) == 3
    sample = dataset[0]  # cropped, labels mapped to trainIds
    assert tuple(sample['inputs'].shape[1:]) == tuple(cfg.crop_size)
    assert set(np.unique(gt_of(sample))) <= set(range(19)) | {255}


def dataset_configs(node, where=''):
    """Every dataset config in a config tree, with its place."""
    if isinstance(node, dict):
        if 'data_root' in node and 'type' in node:
            yield where, node
        for key, value in node.items():
            yield from dataset_configs(value, f'{where}.{key}')
    elif isinstance(node, (list, tuple)):
        for i, value in enumerate(node):
            yield from dataset_configs(value, f'{where}.{i}')


@pytest.mark.slow
@pytest.mark.parametrize('config', [
    'ibn_b_cityscapes.py', 'ibn_a_gta5.py',
    'finetune/fcn_r50-ibn-b-d8_4xb2-20k_cityscapes-ft-gta5-10pct-512x1024.py'
])
def test_two_variables_move_every_dataset_of_a_config(config, moved):
    cfg = Config.fromfile(osp.join(REPO_ROOT, 'configs', config))
    found = dict(dataset_configs(cfg.to_dict()))
    # train, val, test and each cross_domain domain (GTA5 twice: val split)
    assert len(found) >= 6, sorted(found)
    for where, dataset_cfg in found.items():
        domain = ('gta5' if dataset_cfg['type'] == 'GTA5Dataset' else
                  'cityscapes')
        assert dataset_cfg['data_root'] == moved[domain], where
        dataset = DATASETS.build(dict(dataset_cfg, serialize_data=False))
        paths = [info['img_path'] for info in dataset.data_list]
        assert paths and all(p.startswith(moved[domain]) for p in paths), \
            where


def test_default_roots_and_an_empty_variable(monkeypatch):
    for variable in DATA_ROOT_ENV.values():
        monkeypatch.delenv(variable, raising=False)
    cfg = Config.fromfile(osp.join(REPO_ROOT, 'configs',
                                   'ibn_b_cityscapes.py'))
    domains = cfg.cross_domain.domains
    assert domains.cityscapes.dataloader.dataset.data_root == \
        data_root('cityscapes') == DEFAULT_DATA_ROOTS['cityscapes']
    assert domains.gta5.dataloader.dataset.data_root == data_root('gta5') \
        == DEFAULT_DATA_ROOTS['gta5']
    # the splits are found under the data root, not the working folder
    assert domains.gta5.dataloader.dataset.split == 'splits/test.txt'
    monkeypatch.setenv('IBNSEG_GTA5_ROOT', '')
    with pytest.raises(ValueError, match=r'\$IBNSEG_GTA5_ROOT is set but '
                       'empty'):
        data_root('gta5')
    with pytest.raises(SystemExit) as exit_info:
        load_tool('convert_gta5_labels').main(['--nproc', '1'])
    assert exit_info.value.code == 2


def test_make_finetune_subset_tool_matches_dataset_option(moved, tmp_path):
    tool = load_tool('make_finetune_subset')
    out = str(tmp_path / 'subset.txt')
    args = [osp.join(CONFIG_DIR, 'cityscapes.py'), '--count', '2', '--seed',
            '4', '--out', out]
    assert tool.main(args) == 0
    chosen = read_id_list(out)
    dataset_cfg = copy.deepcopy(
        load_config('cityscapes.py').train_dataloader.dataset)
    dataset_cfg.subset = dict(count=2, seed=4)
    dataset = DATASETS.build(dataset_cfg)
    assert chosen == names(dataset)
    assert tool.main(args[:1] + ['--fraction', '0.5', '--out', out,
                                 '--cfg-options',
                                 'train_dataloader.dataset.data_root=/no'
                                 ]) == 2


def synthia_with_val_split(root):
    make_synthia(root, num_images=3)
    write_split_file(osp.join(root, 'splits', 'val.txt'), ['1'])


#: configs/_base_/datasets/domains/ part -> (its root variable, a maker of
#: generated data, the samples of each dataloader it defines)
DOMAINS = {
    'acdc.py': ('IBNSEG_ACDC_ROOT', lambda root: make_acdc(
        root, splits={'val': 1}), {
            f'acdc_{c}_test_dataloader': 1
            for c in ('fog', 'night', 'rain', 'snow')}),
    'bdd100k.py': ('IBNSEG_BDD100K_ROOT', lambda root: make_bdd100k(
        root, '10k', {'train': 2, 'val': 1}), dict(
            bdd100k_train_dataloader=2, bdd100k_val_dataloader=1,
            bdd100k_test_dataloader=1)),
    'mapillary.py': ('IBNSEG_MAPILLARY_ROOT', lambda root: make_mapillary(
        root, {'training': 2, 'validation': 1}), dict(
            mapillary_train_dataloader=2, mapillary_val_dataloader=1,
            mapillary_test_dataloader=1)),
    'synthia.py': ('IBNSEG_SYNTHIA_ROOT', synthia_with_val_split, dict(
        synthia_train_dataloader=3, synthia_val_dataloader=1,
        synthia_test_dataloader=1)),
}


@pytest.mark.slow
@pytest.mark.parametrize('name', sorted(DOMAINS))
def test_domain_config_builds_on_generated_data(name, tmp_path,
                                                monkeypatch):
    variable, make, sizes = DOMAINS[name]
    root = str(tmp_path / 'data')
    make(root)
    built, _ = build_domain_datasets(name, variable, root, monkeypatch)
    assert {key: len(dataset) for key, dataset in built.items()} == sizes
    for dataset in built.values():
        gt = gt_of(dataset[0])  # through the config's own pipeline
        assert set(np.unique(gt)) <= set(range(19)) | {255}
