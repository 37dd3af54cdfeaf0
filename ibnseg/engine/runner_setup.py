"""Config and Runner set-up shared by ``tools/train.py`` and ``tools/test.py``.

Each function applies one command-line option to a config the way mmseg
1.2.2's own tools do, with errors that name the file or option at fault.
"""
import argparse
import ast
import logging
import os
import os.path as osp
from typing import Optional

from mmengine.config import Config, DictAction
from mmengine.logging import print_log
from mmengine.runner import Runner

from mmseg.registry import RUNNERS
from .distributed import setup_cpu_distributed

__all__ = [
    'add_runner_args', 'build_runner', 'check_checkpoint', 'check_resumable',
    'enable_amp', 'enable_tta', 'enable_visualization', 'load_config',
    'parse_runner_args', 'save_predictions', 'set_work_dir',
    'use_atomic_checkpoints'
]


def add_runner_args(parser: argparse.ArgumentParser) -> None:
    """Add the options both tools share: ``--cfg-options``, ``--launcher``
    and ``--local_rank``."""
    parser.add_argument(
        '--cfg-options', nargs='+', action=DictAction,
        help='override config settings, key=value pairs such as '
        'train_cfg.max_iters=100 or key="[a,b]" for lists (quotes needed, '
        'no white space)')
    parser.add_argument(
        '--launcher', choices=['none', 'pytorch', 'slurm', 'mpi'],
        default='none', help='job launcher')
    # torch >= 2.0's launcher passes --local-rank, older ones --local_rank.
    parser.add_argument('--local_rank', '--local-rank', type=int, default=0)


def parse_runner_args(parser: argparse.ArgumentParser) -> argparse.Namespace:
    """Parse the command line; export ``LOCAL_RANK`` for mmengine when a
    launcher passed it as an option rather than in the environment."""
    args = parser.parse_args()
    os.environ.setdefault('LOCAL_RANK', str(args.local_rank))
    return args


def _first_syntax_error(path: str, chain: tuple = ()):
    """(path, the configs inheriting from it, SyntaxError) of the first
    file of a config's inheritance chain that does not parse, walked the way
    mmengine walks it (the file, then its ``_base_`` files in order)."""
    if not path.endswith('.py') or any(
            osp.samefile(path, p) for p in chain):
        return None
    with open(path, encoding='utf-8') as f:
        source = f.read()
    try:
        compile(source, path, 'exec', ast.PyCF_ONLY_AST)
    except SyntaxError as error:
        return path, chain, error
    for base in Config._get_base_files(path):
        base_path = osp.normpath(Config._get_cfg_path(base, path)[0])
        found = _first_syntax_error(base_path, chain + (path, ))
        if found:
            return found
    return None


def load_config(config_path: str, cfg_options: Optional[dict] = None,
                launcher: str = 'none') -> Config:
    """Read a config file and apply ``--cfg-options`` and ``--launcher``.

    ``default_scope`` defaults to 'mmseg': ibnseg registers its modules in
    mmseg's registries, which a config without a scope would not search.

    Raises:
        FileNotFoundError: ``config_path`` is not a file.
        ValueError: The config or one of its ``_base_`` files has a syntax
            error; the message names that file and the line (mmengine's own
            error says ``File "<unknown>"``).
    """
    if not osp.isfile(config_path):
        raise FileNotFoundError(f'config file not found: {config_path}')
    try:
        cfg = Config.fromfile(config_path)
    except SyntaxError as error:
        # if the file is not found (bases of a lazy-import config are not
        # walked), the line is still right: say where it may be
        path, chain = f'{config_path} (or one of its base configs)', ()
        try:
            path, chain, error = _first_syntax_error(config_path) or (
                path, chain, error)
        except Exception:  # e.g. a base that is missing: mmengine's error
            pass
        if chain:
            via = ', via ' + ', '.join(chain[1:]) if len(chain) > 1 else ''
            path += f' (a base config of {chain[0]}{via})'
        text = (error.text or '').rstrip('\n')
        indent = len(text) - len(text.lstrip())
        if text and error.offset:
            text = text.lstrip() + '\n    ' + ' ' * max(
                error.offset - 1 - indent, 0) + '^'
        raise ValueError(f'{path}, line {error.lineno}: {error.msg}' +
                         (f'\n    {text}' if text else '')) from None
    cfg.launcher = launcher
    if cfg_options:
        cfg.merge_from_dict(cfg_options)
    if cfg.get('default_scope') is None:
        cfg.default_scope = 'mmseg'
    return cfg


def set_work_dir(cfg: Config, work_dir: Optional[str],
                 config_path: str) -> None:
    """``--work-dir`` if given, else the config's ``work_dir``, else
    ``./work_dirs/<config file name>``."""
    if work_dir is not None:
        cfg.work_dir = work_dir
    elif cfg.get('work_dir') is None:
        cfg.work_dir = osp.join('./work_dirs',
                                osp.splitext(osp.basename(config_path))[0])


