"""One setting per domain moves it everywhere: IBNSEG_CITYSCAPES_ROOT and
IBNSEG_GTA5_ROOT, read by the configs (train, val, test, cross-domain and
fine-tune datasets) and GTA5's split files under its root; the converters
read them too (test_label_conversion.py)."""
import os.path as osp

import pytest
from mmengine.config import Config
from mmengine.registry import init_default_scope
from mmseg.registry import DATASETS

import ibnseg  # noqa: F401
from ibnseg.datasets.roots import DATA_ROOT_ENV, DEFAULT_DATA_ROOTS, data_root
from tests.helpers.data_factory import (make_cityscapes, make_gta5,
                                        write_split_file)
from tests.helpers.tools import REPO_ROOT, load_tool

init_default_scope('mmseg')
CONFIGS = [
    'configs/ibn_b_cityscapes.py',
    'configs/ibn_a_gta5.py',
    'configs/finetune/'
    'fcn_r50-ibn-b-d8_4xb2-20k_cityscapes-ft-gta5-10pct-512x1024.py',
]


@pytest.fixture(scope='module')
def elsewhere(tmp_path_factory):
    """Both datasets on "another disk", in their real layouts, with GTA5's
    split files where tools/gta5_split_from_mat.py writes them."""
    disk = tmp_path_factory.mktemp('other_disk')
    cs = make_cityscapes(disk / 'cs', {'train': 3, 'val': 2}, size=(32, 64))
    gta = make_gta5(disk / 'games' / 'gta', num_images=9, size=(32, 58))
    for split, ids in (('train', gta.ids[:5]), ('val', gta.ids[5:7]),
                       ('test', gta.ids[7:])):
        write_split_file(osp.join(gta.root, 'splits', f'{split}.txt'), ids)
    return dict(cityscapes=cs.root, gta5=gta.root)


@pytest.fixture
def moved(elsewhere, tmp_path, monkeypatch):
    """Run from an empty folder with only the two variables set."""
    monkeypatch.chdir(tmp_path)
    for domain, root in elsewhere.items():
        monkeypatch.setenv(DATA_ROOT_ENV[domain], root)
    return elsewhere


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
@pytest.mark.parametrize('config', CONFIGS)
def test_two_variables_move_every_dataset_of_a_config(config, moved):
    cfg = Config.fromfile(osp.join(REPO_ROOT, config))
    found = dict(dataset_configs(cfg.to_dict()))
    # train, val, test and each cross_domain domain (GTA5 twice: val split)
    assert len(found) >= 6, sorted(found)
    for where, dataset_cfg in found.items():
        domain = ('gta5' if dataset_cfg['type'] == 'GTA5Dataset' else
                  'cityscapes')
        assert dataset_cfg['data_root'] == moved[domain], where
        # serialized, data_list would be empty (and cost a gc.collect)
        dataset = DATASETS.build(dict(dataset_cfg, serialize_data=False))
        paths = [info['img_path'] for info in dataset.data_list]
        assert paths and all(p.startswith(moved[domain]) for p in paths), \
            where


def test_default_roots_and_an_empty_variable(monkeypatch):
    for variable in DATA_ROOT_ENV.values():
        monkeypatch.delenv(variable, raising=False)
    cfg = Config.fromfile(osp.join(REPO_ROOT, CONFIGS[0]))
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
    tool = load_tool('convert_gta5_labels')
    with pytest.raises(SystemExit) as exit_info:
        tool.main(['--nproc', '1'])
    assert exit_info.value.code == 2
