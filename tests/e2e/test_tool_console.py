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


def test_test_reports_every_domain_and_writes_its_outputs(tmp_path):
    """3 domains of 3 images in batches of 2: 6 batches, fewer than mmseg's
    visualization interval of 50 (each domain's pictures under their own
    names: tests/test_engine/test_visualization_hook.py)."""
    config, images = write_cross_domain_config(tmp_path)
    checkpoint = save_checkpoint(config, tmp_path / 'tiny.pth')
    work_dir, out_dir = tmp_path / 'test', tmp_path / 'predictions'
    lines = run_tool('test.py', [
        config, checkpoint, '--work-dir', work_dir, '--out', out_dir,
        '--show-dir', 'painted']).stdout.splitlines()
    assert lines[0] == f'full log: {work_dir / "test.log"}'
    assert len(lines) == 2, lines
    assert lines[1].startswith('test') and '6/6 batches' in lines[1]
    for domain in images:
        assert f'{domain}/mIoU' in lines[1]
    assert 'Iter(test) [6/6]' in (work_dir / 'test.log').read_text()
    log = mmengine_log(work_dir)
    # one counter over all domains
    counters = re.findall(r'Iter\(test\) \[ *(\d+)/(\d+)\]', log)
    assert counters == [(str(i), '6') for i in range(1, 7)] + [('6', '6')]
    # the last batch (the last domain's) painted
    assert 'fewer than the visualization interval 50' in log
    painted = glob.glob(
        str(work_dir / 'painted' / 'vis_data' / 'vis_image' / '*.png'))
    assert len(painted) == 1 and \
        osp.basename(painted[0]).startswith('test_cityscapes_copy_'), painted

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
