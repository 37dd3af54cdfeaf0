"""Distributed runs on machines whose torch has no CUDA (gloo over CPU).

mmengine's distributed runner assumes GPUs in two places: its launcher
set-up (``mmengine.dist.init_dist``) calls ``torch.cuda.set_device`` before
creating the process group, and its model wrapper passes
``device_ids=[LOCAL_RANK]``, which ``DistributedDataParallel`` refuses for a
CPU model. :func:`setup_cpu_distributed` works around both *before* the
Runner is built, so the rest is mmengine's own distributed training.
"""
import datetime
import logging

import torch
import torch.distributed as torch_dist
from mmengine.config import Config
from mmengine.logging import print_log
from mmengine.model import MMDistributedDataParallel, revert_sync_batchnorm

from mmseg.registry import MODEL_WRAPPERS

__all__ = ['CPUDistributedDataParallel', 'setup_cpu_distributed']


@MODEL_WRAPPERS.register_module()
class CPUDistributedDataParallel(MMDistributedDataParallel):
    """``MMDistributedDataParallel`` for a model that stays on the CPU.

    SyncBN layers are reverted to plain BN first: torch's SyncBatchNorm has
    no CPU implementation, so on CPU each process normalises with its own
    batch statistics (gradients are still averaged over all processes).

    Args:
        module (nn.Module): The model, on the CPU.
        device_ids: Ignored. mmengine's Runner passes ``[LOCAL_RANK]``, which
            only makes sense for a GPU model.
        **kwargs: Other ``DistributedDataParallel`` options, e.g.
            ``find_unused_parameters``, ``broadcast_buffers``.
    """

    def __init__(self, module, device_ids=None, **kwargs):
        super().__init__(
            module=revert_sync_batchnorm(module), device_ids=None, **kwargs)


def setup_cpu_distributed(cfg: Config) -> bool:
    """Make ``cfg`` run distributed on CPU when torch has no CUDA.

    With ``cfg.launcher == 'pytorch'`` (torchrun, ``tools/dist_train.sh``)
    and no CUDA, this

    - uses the gloo backend: ``env_cfg.dist_cfg.backend`` 'nccl' (mmseg's
      default, which needs GPUs) becomes 'gloo', with a warning; set
      ``--cfg-options env_cfg.dist_cfg.backend=gloo`` to silence it;
    - creates the process group from torchrun's environment (``RANK``,
      ``WORLD_SIZE``, ``MASTER_ADDR``, ``MASTER_PORT``) with the other
      ``dist_cfg`` options (``timeout`` in seconds), so the Runner finds it
      initialised and skips mmengine's CUDA-only set-up;
    - wraps the model in :class:`CPUDistributedDataParallel` (a configured
      ``MMDistributedDataParallel`` wrapper keeps its options).

    Args:
        cfg (Config): The run's config, with ``launcher`` set. Modified.

    Returns:
        bool: True if the run was set up for distributed CPU, False if
        nothing was needed (not distributed, or CUDA available).

    Raises:
        RuntimeError: A launcher other than 'pytorch' without CUDA, or a
            process group that could not be created.
    """
    launcher = cfg.get('launcher', 'none')
    if launcher == 'none' or torch.cuda.is_available():
        return False
    if launcher != 'pytorch':
        raise RuntimeError(
            f"launcher '{launcher}' needs CUDA, which this torch does not "
            "have; for distributed training on CPU use --launcher pytorch "
            '(tools/dist_train.sh, tools/dist_test.sh or torchrun).')

    env_cfg = cfg.setdefault('env_cfg', {})
    dist_cfg = env_cfg.setdefault('dist_cfg', {})
    if dist_cfg.get('backend', 'nccl') == 'nccl':
        print_log(
            "env_cfg.dist_cfg.backend 'nccl' needs CUDA; using 'gloo' on "
            'this CPU-only machine.', logger='current', level=logging.WARNING)
        dist_cfg['backend'] = 'gloo'

    # The Runner looks wrappers up in mmengine's root registry, which finds
    # mmseg's entries only by their scoped name.
    wrapper_type = 'mmseg.CPUDistributedDataParallel'
    wrapper_cfg = cfg.get('model_wrapper_cfg')
    if wrapper_cfg is None:
        cfg.model_wrapper_cfg = dict(
            type=wrapper_type,
            find_unused_parameters=cfg.get('find_unused_parameters', False))
    elif wrapper_cfg.get('type', 'MMDistributedDataParallel') == \
            'MMDistributedDataParallel':
        wrapper_cfg['type'] = wrapper_type

    if not torch_dist.is_initialized():
        init_args = {k: v for k, v in dist_cfg.items() if k != 'backend'}
        if init_args.get('timeout') is not None:
            init_args['timeout'] = datetime.timedelta(
                seconds=init_args['timeout'])
        try:
            torch_dist.init_process_group(
                backend=dist_cfg['backend'], **init_args)
        except ValueError as error:  # torchrun's variables are missing
            raise RuntimeError(
                f'--launcher pytorch: could not create the process group '
                f'({error}); start the script with torchrun or '
                'tools/dist_train.sh, which set RANK, WORLD_SIZE, '
                'MASTER_ADDR and MASTER_PORT.') from error
    return True
