"""2-process distributed training on CPU through tools/dist_train.sh."""
import os.path as osp
import subprocess
import sys

import pytest
import torch

from tests.helpers.tiny_experiment import (load_state_dict,
                                           make_tiny_cityscapes,
                                           write_tiny_config)
from tests.helpers.tools import REPO_ROOT, free_port, tool_env

MAX_ITERS = 4


@pytest.mark.slow
def test_dist_train_two_cpu_processes(tmp_path):
    data = make_tiny_cityscapes(tmp_path / 'cityscapes')
    rank_dir = tmp_path / 'ranks'
    # The config keeps mmseg's default nccl backend: the tool must switch
    # to gloo by itself on a machine without CUDA.
    config = write_tiny_config(
        tmp_path / 'tiny.py', data.root, max_iters=MAX_ITERS,
        extra=("custom_imports = dict(imports=["
               "'tests.helpers.probe_hooks'])\n"
               f"custom_hooks = [dict(type='SaveRankWeightsHook', "
               f"out_dir={str(rank_dir)!r})]\n"))
    work_dir = tmp_path / 'work'
    # two processes share the cores: one thread each
    env = dict(tool_env(threads=1), PORT=str(free_port()),
               PYTHON=sys.executable)
    proc = subprocess.run(
        ['bash', osp.join(REPO_ROOT, 'tools', 'dist_train.sh'), config, '2',
         '--work-dir', str(work_dir)],
        cwd=REPO_ROOT, env=env, stdout=subprocess.PIPE,
        stderr=subprocess.STDOUT, text=True, timeout=300)
    assert proc.returncode == 0, proc.stdout[-6000:]
    assert "using 'gloo'" in proc.stdout

    ranks = [torch.load(rank_dir / f'rank{r}.pth', weights_only=True)
             for r in range(2)]
    for rank in ranks:
        assert rank['world_size'] == 2
        assert rank['backend'] == 'gloo'
        assert rank['wrapper'] == 'CPUDistributedDataParallel'
    # The ranks trained on different images; equal weights mean their
    # gradients were averaged at every step.
    saved = load_state_dict(work_dir / f'iter_{MAX_ITERS}.pth')
    halfway = load_state_dict(work_dir / 'iter_2.pth')
    for name, param in ranks[0]['params'].items():
        assert torch.equal(param, ranks[1]['params'][name]), name
        assert torch.equal(param, saved[name]), name
    assert any(not torch.equal(saved[n], halfway[n]) for n in halfway)
