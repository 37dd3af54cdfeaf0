"""A CheckpointHook whose checkpoints survive a kill at any moment."""
import os.path as osp
from typing import Any, List, Optional, Tuple

import mmengine
import torch

from mmengine.dist import is_main_process
from mmengine.fileio import LocalBackend, get_file_backend
from mmengine.hooks import CheckpointHook

from mmseg.registry import HOOKS
from ..fileio import atomic_write, remove_partial_files

#: Checkpoint key of the torch random number generator states.
RNG_STATE_KEY = 'torch_rng_state'
#: The private CheckpointHook method this hook replaces.
_OVERRIDDEN = '_save_checkpoint_with_step'


@HOOKS.register_module()
class AtomicCheckpointHook(CheckpointHook):
    """mmengine's ``CheckpointHook`` whose ``last_checkpoint`` always names a
    complete checkpoint, so that a run killed at any moment resumes
    (``tools/train.py`` swaps a configured ``CheckpointHook`` for it).

    mmengine's hook writes in place and deletes the oldest checkpoint
    before saving the new one. Here checkpoints are written atomically
    (``'atomic_local'`` backend), ``last_checkpoint`` is replaced after the
    checkpoint it names, outdated ones are deleted only then, and temporary
    files of a killed save are removed before training. Torch's generator
    states are saved too, so a resumed run continues as the uninterrupted
    one (dropout included; numpy's and Python's only drive the data
    pipeline, which mmengine replays).

    Args:
        save_rng_state (bool): Save torch's generator states (CPU and CUDA)
            under ``'torch_rng_state'`` and restore them on a resume (not
            on a ``load_from``, nor with ``randomness.diff_rank_seed``:
            only rank 0's are saved). Defaults to True.
        backend_args (dict, optional): Defaults to
            ``dict(backend='atomic_local')`` for a local folder.
        **kwargs: ``CheckpointHook`` options.
    """

    def __init__(self, save_rng_state: bool = True, **kwargs):
        if not callable(getattr(CheckpointHook, _OVERRIDDEN, None)):
            raise RuntimeError(
                f'AtomicCheckpointHook: mmengine {mmengine.__version__}\'s '
                f'CheckpointHook has no {_OVERRIDDEN}(), which this hook '
                'replaces to save checkpoints atomically (written for '
                'mmengine 0.10.7); install mmengine 0.10.7 '
                '(requirements/runtime.txt)')
        super().__init__(**kwargs)
        self.save_rng_state = save_rng_state
        # (epoch, iter, RNG states) of the last checkpoint loaded.
        self._loaded: Optional[Tuple[Any, Any, Optional[dict]]] = None

    def before_train(self, runner) -> None:
        out_dir = self.out_dir if self.out_dir is not None \
            else runner.work_dir
        if (self.backend_args is None and self.file_client_args is None
                and isinstance(get_file_backend(out_dir), LocalBackend)):
            self.backend_args = dict(backend='atomic_local')
        super().before_train(runner)
        if is_main_process() and isinstance(self.file_backend, LocalBackend):
            for folder in {runner.work_dir, self.out_dir}:
                for path in remove_partial_files(folder):
                    runner.logger.warning(
                        f'Removed {path}, left by an interrupted save.')
        self._restore_rng_state(runner)

    def before_save_checkpoint(self, runner, checkpoint: dict) -> None:
        if self.save_rng_state:
            checkpoint[RNG_STATE_KEY] = dict(
                cpu=torch.get_rng_state(),
                cuda=torch.cuda.get_rng_state_all()
                if torch.cuda.is_available() else [])

    def after_load_checkpoint(self, runner, checkpoint: dict) -> None:
        # Kept until before_train: Runner.resume may reseed after loading,
        # and only there is it known whether the load was a resume.
        meta = checkpoint.get('meta') or {}
        self._loaded = (meta.get('epoch'), meta.get('iter'),
                        checkpoint.get(RNG_STATE_KEY))

    def _restore_rng_state(self, runner) -> None:
        loaded, self._loaded = self._loaded, None
        if not self.save_rng_state or loaded is None:
            return
        epoch, step, state = loaded
        # only a resume (not load_from, which starts at 0) puts the loop at
        # the checkpoint's epoch and iteration
        if state is None or (runner.epoch, runner.iter) != (epoch, step):
            return
        if runner.cfg.get('randomness', {}).get('diff_rank_seed', False):
            runner.logger.warning(
                'Not restoring the random generator states on resume: with '
                'diff_rank_seed each rank has its own, and only rank 0 '
                'saved them.')
            return
        torch.set_rng_state(state['cpu'])
        if torch.cuda.is_available() and \
                len(state['cuda']) == torch.cuda.device_count():
            torch.cuda.set_rng_state_all(state['cuda'])
        runner.logger.info('Restored the random generator states saved '
                           'with the checkpoint.')

    # Every save of mmengine 0.10.7's hook goes through this private method,
    # and no public hook or file backend sees its steps in between.
    def _save_checkpoint_with_step(self, runner, step, meta) -> None:
        """Save checkpoint ``step``, then point ``last_checkpoint`` at it,
        then delete outdated checkpoints."""
        outdated_steps = self._keep_step(runner, step)
        filename = self.filename_tmpl.format(step)
        self.last_ckpt = self.file_backend.join_path(self.out_dir, filename)
        # Recorded before saving: the checkpoint carries the message hub.
        runner.message_hub.update_info('last_ckpt', self.last_ckpt)
        runner.save_checkpoint(
            self.out_dir,
            filename,
            self.file_client_args,
            save_optimizer=self.save_optimizer,
            save_param_scheduler=self.save_param_scheduler,
            meta=meta,
            by_epoch=self.by_epoch,
            backend_args=self.backend_args,
            **self.args)
        # model-parallel runs save shards on every rank; bookkeeping is one
        if not is_main_process():
            return
        atomic_write(
            osp.join(runner.work_dir, 'last_checkpoint'), str(self.last_ckpt))
        for outdated in outdated_steps:
            self._remove_checkpoint(self.filename_tmpl.format(outdated))

    def _keep_step(self, runner, step) -> List[int]:
        """Record ``step`` among the ``max_keep_ckpts`` kept; returns the
        steps that fell out, deleted once the new checkpoint is saved."""
        if self.max_keep_ckpts <= 0 or (
                self.keep_ckpt_ids and self.keep_ckpt_ids[-1] == step):
            # A best-checkpoint save re-saves the step just kept.
            return []
        outdated = []
        if len(self.keep_ckpt_ids) == self.max_keep_ckpts:
            outdated.append(self.keep_ckpt_ids.popleft())
        self.keep_ckpt_ids.append(step)
        runner.message_hub.update_info('keep_ckpt_ids',
                                       list(self.keep_ckpt_ids))
        return outdated

    def _remove_checkpoint(self, filename: str) -> None:
        path = self.file_backend.join_path(self.out_dir, filename)
        if self.file_backend.isfile(path):
            self.file_backend.remove(path)
        elif self.file_backend.isdir(path):  # DeepSpeed saves folders
            self.file_backend.rmtree(path)
