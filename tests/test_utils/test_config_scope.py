"""``_base_ = ['ibnseg::...']``: ibnseg's configs as an mmengine config
scope (in a fresh process that has not imported ibnseg, from a wheel and an
editable install: tests/e2e/test_packaging.py)."""
import os
import textwrap

import pytest
from mmengine.config import Config

import ibnseg  # noqa: F401  (what custom_imports does)
from ibnseg import config_scope
from tests.helpers.tools import REPO_ROOT


def write_config(folder, text):
    path = folder / 'my_config.py'
    path.write_text(textwrap.dedent(text))
    return str(path)


@pytest.mark.slow
def test_top_level_and_nested_configs_resolve_from_any_folder(tmp_path):
    cfg = Config.fromfile(write_config(tmp_path, '''
        _base_ = ['ibnseg::ibn_b_cityscapes.py']
        model = dict(decode_head=dict(num_classes=3))
    '''))
    assert (cfg.model.backbone.type, cfg.model.backbone.ibn,
            cfg.model.decode_head.num_classes) == ('IBNResNet', 'b', 3)
    assert cfg.custom_imports['imports'] == ['ibnseg']

    cfg = Config.fromfile(write_config(tmp_path, '''
        _base_ = ['ibnseg::_base_/models/fcn_ibn-r50-d8.py']
    '''))
    assert cfg.model.backbone.type == 'IBNResNet'


def test_configs_folder_is_the_checkout_configs():
    # one copy of the configs: the package's folder links to configs/
    assert os.path.samefile(config_scope.configs_dir(),
                            os.path.join(REPO_ROOT, 'configs'))


@pytest.mark.parametrize('name, message', [
    ('ibn_b_cityscape.py', 'nearest: ibnseg::ibn_b_cityscapes.py'),
    ('../setup.py', "ibnseg has no config '../setup.py'"),
])
def test_unknown_config_is_named_with_the_nearest_ones(tmp_path, name,
                                                       message):
    config = write_config(tmp_path, f"_base_ = ['ibnseg::{name}']\n")
    with pytest.raises(FileNotFoundError, match=message.replace('.', r'\.')):
        Config.fromfile(config)


def test_other_packages_are_left_to_mmengine(tmp_path):
    config = write_config(tmp_path, "_base_ = ['mmdet::nothing/here.py']\n")
    with pytest.raises((AssertionError, ModuleNotFoundError),
                       match='mmdet'):
        Config.fromfile(config)
