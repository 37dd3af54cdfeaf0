"""BDD100K drivable area: configs/ibn_b_bdd_drivable_day_clear.py trains 2
iterations on clear-daytime frames (found through ``IBNSEG_BDD100K_ROOT``;
sizes and the network shrunk with ``--cfg-options``, since the config's
data, rows and metric are under test, not the model), validates every
condition in one pass, and tools/test.py reports the same BDD drivable mIoU,
target mean and drop per condition."""
import pytest

from tests.helpers.data_factory import make_bdd100k_drivable
from tests.helpers.shipped_configs import (TINY_MODEL, pipeline_steps,
                                           small_options)
from tests.helpers.tools import (REPO_ROOT, log_metric, mmengine_log,
                                 run_in_process, run_tool)

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


def _check_rows(log):
    rows = (SOURCE, ) + TARGETS
    bdd = {r: log_metric(log, f'{r}/bdd_mIoU') for r in rows}
    for row in rows:  # the plain 3-class mIoU beside BDD's
        log_metric(log, f'{row}/mIoU')
    target = log_metric(log, 'target/bdd_mIoU')
    assert target == pytest.approx(
        sum(bdd[t] for t in TARGETS) / len(TARGETS), abs=0.02)
    assert log_metric(log, 'drop/bdd_mIoU') == pytest.approx(
        bdd[SOURCE] - target, abs=0.02)
    return bdd


@pytest.mark.slow
def test_day_trained_ibn_b_reports_every_condition(data_root):
    from mmengine.config import Config
    train = Config.fromfile(CONFIG).train_dataloader.dataset.pipeline
    options = small_options(CONFIG) + TINY_MODEL + [
        f'train_dataloader.dataset.pipeline.{i}.scale=(128,72)'
        for i in pipeline_steps(train, 'RandomResize')]
    work = data_root / 'work_dirs' / 'ibn_b_bdd_drivable_day_clear'
    run_tool('train.py', [
        CONFIG, '--work-dir', work, '--cfg-options', *options,
        'train_cfg.max_iters=2', 'train_cfg.val_interval=2',
        'default_hooks.checkpoint.interval=2'
    ], cwd=data_root)
    log = mmengine_log(work)
    assert f'val: {1 + len(TARGETS)} domains on the full splits' in log
    trained = _check_rows(log)

    run_tool('test.py', [
        CONFIG, work / 'iter_2.pth', '--work-dir', data_root / 'test_work',
        '--cfg-options', *options
    ], cwd=data_root)
    tested = _check_rows(mmengine_log(data_root / 'test_work'))
    # the same model on the same frames
    for row, value in trained.items():
        assert tested[row] == pytest.approx(value, abs=0.01), row


@pytest.mark.slow
def test_an_unknown_attribute_value_is_one_line_from_train(
        data_root, monkeypatch, capsys):
    monkeypatch.chdir(data_root)
    status, err = run_in_process('train.py', [
        CONFIG, '--work-dir', data_root / 'bad_attribute', '--cfg-options',
        'model.backbone.init_cfg=None', *TINY_MODEL,
        'train_dataloader.dataset.attributes.timeofday=[nite]'], monkeypatch,
        capsys)
    assert status == 2, err
    assert "attributes['timeofday'] has unknown value(s) ['nite']" in \
        err.strip().splitlines()[-1]
