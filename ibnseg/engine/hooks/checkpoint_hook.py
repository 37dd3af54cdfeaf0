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

#: ``backend_args`` that make mmengine write checkpoints atomically.
ATOMIC_BACKEND_ARGS = dict(backend='atomic_local')
#: Checkpoint key of the torch random number generator states.
RNG_STATE_KEY = 'torch_rng_state'
#: The CheckpointHook method this hook replaces (see the comment on it).
_OVERRIDDEN = '_save_checkpoint_with_step'


@HOOKS.register_module()
class AtomicCheckpointHook(CheckpointHook):
    """mmengine's ``CheckpointHook`` that never leaves a broken checkpoint.

    Killed at any point (``SIGKILL``, out of memory, a pre-empted job), a run
    that used this hook can be continued with ``tools/train.py --resume``:
    ``last_checkpoint`` always names a complete checkpoint file. mmengine's
    hook does not guarantee that: it writes files in place, and with
    ``max_keep_ckpts`` it deletes the oldest checkpoint *before* saving the
    new one, so a kill in between leaves ``last_checkpoint`` naming a
    deleted file. This hook differs from it in four ways:

    1. Checkpoints are written through the ``'atomic_local'`` file backend
       (:class:`ibnseg.engine.fileio.AtomicLocalBackend`): a temporary file
       in the same folder, renamed into place once complete.
    2. ``last_checkpoint`` (what ``--resume`` reads) is replaced atomically,
       and only after the checkpoint it names is complete.
    3. Checkpoints beyond ``max_keep_ckpts`` are deleted only after that.
       A kill just before the deletion leaves one outdated file behind,
       which costs disk space, never progress.
    4. Temporary files of a killed save are removed before training starts.

    It also makes a resumed run continue exactly as the uninterrupted run
    would have (same seed, deterministic ops): the checkpoint keeps torch's
    random generator states, which a resume restores. Without them, dropout
    after a resume draws different masks. numpy's and Python's generators
    need no saving: they only drive the data pipeline, which mmengine
    replays up to the resumed iteration (with an ``InfiniteSampler``, as
    mmseg's configs use).

    Use it in place of ``CheckpointHook``, e.g. ``default_hooks = dict(
    checkpoint=dict(type='AtomicCheckpointHook', by_epoch=False,
    interval=4000))``; ``tools/train.py`` swaps a configured
    ``CheckpointHook`` for it.

    Args:
        save_rng_state (bool): Save torch's random generator states (CPU and
            CUDA) in each checkpoint under ``'torch_rng_state'`` and restore
            them on resume (``resume=True`` or a call of ``Runner.resume``:
            training starts at the checkpoint's epoch and iteration), not
            when ``load_from`` only loads the weights. Not restored when
            ``randomness.diff_rank_seed`` is set: only rank 0's states are
            saved. Defaults to True.
        backend_args (dict, optional): As in ``CheckpointHook``. Defaults to
            None, which means ``dict(backend='atomic_local')`` when the
            checkpoints go to a local folder. Other storages (``s3://``, ...)
            use mmengine's backend for their prefix, whose writes are only as
            atomic as that storage's uploads.
        **kwargs: Every other ``CheckpointHook`` option (``interval``,
            ``by_epoch``, ``max_keep_ckpts``, ``save_best``, ``out_dir``,
            ``filename_tmpl``, ...), with the same meaning and defaults.
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
            self.backend_args = dict(ATOMIC_BACKEND_ARGS)
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
        # Only a resume continues a run; loading weights to fine-tune leaves
        # the generators alone. A resume (Runner.resume) is what sets the
        # loop to the checkpoint's epoch and iteration; a load_from starts
        # at 0 while the checkpoint was saved at iteration >= 1.
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

    # An override of a private method of mmengine 0.10.7's CheckpointHook,
    # which every save (interval, last, best) goes through: it deletes the
    # outdated checkpoint before saving and writes last_checkpoint in place
    # with open(), and no public hook runs between those steps (there is
    # before_save_checkpoint, no after_save_checkpoint) nor does a file
    # backend see the last_checkpoint write. __init__ refuses an mmengine
    # without this method rather than silently losing the guarantees.
    def _save_checkpoint_with_step(self, runner, step, meta) -> None:
        """Save checkpoint ``step``, then point ``last_checkpoint`` at it,
        then delete outdated checkpoints: this order keeps a complete
        checkpoint named by ``last_checkpoint`` at every moment."""
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
        # Model-parallel runs save shards on every rank; the bookkeeping
        # below is the main process's alone.
        if not is_main_process():
            return
        atomic_write(
            osp.join(runner.work_dir, 'last_checkpoint'), str(self.last_ckpt))
        for outdated in outdated_steps:
            self._remove_checkpoint(self.filename_tmpl.format(outdated))

    def _keep_step(self, runner, step) -> List[int]:
        """Record ``step`` among the kept checkpoints (``max_keep_ckpts``).

        Returns:
            list[int]: The steps that fell out and are to be deleted once
            the new checkpoint is safely on disk.
        """
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