def enable_amp(cfg: Config) -> None:
    """``--amp``: turn the config's ``OptimWrapper`` into an
    ``AmpOptimWrapper`` with dynamic loss scaling.

    Raises:
        ValueError: The config's optimizer wrapper is another type.
    """
    wrapper_type = cfg.optim_wrapper.get('type', 'OptimWrapper')
    if wrapper_type == 'AmpOptimWrapper':
        print_log('AMP training is already enabled in the config.',
                  logger='current', level=logging.WARNING)
        return
    if wrapper_type != 'OptimWrapper':
        raise ValueError(
            f'--amp needs optim_wrapper.type OptimWrapper, but the config '
            f'has {wrapper_type!r}')
    cfg.optim_wrapper.type = 'AmpOptimWrapper'
    cfg.optim_wrapper.loss_scale = 'dynamic'


def use_atomic_checkpoints(cfg: Config) -> None:
    """Save checkpoints with ``AtomicCheckpointHook`` (same options) where
    the config uses mmengine's ``CheckpointHook``, so that ``--resume``
    always finds a complete checkpoint."""
    hook = cfg.get('default_hooks', {}).get('checkpoint')
    if hook is not None and hook.get('type') == 'CheckpointHook':
        hook.type = 'AtomicCheckpointHook'


def check_resumable(cfg: Config) -> None:
    """``--resume``: fail early, naming the files, when the work dir's
    ``last_checkpoint`` names a checkpoint that is not there (mmengine would
    fail deep inside loading). No ``last_checkpoint`` is fine: training
    starts from scratch, as in mmseg."""
    if cfg.get('load_from') is not None:  # resumes from load_from instead
        return
    record = osp.join(cfg.work_dir, 'last_checkpoint')
    if not osp.isfile(record):
        return
    with open(record) as f:
        checkpoint = f.read().strip()
    if '://' not in checkpoint and not osp.isfile(checkpoint):
        raise FileNotFoundError(
            f'--resume: {record} names {checkpoint!r}, which does not exist; '
            'point it at an existing checkpoint of this run, or pass '
            '--cfg-options load_from=<checkpoint> to resume from that one')


def check_checkpoint(checkpoint: str) -> None:
    """Raise FileNotFoundError for a local ``checkpoint`` that is missing
    (URLs and ``open-mmlab://`` style names are left to mmengine)."""
    if '://' not in checkpoint and not osp.isfile(checkpoint):
        raise FileNotFoundError(f'checkpoint not found: {checkpoint}')


def enable_visualization(cfg: Config, show: bool = False,
                         show_dir: Optional[str] = None,
                         wait_time: float = 2) -> None:
    """``--show`` / ``--show-dir``: draw predictions with mmseg's
    ``SegVisualizationHook`` (every ``interval``-th batch, 50 by default).

    The painted images go to ``<show_dir>/vis_data/vis_image/``; a relative
    ``show_dir`` is taken relative to ``cfg.work_dir`` (set it first), not
    to the current folder as in mmseg. A ``SegVisualizationHook`` becomes
    ibnseg's ``DomainSegVisualizationHook`` (same drawing), which puts each
    sample's domain into the picture's name: images of the same file name
    in two domains would otherwise overwrite each other.

    Raises:
        ValueError: The config has no ``default_hooks.visualization``.
    """
    hook = cfg.get('default_hooks', {}).get('visualization')
    if hook is None:
        raise ValueError(
            '--show/--show-dir need default_hooks.visualization in the '
            "config, e.g. visualization=dict(type='SegVisualizationHook')")
    hook.draw = True
    scope, _, name = str(hook.get('type')).rpartition('.')
    if name == 'SegVisualizationHook':
        hook.type = (f'{scope}.' if scope else '') + \
            'DomainSegVisualizationHook'
    if show:
        hook.show = True
        hook.wait_time = wait_time
    if show_dir:
        cfg.visualizer.save_dir = osp.join(cfg.work_dir, show_dir)


def enable_tta(cfg: Config) -> None:
    """``--tta``: test with the config's ``tta_pipeline`` and ``tta_model``.

    Raises:
        ValueError: The config lacks ``tta_pipeline`` or ``tta_model``.
    """
    missing = [k for k in ('tta_pipeline', 'tta_model') if k not in cfg]
    if missing:
        raise ValueError(f'--tta needs {" and ".join(missing)} in the config')
    cfg.test_dataloader.dataset.pipeline = cfg.tta_pipeline
    cfg.tta_model.module = cfg.model
    cfg.model = cfg.tta_model


def save_predictions(cfg: Config, out_dir: str) -> None:
    """``--out``: have the test metric(s) write each prediction as a
    ``<image name>.png`` of class indices into ``out_dir``."""
    evaluators = cfg.test_evaluator
    for evaluator in (evaluators if isinstance(evaluators, (list, tuple))
                      else [evaluators]):
        evaluator['output_dir'] = out_dir
        # mmseg's test.py sets this too; IoUMetric takes and ignores it.
        evaluator['keep_results'] = True


def build_runner(cfg: Config) -> Runner:
    """Build the Runner as mmseg's tools do (``Runner.from_cfg``, or the
    ``runner_type`` from the RUNNERS registry), after setting up distributed
    CPU runs (:func:`ibnseg.engine.distributed.setup_cpu_distributed`)."""
    setup_cpu_distributed(cfg)
    if 'runner_type' in cfg:
        return RUNNERS.build(cfg)
    return Runner.from_cfg(cfg)
