"""A training run killed after a checkpoint resumes to the same weights."""
import os.path as osp
import signal
import subprocess
import time

import pytest

from tests.helpers.tiny_experiment import (assert_same_weights,
                                           load_state_dict,
                                           make_tiny_cityscapes,
                                           write_tiny_config)
from tests.helpers.tools import REPO_ROOT, run_tool, tool_command, tool_env

MAX_ITERS = 6


def _kill_after_first_checkpoint(config, work_dir, timeout=240):
    """Start tools/train.py, SIGKILL it once last_checkpoint exists."""
    proc = subprocess.Popen(
        tool_command('train.py', [config, '--work-dir', work_dir]),
        cwd=REPO_ROOT, env=tool_env(), stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL)
    marker = osp.join(work_dir, 'last_checkpoint')
    deadline = time.monotonic() + timeout
    try:
        while not osp.exists(marker):
            assert proc.poll() is None, (
                f'training exited ({proc.returncode}) before its first '
                'checkpoint')
            assert time.monotonic() < deadline, 'no checkpoint in time'
            time.sleep(0.02)
        still_running = proc.poll() is None
        proc.send_signal(signal.SIGKILL)
    finally:
        proc.kill()
        proc.wait()
    assert still_running, 'training finished before it could be killed'


@pytest.mark.slow
def test_killed_run_resumes_to_same_weights(tmp_path):
    data = make_tiny_cityscapes(tmp_path / 'cityscapes')
    config = write_tiny_config(tmp_path / 'tiny.py', data.root,
                               max_iters=MAX_ITERS, checkpoint_interval=2)
    final = f'iter_{MAX_ITERS}.pth'

    reference_dir = str(tmp_path / 'uninterrupted')
    run_tool('train.py', [config, '--work-dir', reference_dir])

    # The same training, paced so that the kill lands before the end.
    paced_config = write_tiny_config(
        tmp_path / 'tiny_paced.py', data.root, max_iters=MAX_ITERS,
        checkpoint_interval=2,
        extra=("custom_imports = dict(imports=["
               "'tests.helpers.probe_hooks'])\n"
               "custom_hooks = [dict(type='SlowDownHook', seconds=0.5)]\n"))
    work_dir = str(tmp_path / 'killed')
    _kill_after_first_checkpoint(paced_config, work_dir)
    with open(osp.join(work_dir, 'last_checkpoint')) as f:
        resumed_from = f.read().strip()
    assert osp.isfile(resumed_from)
    assert not osp.exists(osp.join(work_dir, final))

    log = run_tool('train.py', ['--verbose', config, '--work-dir', work_dir,
                                '--resume']).stdout
    assert f'Auto resumed from the latest checkpoint {resumed_from}' in log
    assert_same_weights(
        load_state_dict(osp.join(reference_dir, final)),
        load_state_dict(osp.join(work_dir, final)))
