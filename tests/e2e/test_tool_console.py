"""tools/train.py and tools/test.py on the console, as a user runs them: one
line per phase with validation metrics as they come, mmengine's whole log
in the work dir (``--verbose`` prints it), no pkg_resources warnings, the
fine-tune subset's size in the log, a test counter over all domains, and
``--show-dir`` painting even a test of fewer batches than its interval."""
import glob
import re

import pytest

from tests.helpers.tiny_experiment import (make_tiny_cityscapes,
                                           write_cross_domain_config,
                                           write_tiny_config)
from tests.helpers.tiny_setup import save_checkpoint
from tests.helpers.tools import run_tool

# mmseg's own runtime base, resolved by mmengine through pkg_resources
MMSEG_BASE = "_base_ = ['mmseg::_base_/default_runtime.py']\n"


def _mmengine_log(work_dir) -> str:
    """The text of mmengine's own log of the run in ``work_dir``."""
    logs = sorted(glob.glob(str(work_dir / '*' / '*.log')))
    assert logs, f'no mmengine log under {work_dir}'
    with open(logs[-1]) as f:
        return f.read()


@pytest.mark.slow
def test_train_prints_a_line_per_phase_and_keeps_the_log(tmp_path):
    data = make_tiny_cityscapes(tmp_path / 'cityscapes', train=2, val=2)
    config = write_tiny_config(tmp_path / 'tiny.py', data.root, max_iters=4,
                               val_interval=2, extra=MMSEG_BASE)
    work_dir = tmp_path / 'work'
    lines = run_tool('train.py', [config, '--work-dir', work_dir]
                     ).stdout.splitlines()
    assert lines[0] == f'full log: {work_dir / "train.log"}'
    labels = [line.split()[0] for line in lines[1:]]
    assert labels == ['train', 'val', 'train', 'val'], lines
    assert '2/4 iters' in lines[1] and '4/4 iters' in lines[3]
    assert 'mIoU' in lines[2] and 'mIoU' in lines[4]
    # everything else is in the work dir: what was printed, mmengine's log
    printed = (work_dir / 'train.log').read_text()
    assert 'pkg_resources' not in printed
    assert 'Config:' in printed and 'UserWarning' in printed
    assert 'Iter(train) [4/4]' in _mmengine_log(work_dir)

    verbose = run_tool('train.py', [config, '--work-dir', tmp_path / 'again',
                                    '--verbose']).stdout
    assert 'Config:' in verbose and 'Iter(train) [4/4]' in verbose
    assert len(verbose.splitlines()) > 100
    assert 'pkg_resources' not in verbose


@pytest.fixture
def cross_domain(tmp_path):
    """3 domains of 3 images in batches of 2 (6 batches), a checkpoint."""
    config, _ = write_cross_domain_config(tmp_path)
    return config, save_checkpoint(config, tmp_path / 'tiny.pth')


@pytest.mark.slow
def test_test_prints_its_progress_and_metrics(tmp_path, cross_domain):
    work_dir = tmp_path / 'test'
    lines = run_tool('test.py', [*cross_domain, '--work-dir', work_dir]
                     ).stdout.splitlines()
    assert lines[0] == f'full log: {work_dir / "test.log"}'
    assert len(lines) == 2, lines
    assert lines[1].startswith('test') and '6/6 batches' in lines[1]
    for domain in ('cityscapes', 'gta5', 'cityscapes_copy'):
        assert f'{domain}/mIoU' in lines[1]
    assert 'Iter(test) [6/6]' in (work_dir / 'test.log').read_text()


@pytest.mark.slow
def test_test_counts_batches_over_all_domains(tmp_path, cross_domain):
    run_tool('test.py', [*cross_domain, '--work-dir', tmp_path / 'w'])
    log = _mmengine_log(tmp_path / 'w')
    counters = re.findall(r'Iter\(test\) \[ *(\d+)/(\d+)\]', log)
    assert counters[-1] == ('6', '6'), counters
    assert [int(done) for done, _ in counters[:-1]] == list(range(1, 7))


@pytest.mark.slow
def test_show_dir_paints_a_test_shorter_than_its_interval(
        tmp_path, cross_domain):
    work_dir = tmp_path / 'test'
    run_tool('test.py', [*cross_domain, '--work-dir', work_dir,
                         '--show-dir', 'painted'])
    log = _mmengine_log(work_dir)
    # 6 batches and mmseg's interval of 50: the last batch is painted
    assert 'fewer than the visualization interval 50' in log
    painted = glob.glob(str(work_dir / 'painted' / 'vis_data' / 'vis_image' /
                            '*.png'))
    assert len(painted) == 1, painted


@pytest.mark.slow
def test_train_log_says_how_many_frames_a_subset_holds(tmp_path):
    data = make_tiny_cityscapes(tmp_path / 'cityscapes', train=4, val=1)
    # a fine-tune config's seeded subset of the training set
    config = write_tiny_config(
        tmp_path / 'tiny.py', data.root, max_iters=1,
        extra="train_dataloader['dataset'].update(\n"
        "    type='CityscapesLabelIdsDataset',\n"
        '    subset=dict(fraction=0.5, seed=0))\n')
    work_dir = tmp_path / 'work'
    run_tool('train.py', [config, '--work-dir', work_dir])
    assert 'seeded subset: 2 of 4 samples (fraction 0.5, seed 0)' in \
        _mmengine_log(work_dir)
