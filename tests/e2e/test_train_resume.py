"""A training run killed after a checkpoint resumes to the weights of the
same run uninterrupted (the shared ``tiny_run``)."""
import os.path as osp
import signal
import subprocess
import time

import pytest

from tests.helpers.tiny_experiment import (assert_same_weights,
                                           load_state_dict, write_run_config)
from tests.helpers.tools import REPO_ROOT, run_tool, tool_command, tool_env


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
def test_killed_run_resumes_to_same_weights(tiny_run, tmp_path):
    # the same training, paced so that the kill lands before the end
    paced = write_run_config(
        tmp_path / 'paced.py', tiny_run.data.root,
        extra=("custom_imports = dict(imports=["
               "'tests.helpers.probe_hooks'])\n"
               "custom_hooks = [dict(type='SlowDownHook', seconds=0.5)]\n"))
    work_dir = str(tmp_path / 'killed')
    _kill_after_first_checkpoint(paced, work_dir)
    with open(osp.join(work_dir, 'last_checkpoint')) as f:
        resumed_from = f.read().strip()
    assert resumed_from.endswith('iter_2.pth') and osp.isfile(resumed_from)
    assert not osp.exists(osp.join(work_dir, 'iter_4.pth'))

    log = run_tool('train.py', ['--verbose', tiny_run.config, '--work-dir',
                                work_dir, '--resume']).stdout
    assert f'Auto resumed from the latest checkpoint {resumed_from}' in log
    assert_same_weights(
        load_state_dict(tiny_run.work_dir / 'iter_4.pth'),
        load_state_dict(osp.join(work_dir, 'iter_4.pth')))
