"""Where a fine-tune run starts: ``load_from``, checked before anything is
built, and the source run's final checkpoint each fine-tune config names."""
import glob
import os.path as osp
import re

import pytest
from mmengine.config import Config
from mmengine.logging import MMLogger

from ibnseg.engine.runner_setup import check_load_from
from tests.helpers.crafted_checkpoints import save_checkpoint
from tests.helpers.tools import REPO_ROOT, run_in_process

FINETUNE_CONFIGS = sorted(
    glob.glob(osp.join(REPO_ROOT, 'configs', 'finetune', '*.py')))
# the whole target training set; the -10/20/50pct siblings inherit from these
FULL_FINETUNE_CONFIGS = [p for p in FINETUNE_CONFIGS if '-100pct-' in p]


def _save(path, done, planned):
    """A checkpoint as mmengine writes one: meta iter, max_iters."""
    return save_checkpoint(path, meta=dict(iter=done), message_hub=dict(
        runtime_info=dict(max_iters=planned)))


def _cfg(load_from, **fields):
    return Config(dict(load_from=load_from, **fields))


def test_an_unfinished_run_is_warned_of(tmp_path, capsys):
    checkpoint = _save(tmp_path / 'iter_4.pth', done=4, planned=10)
    # mmengine's 'current' logger is the newest one: make it one whose
    # console handler writes to this test's captured stdout (an earlier
    # test's would write to its own stream)
    MMLogger.get_instance(f'unfinished_{tmp_path.name}')
    cfg = _cfg(checkpoint)
    check_load_from(cfg, '--cfg-options load_from')
    assert cfg.load_from == checkpoint
    assert f'--cfg-options load_from: {checkpoint} is from a run that ' \
        'stopped after 4 of its 10 iterations' in capsys.readouterr().out


def test_a_bare_state_dict_passes(tmp_path, capsys):
    # (a URL is downloaded and checked: tests/e2e/test_train_test_tools.py)
    bare = save_checkpoint(tmp_path / 'weights.pth')
    cfg = _cfg(bare)
    check_load_from(cfg)
    assert cfg.load_from == bare
    assert 'stopped' not in capsys.readouterr().out
    check_load_from(_cfg(None))


def test_subset_finetune_configs_inherit_their_source():
    assert len(FULL_FINETUNE_CONFIGS) == 6 and len(FINETUNE_CONFIGS) == 24
    for path in FINETUNE_CONFIGS:
        if path in FULL_FINETUNE_CONFIGS:
            continue
        with open(path) as f:
            text = f.read()
        full = re.sub(r'-\d+pct-', '-100pct-', osp.basename(path))
        assert f"_base_ = './{full}'" in text, path
        assert 'load_from' not in text, path


@pytest.mark.slow
@pytest.mark.parametrize('path', [
    pytest.param(p, id=osp.basename(p)) for p in FULL_FINETUNE_CONFIGS])
def test_each_finetune_config_starts_from_its_short_name_source(path):
    cfg = Config.fromfile(path)
    source_path = osp.join(REPO_ROOT, cfg.source_config)
    name = osp.splitext(osp.basename(cfg.source_config))[0]
    source = Config.fromfile(source_path)
    # the checkpoint `tools/train.py <source_config>` saves at its end
    assert cfg.load_from == \
        f'work_dirs/{name}/iter_{source.train_cfg.max_iters}.pth'
    # the same network, trained on the other domain
    assert cfg.model.backbone.ibn == source.model.backbone.ibn
    assert cfg.model.backbone.depth == source.model.backbone.depth
    assert cfg.model.decode_head.type == source.model.decode_head.type
    finetune_on = cfg.train_dataloader.dataset.type
    assert finetune_on != source.train_dataloader.dataset.type
    assert f'-ft-{"gta5" if finetune_on == "GTA5Dataset" else "cityscapes"}' \
        in osp.basename(path)


def test_train_refuses_a_missing_source_before_building_anything(
        tmp_path, monkeypatch, capsys):
    config = next(p for p in FINETUNE_CONFIGS
                  if 'ibn-b' in p and 'cityscapes-ft-gta5-10pct' in p)
    monkeypatch.chdir(tmp_path)
    status, error = run_in_process('train.py', [config], monkeypatch, capsys)
    assert status == 2
    for said in ('load_from: work_dirs/ibn_b_cityscapes/iter_40000.pth does '
                 'not exist (no such checkpoint)',
                 '`python tools/train.py configs/ibn_b_cityscapes.py`',
                 '--cfg-options load_from=<checkpoint file>'):
        assert said in error
    # refused before the Runner: no work dir, no log
    assert not (tmp_path / 'work_dirs').exists()
    # given on the command line, the config's source is not the one missing
    cfg = _cfg('x/iter_1.pth', source_config='configs/ibn_b_cityscapes.py')
    with pytest.raises(FileNotFoundError) as info:
        check_load_from(cfg, '--cfg-options load_from')
    assert str(info.value).startswith('--cfg-options load_from: x/iter_1.pth '
                                      'does not exist (no such checkpoint)')
    assert 'ibn_b_cityscapes.py' not in str(info.value)
