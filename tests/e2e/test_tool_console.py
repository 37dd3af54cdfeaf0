"""tools/train.py and tools/test.py on the console, as a user runs them: one
line per phase with validation metrics as they come, mmengine's whole log
in the work dir, no pkg_resources warnings, the fine-tune subset's size in
the log, a test counter over all domains, predictions and pictures per
domain, and ``--show-dir`` painting even a test of fewer batches than its
interval. (``--verbose``: tests/e2e/test_readme_recipe.py.)"""
import glob
import os
import os.path as osp
import re

import cv2
import numpy as np
import pytest

from tests.helpers.tiny_experiment import write_cross_domain_config
from tests.helpers.tiny_setup import IMAGE_SIZE, save_checkpoint
from tests.helpers.tools import mmengine_log, run_tool

pytestmark = pytest.mark.slow


def _painted(work_dir):
    return glob.glob(str(work_dir / 'painted' / 'vis_data' / 'vis_image' /
                         '*.png'))


def test_train_prints_a_line_per_phase_and_keeps_the_log(tiny_run):
    work_dir = tiny_run.work_dir
    lines = tiny_run.stdout.splitlines()
    assert lines[0] == f'full log: {work_dir / "train.log"}'
    labels = [line.split()[0] for line in lines[1:]]
    assert labels == ['train', 'val'], lines
    assert '4/4 iters' in lines[1] and 'mIoU' in lines[2]
    # everything else is in the work dir: what was printed, mmengine's log
    printed = (work_dir / 'train.log').read_text()
    assert 'pkg_resources' not in printed
    assert 'Config:' in printed and 'UserWarning' in printed
    log = mmengine_log(work_dir)
    assert 'Iter(train) [4/4]' in log
    assert 'seeded subset: 2 of 4 samples (fraction 0.5, seed 0)' in log


@pytest.fixture(scope='module')
def cross_domain(tmp_path_factory):
    """3 domains of 3 images in batches of 2 (6 batches), a checkpoint, and
    each domain's image file names."""
    root = tmp_path_factory.mktemp('cross_domain')
    config, images = write_cross_domain_config(root)
    return config, save_checkpoint(config, root / 'tiny.pth'), images


def test_test_reports_every_domain_and_writes_its_outputs(
        tmp_path, cross_domain):
    config, checkpoint, images = cross_domain
    work_dir, out_dir = tmp_path / 'test', tmp_path / 'predictions'
    lines = run_tool('test.py', [
        config, checkpoint, '--work-dir', work_dir, '--out', out_dir,
        '--show-dir', 'painted', '--cfg-options',
        'default_hooks.visualization.interval=1'
    ]).stdout.splitlines()
    assert lines[0] == f'full log: {work_dir / "test.log"}'
    assert len(lines) == 2, lines
    assert lines[1].startswith('test') and '6/6 batches' in lines[1]
    for domain in images:
        assert f'{domain}/mIoU' in lines[1]
    assert 'Iter(test) [6/6]' in (work_dir / 'test.log').read_text()
    # one counter over all domains
    counters = re.findall(r'Iter\(test\) \[ *(\d+)/(\d+)\]',
                          mmengine_log(work_dir))
    assert counters == [(str(i), '6') for i in range(1, 7)] + [('6', '6')]

    # <out>/<domain>/<image name>.png, as mmseg's IoUMetric names them
    assert sorted(os.listdir(out_dir)) == sorted(images)
    predictions = {}
    for domain, names in images.items():
        assert len(names) == 3
        assert sorted(os.listdir(out_dir / domain)) == names
        for name in names:
            prediction = cv2.imread(str(out_dir / domain / name),
                                    cv2.IMREAD_UNCHANGED)
            # at the image's own size, though inferred at half of it
            assert prediction.shape == IMAGE_SIZE
            assert prediction.dtype == np.uint8 and prediction.max() < 19
            predictions[domain, name] = prediction
    for name in images['cityscapes']:  # same model, same images
        np.testing.assert_array_equal(predictions['cityscapes', name],
                                      predictions['cityscapes_copy', name])
    # every painted image kept: same names in two domains overwrite nothing
    painted = [osp.basename(p) for p in _painted(work_dir)]
    assert len(painted) == 9
    for domain, names in images.items():
        for name in names:
            assert any(f'{domain}_{name}' in p for p in painted), (domain,
                                                                   name)


def test_show_dir_paints_a_test_shorter_than_its_interval(
        tmp_path, cross_domain):
    work_dir = tmp_path / 'test'
    run_tool('test.py', [*cross_domain[:2], '--work-dir', work_dir,
                         '--show-dir', 'painted'])
    # 6 batches and mmseg's interval of 50: the last batch is painted
    assert 'fewer than the visualization interval 50' in \
        mmengine_log(work_dir)
    assert len(_painted(work_dir)) == 1
