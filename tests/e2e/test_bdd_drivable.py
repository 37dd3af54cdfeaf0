"""BDD100K drivable area end to end:
``configs/ibn_b_bdd_drivable_day_clear.py`` trains 2 iterations on generated
clear-daytime frames (the current release's layout, found through
``IBNSEG_BDD100K_ROOT``), validates every condition in one pass, and
``tools/test.py`` reports each condition with BDD's drivable mIoU beside the
plain 3-class mIoU, their target mean and the drop. Only sizes change, via
``--cfg-options`` as a user would."""
import glob
import os.path as osp
import re

import pytest

from tests.helpers.data_factory import make_bdd100k_drivable
from tests.helpers.shipped_configs import pipeline_steps, small_options
from tests.helpers.tools import REPO_ROOT, run_tool

CONFIG = f'{REPO_ROOT}/configs/ibn_b_bdd_drivable_day_clear.py'
SOURCE = 'day_clear'
TARGETS = ('night', 'dawn_dusk', 'overcast', 'partly_cloudy', 'rainy',
           'snowy', 'foggy')


@pytest.fixture(scope='module')
def data_root(tmp_path_factory):
    root = tmp_path_factory.mktemp('bdd_drivable')
    # one val frame per row (the data factory's conditions, clear daytime
    # first); of the 2 train frames, the first is clear daytime
    make_bdd100k_drivable(root / 'bdd100k', splits={'train': 2, 'val': 8},
                          size=(72, 128))
    with pytest.MonkeyPatch.context() as patch:
        patch.setenv('IBNSEG_BDD100K_ROOT', str(root / 'bdd100k'))
        yield root


def _options():
    from mmengine.config import Config
    options = small_options(CONFIG)
    train = Config.fromfile(CONFIG).train_dataloader.dataset.pipeline
    options += [f'train_dataloader.dataset.pipeline.{i}.scale=(128,72)'
                for i in pipeline_steps(train, 'RandomResize')]
    return options


def _mmengine_log(work_dir) -> str:
    """mmengine's own log of a tool's run (``<work dir>/<timestamp>/
    <timestamp>.log``): every metric, whatever the console shows."""
    paths = sorted(glob.glob(osp.join(str(work_dir), '*', '*.log')))
    assert paths, f'no mmengine log under {work_dir}'
    return ''.join(open(p, encoding='utf-8').read() for p in paths)


def _metric(log, name):
    match = re.search(rf'(?<![\w/]){re.escape(name)}: (-?[\d.]+|nan)', log)
    assert match, f'{name} not in the log:\n{log[-3000:]}'
    return float(match.group(1))


def _check_rows(log):
    rows = (SOURCE, ) + TARGETS
    bdd = {r: _metric(log, f'{r}/bdd_mIoU') for r in rows}
    plain = {r: _metric(log, f'{r}/mIoU') for r in rows}
    for row in rows:
        assert 0 <= bdd[row] <= 100 and 0 <= plain[row] <= 100, row
    target = _metric(log, 'target/bdd_mIoU')
    assert target == pytest.approx(
        sum(bdd[t] for t in TARGETS) / len(TARGETS), abs=0.02)
    assert _metric(log, 'drop/bdd_mIoU') == pytest.approx(
        bdd[SOURCE] - target, abs=0.02)
    return bdd


@pytest.mark.slow
def test_day_trained_ibn_b_reports_every_condition(data_root):
    work = data_root / 'work_dirs' / 'ibn_b_bdd_drivable_day_clear'
    options = _options()
    run_tool('train.py', [
        CONFIG, '--work-dir', work, '--cfg-options', *options,
        'train_cfg.max_iters=2', 'train_cfg.val_interval=2',
        'default_hooks.checkpoint.interval=2'
    ], cwd=data_root)
    log = _mmengine_log(work)
    assert f'val: {1 + len(TARGETS)} domains on the full splits' in log
    trained = _check_rows(log)

    run_tool('test.py', [
        CONFIG, work / 'iter_2.pth', '--work-dir', data_root / 'test_work',
        '--cfg-options', *options
    ], cwd=data_root)
    log = _mmengine_log(data_root / 'test_work')
    tested = _check_rows(log)
    # the same model on the same frames
    for row, value in trained.items():
        assert tested[row] == pytest.approx(value, abs=0.01), row


@pytest.mark.slow
def test_an_unknown_attribute_value_is_one_line_from_train(data_root):
    proc = run_tool('train.py', [
        CONFIG, '--work-dir', data_root / 'bad_attribute', '--cfg-options',
        *_options(), 'train_dataloader.dataset.attributes.timeofday=[nite]',
        'train_cfg.max_iters=1'
    ], cwd=data_root, check=False)
    assert proc.returncode != 0
    assert 'Traceback' not in proc.stdout, proc.stdout[-3000:]
    assert "attributes['timeofday'] has unknown value(s) ['nite']" in \
        proc.stdout
