"""Distributed runs on machines whose torch has no CUDA (gloo over CPU).

mmengine's ``init_dist`` calls ``torch.cuda.set_device`` and its model
wrapper passes ``device_ids=[LOCAL_RANK]``, which ``DistributedDataParallel``
refuses for a CPU model: :func:`setup_cpu_distributed` avoids both before
the Runner is built.
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
    """``MMDistributedDataParallel`` for a model on the CPU: SyncBN becomes
    BN (torch has none on CPU), ``device_ids`` (the Runner's
    ``[LOCAL_RANK]``) is ignored."""

    def __init__(self, module, device_ids=None, **kwargs):
        super().__init__(
            module=revert_sync_batchnorm(module), device_ids=None, **kwargs)


def setup_cpu_distributed(cfg: Config) -> bool:
    """With ``cfg.launcher == 'pytorch'`` and no CUDA: gloo (in place of
    'nccl', with a warning), the process group created from torchrun's
    environment and ``dist_cfg`` (``timeout`` in seconds) so the Runner
    skips mmengine's CUDA set-up, and :class:`CPUDistributedDataParallel`
    (a configured ``MMDistributedDataParallel`` keeps its options). Returns
    whether it did; RuntimeError for another launcher without CUDA or a
    process group that cannot be created."""
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
