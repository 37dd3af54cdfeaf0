import pytest
import torch
import torch.distributed as torch_dist
from mmengine.config import Config

from ibnseg.engine.distributed import (CPUDistributedDataParallel,
                                       setup_cpu_distributed)
from tests.helpers.tools import free_port

needs_cpu_only = pytest.mark.skipif(
    torch.cuda.is_available(), reason='tests the CPU-only path')


@pytest.fixture
def single_process_group_env(monkeypatch):
    """torchrun's variables for a world of one process."""
    for name, value in dict(RANK='0', LOCAL_RANK='0', WORLD_SIZE='1',
                            MASTER_ADDR='127.0.0.1',
                            MASTER_PORT=str(free_port())).items():
        monkeypatch.setenv(name, value)
    yield
    if torch_dist.is_initialized():
        torch_dist.destroy_process_group()


def test_not_distributed_is_left_alone():
    cfg = Config(dict(launcher='none'))
    assert setup_cpu_distributed(cfg) is False
    assert cfg.to_dict() == dict(launcher='none')


@needs_cpu_only
def test_launchers_that_cannot_start_on_cpu(monkeypatch):
    with pytest.raises(RuntimeError, match="launcher 'slurm' needs CUDA"):
        setup_cpu_distributed(Config(dict(launcher='slurm')))
    for name in ('RANK', 'WORLD_SIZE', 'MASTER_ADDR', 'MASTER_PORT'):
        monkeypatch.delenv(name, raising=False)
    with pytest.raises(RuntimeError, match='start the script with torchrun'):
        setup_cpu_distributed(Config(dict(launcher='pytorch')))
    assert not torch_dist.is_initialized()


@needs_cpu_only
def test_pytorch_launcher_on_cpu(single_process_group_env):
    cfg = Config(dict(
        launcher='pytorch', find_unused_parameters=True,
        env_cfg=dict(dist_cfg=dict(backend='nccl', timeout=60))))
    assert setup_cpu_distributed(cfg) is True
    assert cfg.env_cfg.dist_cfg.backend == 'gloo'
    assert cfg.model_wrapper_cfg == dict(
        type='mmseg.CPUDistributedDataParallel', find_unused_parameters=True)
    assert torch_dist.is_initialized()
    assert torch_dist.get_backend() == 'gloo'

    # A configured mmengine wrapper keeps its options.
    cfg = Config(dict(launcher='pytorch', model_wrapper_cfg=dict(
        type='MMDistributedDataParallel', broadcast_buffers=True)))
    setup_cpu_distributed(cfg)
    assert cfg.model_wrapper_cfg == dict(
        type='mmseg.CPUDistributedDataParallel', broadcast_buffers=True)

    # the wrapper reverts SyncBN and ignores the Runner's device_ids
    model = torch.nn.Sequential(
        torch.nn.Conv2d(3, 4, 3), torch.nn.SyncBatchNorm(4))
    wrapped = CPUDistributedDataParallel(model, device_ids=[0])
    assert not any(isinstance(m, torch.nn.SyncBatchNorm)
                   for m in wrapped.modules())
    assert wrapped(torch.randn(2, 3, 8, 8)).shape == (2, 4, 6, 6)
