"""Config and Runner set-up shared by ``tools/train.py`` and ``tools/test.py``.

Each function applies one command-line option to a config the way mmseg
1.2.2's own tools do, with errors that name the file or option at fault.
"""
import argparse
import ast
import difflib
import glob
import importlib.util
import logging
import os
import os.path as osp
import re
import sys
import warnings
from typing import Callable, Optional

from mmengine.config import Config
from mmengine.device import get_device
from mmengine.logging import print_log
from mmengine.runner import CheckpointLoader, Runner

from mmseg.registry import RUNNERS
from ..config_scope import configs_dir
from ..datasets.layouts import DatasetError
from ..datasets.roots import unset_variable_message
from ..utils.checkpoint import CheckpointError, load_checkpoint_safely
from .amp import cpu_bf16_autocast_problem
from .cfg_options import CFG_OPTIONS_HELP, CfgOptionsAction, key_problem
from .distributed import setup_cpu_distributed
from .tta import tta_pipeline_for

__all__ = [
    'LAST_CHECKPOINT', 'add_runner_args', 'build_runner', 'check_checkpoint',
    'check_checkpoint_loads', 'check_load_from', 'check_resumable',
    'check_vis_backends', 'enable_amp', 'enable_tensorboard', 'enable_tta',
    'enable_visualization', 'exit_with_error',
    'load_config', 'nearest_configs', 'parse_runner_args',
    'read_last_checkpoint',
    'resume_after_load_from', 'save_predictions', 'set_work_dir',
    'use_atomic_checkpoints'
]

#: The file mmengine's ``CheckpointHook`` keeps in a work dir; its one line
#: is the path of the run's latest checkpoint. A ``load_from`` ending in it
#: names a run rather than a checkpoint (see :func:`check_load_from`).
LAST_CHECKPOINT = 'last_checkpoint'


def add_runner_args(parser: argparse.ArgumentParser) -> None:
    """Add the options both tools share: ``--cfg-options`` (a malformed
    pair is a usage error, see ``ibnseg.engine.cfg_options``),
    ``--launcher`` and ``--local_rank``."""
    parser.add_argument(
        '--cfg-options', nargs='+', action=CfgOptionsAction,
        help=CFG_OPTIONS_HELP)
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


#: The shipped configs, for suggestions: the checkout's ``configs/`` (which
#: ``ibnseg/.mim/configs`` links to) or the installed copy.
CONFIGS_DIR = osp.realpath(configs_dir())


def nearest_configs(config_path: str, count: int = 3) -> list:
    """Up to ``count`` shipped configs whose file names are closest to
    ``config_path``'s (difflib), as paths to type: relative to the current
    folder when below it; bases (``_base_/``) are not runs. For
    ``configs/ibn_b_cityscape.py``: ``configs/ibn_b_cityscapes.py`` first.
    """
    by_name = {}
    for path in sorted(glob.glob(osp.join(CONFIGS_DIR, '**', '*.py'),
                                 recursive=True)):
        if '_base_' in osp.relpath(path, CONFIGS_DIR).split(os.sep):
            continue
        by_name.setdefault(osp.basename(path), []).append(path)
    names = difflib.get_close_matches(
        osp.basename(config_path), list(by_name), n=count)
    paths = [p for name in names for p in by_name[name]][:count]
    cwd = os.getcwd()
    return [osp.relpath(p) if p.startswith(cwd + os.sep) else p
            for p in paths]


def load_config(config_path: str, cfg_options: Optional[dict] = None,
                launcher: str = 'none') -> Config:
    """Read a config file and apply ``--cfg-options`` and ``--launcher``.

    ``default_scope`` defaults to 'mmseg': ibnseg registers its modules in
    mmseg's registries, which a config without a scope would not search.

    Raises:
        FileNotFoundError: ``config_path`` is not a file; the message
            suggests the shipped configs of the nearest names.
        ValueError: The config or one of its ``_base_`` files has a syntax
            error; the message names that file and the line (mmengine's own
            error says ``File "<unknown>"``). Or it reads an environment
            variable (``{{$VAR:default}}``) that is set but empty, such as
            an empty ``IBNSEG_<DATASET>_ROOT`` (mmengine: a ``KeyError``
            saying it "cannot be found"). Or a ``cfg_options`` key does not
            fit the config (a list index out of range, a key below a
            number); the message names the option.
    """
    if not osp.isfile(config_path):
        near = nearest_configs(config_path)
        raise FileNotFoundError(
            f'config file not found: {config_path}' +
            (f'; nearest: {", ".join(near)}' if near else ''))
    try:
        with warnings.catch_warnings():
            # mmengine resolves `mmseg::` bases with pkg_resources, which
            # setuptools >= 80.9 warns about at each (re)import
            warnings.filterwarnings(
                'ignore', 'pkg_resources is deprecated as an API',
                UserWarning)
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
    except KeyError as error:
        # mmengine 0.10.7's message for {{$VAR:default}} left empty
        unset = re.search(r'`(\w+)` cannot be found in `os.environ`',
                          str(error))
        if unset is None:
            raise
        raise ValueError(f'{config_path}: '
                         f'{unset_variable_message(unset.group(1))}') from None
    cfg.launcher = launcher
    for key, value in (cfg_options or {}).items():
        try:
            cfg.merge_from_dict({key: value})
        except (AttributeError, KeyError, TypeError, ValueError) as error:
            why = key_problem(cfg.to_dict(), key) or (
                error.args[0] if error.args else type(error).__name__)
            raise ValueError(f'--cfg-options {key}={value!r} does not fit '
                             f'the config {config_path}: {why}') from None
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
    ``AmpOptimWrapper`` with dynamic loss scaling, or, where training runs
    on CPU (mmengine's ``get_device()``; its ``AmpOptimWrapper`` needs a
    GPU), into :class:`~ibnseg.engine.amp.CPUAmpOptimWrapper` (bfloat16
    autocast).

    Raises:
        ValueError: The config's optimizer wrapper is another type, or the
            run is on CPU and this torch cannot autocast to bfloat16 there.
    """
    wrapper_type = cfg.optim_wrapper.get('type', 'OptimWrapper')
    if wrapper_type in ('AmpOptimWrapper', 'CPUAmpOptimWrapper'):
        print_log('AMP training is already enabled in the config.',
                  logger='current', level=logging.WARNING)
        return
    if wrapper_type != 'OptimWrapper':
        raise ValueError(
            f'--amp needs optim_wrapper.type OptimWrapper, but the config '
            f'has {wrapper_type!r}')
    if get_device() == 'cpu':
        problem = cpu_bf16_autocast_problem()
        if problem:
            raise ValueError(
                '--amp: no GPU, and bfloat16 autocast on CPU is not '
                f'available ({problem}); train without --amp')
        cfg.optim_wrapper.type = 'CPUAmpOptimWrapper'
        print_log('--amp on CPU: bfloat16 autocast', logger='current')
        return
    cfg.optim_wrapper.type = 'AmpOptimWrapper'
    cfg.optim_wrapper.loss_scale = 'dynamic'


#: mmengine's TensorBoard backend; it writes through torch.utils.tensorboard
#: (the ``tensorboard`` package) or tensorboardX.
TENSORBOARD_BACKEND = 'TensorboardVisBackend'
TENSORBOARD_INSTALL = ("pip install tensorboard (or ibnseg's extra: pip "
                       "install 'ibnseg[tensorboard]')")


def _importable(name: str) -> bool:
    try:
        return importlib.util.find_spec(name) is not None
    except (ImportError, ValueError):
        return False


def enable_tensorboard(cfg: Config) -> None:
    """``--tensorboard``: add mmengine's ``TensorboardVisBackend`` to the
    visualizer's backends (its event files go to the run's
    ``<timestamp>/vis_data/``). :func:`check_vis_backends` then checks that
    it can write."""
    backends = list(cfg.visualizer.get('vis_backends') or [])
    if not any(isinstance(b, dict) and str(b.get('type')).split('.')[-1]
               == TENSORBOARD_BACKEND for b in backends):
        backends.append(dict(type=TENSORBOARD_BACKEND))
    cfg.visualizer.vis_backends = backends


def check_vis_backends(cfg: Config) -> None:
    """Check ``visualizer.vis_backends`` before anything is built: a list of
    dicts (mmengine's visualizer says so only once built), and a
    ``TensorboardVisBackend`` only where TensorBoard is installed (mmengine
    fails at the first logged value, after the model and data are built).

    Raises:
        ValueError: Naming the setting and what was expected.
    """
    visualizer = cfg.get('visualizer') or {}
    backends = visualizer.get('vis_backends')
    if backends is None:
        return
    if not isinstance(backends, (list, tuple)) or not all(
            isinstance(b, dict) and 'type' in b for b in backends):
        raise ValueError(
            f'visualizer.vis_backends must be a list of dicts with a type, '
            f"e.g. [dict(type='LocalVisBackend')]; got {backends!r}")
    wants_tensorboard = any(str(b['type']).split('.')[-1] ==
                            TENSORBOARD_BACKEND for b in backends)
    if wants_tensorboard and not (_importable('tensorboard')
                                  or _importable('tensorboardX')):
        raise ValueError(
            f'{TENSORBOARD_BACKEND} (--tensorboard or visualizer.'
            f'vis_backends) needs TensorBoard, which is not installed: '
            f'{TENSORBOARD_INSTALL}')


def use_atomic_checkpoints(cfg: Config) -> None:
    """Save checkpoints with ``AtomicCheckpointHook`` (same options) where
    the config uses mmengine's ``CheckpointHook``, so that ``--resume``
    always finds a complete checkpoint."""
    hook = cfg.get('default_hooks', {}).get('checkpoint')
    if hook is not None and hook.get('type') == 'CheckpointHook':
        hook.type = 'AtomicCheckpointHook'


def check_resumable(cfg: Config) -> None:
    """``--resume``: fail early, naming the files, when the work dir's
    ``last_checkpoint`` names a checkpoint that is not there or cannot be
    resumed from (:func:`check_checkpoint_loads`; mmengine would fail deep
    inside loading). No ``last_checkpoint`` is fine: training starts from
    scratch, as in mmseg."""
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
    check_checkpoint_loads(checkpoint, resume=True)


def read_last_checkpoint(record: str) -> str:
    """The checkpoint a work dir's ``last_checkpoint`` file names.

    The hook writes an absolute path. When that path does not exist but a
    file of its name lies beside ``record`` (a work dir copied from another
    machine or moved), that file is the one.

    Raises:
        FileNotFoundError: Neither exists; the message names both.
    """
    with open(record) as f:
        checkpoint = f.read().strip()
    if not checkpoint:
        raise FileNotFoundError(f'{record} is empty: it should name the '
                                "run's latest checkpoint")
    if '://' in checkpoint or osp.isfile(checkpoint):
        return checkpoint
    beside = osp.join(osp.dirname(record), osp.basename(checkpoint))
    if osp.isfile(beside):
        return beside
    raise FileNotFoundError(
        f'{record} names {checkpoint!r}, which does not exist (nor does '
        f'{beside!r})')


def _names_a_run(load_from) -> bool:
    return isinstance(load_from, str) and \
        osp.basename(load_from) == LAST_CHECKPOINT


def resume_after_load_from(cfg: Config) -> None:
    """``--resume`` with a ``load_from`` that names another run (its
    ``last_checkpoint``, as the fine-tune configs do): that run is where
    training starts, never a point to resume from (mmengine would resume
    from it, restoring its iteration count, optimizer and schedule: a
    fine-tune run would end at once). So the run continues from its own work
    dir's ``last_checkpoint`` when there is one, and otherwise starts from
    ``load_from`` as without ``--resume``.

    A ``load_from`` naming a checkpoint file keeps mmengine's meaning:
    ``--resume`` resumes from that file.
    """
    if not cfg.get('resume') or not _names_a_run(cfg.get('load_from')):
        return
    if osp.isfile(osp.join(cfg.work_dir, LAST_CHECKPOINT)):
        cfg.load_from = None  # mmengine resumes from the work dir's record
    else:
        cfg.resume = False


def _checkpoint_progress(checkpoint: str):
    """(iterations done, iterations its run was set to) as an mmengine
    checkpoint records them, or None for a file without that record (a
    bare state dict, say). Loaded safely (tensors and mmengine's types)."""
    content = load_checkpoint_safely(checkpoint, map_location='cpu')
    try:
        done = int(content['meta']['iter'])
        planned = int(content['message_hub']['runtime_info']['max_iters'])
    except (KeyError, TypeError, ValueError):
        return None
    return done, planned


def check_load_from(cfg: Config, option: str = 'load_from') -> None:
    """Check ``load_from`` before anything is built, and resolve a run's
    ``last_checkpoint`` to the checkpoint it names.

    ``load_from`` may be a checkpoint file, or ``<work dir>/last_checkpoint``
    meaning the latest checkpoint of the run in that work dir, whatever its
    iteration count. The fine-tune configs (``configs/finetune/``) start
    from ``work_dirs/<source config name>/last_checkpoint``, the work dir
    ``tools/train.py <source config>`` writes, and name that config in
    ``source_config`` so that a missing source says which command makes it.
    ``cfg.load_from`` becomes the checkpoint's path.

    The checkpoint's own record (iterations done, and its run's
    ``max_iters``, both saved by mmengine) must show a finished run when it
    was reached through ``last_checkpoint``: a run still going or killed
    would otherwise hand over a half-trained model unnoticed. A checkpoint
    file named explicitly is the user's choice: an unfinished one is only
    warned about. URLs and ``open-mmlab://``-style names are only loaded
    (:func:`check_checkpoint_loads`).

    Args:
        cfg (Config): The config (``load_from`` is updated).
        option (str): How messages name the setting: ``'load_from'`` (from
            the config) or ``'--cfg-options load_from'``. Only for the
            config's own ``load_from`` is ``source_config`` quoted.

    Raises:
        FileNotFoundError: The checkpoint or ``last_checkpoint`` is missing.
        ValueError: ``last_checkpoint`` names a checkpoint of an unfinished
            run.
        CheckpointError: The checkpoint cannot be read or is refused.
    """
    load_from = cfg.get('load_from')
    if load_from is None:
        return
    if '://' in str(load_from):
        check_checkpoint_loads(str(load_from))
        return
    load_from = str(load_from)
    by_run = _names_a_run(load_from)
    other = ('to start from another checkpoint, pass --cfg-options '
             'load_from=<checkpoint file>, or load_from=<work dir>/'
             f'{LAST_CHECKPOINT} for the latest checkpoint of another run '
             '(one trained with a long-name config or --work-dir, say)')
    if not osp.isfile(load_from):
        source = cfg.get('source_config') if option == 'load_from' else None
        made_by = (f'this config fine-tunes the model that `python '
                   f'tools/train.py {source}` trains: run that first; '
                   if source else '')
        what = 'no run has saved a checkpoint there yet' if by_run else \
            'no such checkpoint'
        raise FileNotFoundError(f'{option}: {load_from} does not exist '
                                f'({what}). {made_by}{other}')
    checkpoint = read_last_checkpoint(load_from) if by_run else load_from
    progress = (None if '://' in checkpoint
                else _checkpoint_progress(checkpoint))
    if progress is not None and progress[0] < progress[1]:
        done, planned = progress
        stopped = (f'{checkpoint} is from a run that stopped after {done} '
                   f'of its {planned} iterations')
        if by_run:
            source = cfg.get('source_config')
            finish = (f'`python tools/train.py {source} --resume`'
                      if source and option == 'load_from' else
                      'that run\'s training command with --resume')
            raise ValueError(
                f'{option}: {load_from} names {stopped} (still running, or '
                f'killed). Finish it with {finish}, or use this checkpoint '
                f'anyway by naming it: --cfg-options load_from={checkpoint}')
        print_log(f'{option}: {stopped}: starting from a model trained for '
                  'fewer iterations than its config set', logger='current',
                  level=logging.WARNING)
    cfg.load_from = checkpoint


def check_checkpoint(checkpoint: str) -> None:
    """Raise FileNotFoundError for a local ``checkpoint`` that is missing
    (for a tool that loads it right after; see
    :func:`check_checkpoint_loads` for one that builds a Runner first)."""
    if '://' not in checkpoint and not osp.isfile(checkpoint):
        raise FileNotFoundError(f'checkpoint not found: {checkpoint}')


def check_checkpoint_loads(checkpoint: str, resume: bool = False) -> None:
    """Load ``checkpoint`` as the Runner will (mmengine's
    ``CheckpointLoader``, i.e. ibnseg's safe loaders; a URL is downloaded
    into the cache the Runner then reads), before anything is built, so that
    a missing, unreadable or refused file ends the tool at once, not after
    the model and datasets are built.

    Args:
        checkpoint (str): A path, URL or ``open-mmlab://``-style name.
        resume (bool): It is to be resumed from: it must hold the ``meta``
            iteration and epoch that ``Runner.resume`` reads.

    Raises:
        FileNotFoundError: A local ``checkpoint`` is missing.
        CheckpointError: It cannot be downloaded or read, is refused, or
            cannot be resumed from; the message names it.
    """
    check_checkpoint(checkpoint)
    # silent: the Runner logs the load it does itself
    content = CheckpointLoader.load_checkpoint(checkpoint, map_location='cpu',
                                               logger='silent')
    meta = content.get('meta', {}) if isinstance(content, dict) else {}
    if resume and not {'epoch', 'iter'} <= set(meta):
        raise CheckpointError(
            f'{checkpoint}: cannot resume from it: it has no meta epoch and '
            'iter, so it is not a checkpoint saved during training; to start '
            'from its weights, pass --cfg-options load_from=<it> without '
            '--resume')


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
    """``--tta``: test with the config's ``tta_model`` (mmseg's
    ``SegTTAModel``) and ``tta_pipeline``'s augmentations, applied to
    ``test_dataloader`` and to every domain of the ``cross_domain`` section,
    each keeping its own loading, scale and labels
    (:func:`ibnseg.engine.tta.tta_pipeline_for`). Run after
    :func:`ibnseg.engine.sizes.apply_sizes`: ``--scale`` sets the scale the
    ratios multiply.

    Raises:
        ValueError: The config lacks ``tta_pipeline`` or ``tta_model``, or
            its ``tta_pipeline`` holds no resize or flip choices.
    """
    missing = [k for k in ('tta_pipeline', 'tta_model') if k not in cfg]
    if missing:
        raise ValueError(f'--tta needs {" and ".join(missing)} in the config')
    loaders = {'test_dataloader': cfg.test_dataloader}
    domains = (cfg.get('cross_domain') or {}).get('domains') or {}
    for name, spec in domains.items():
        loaders[f'cross_domain.domains.{name}.dataloader'] = spec['dataloader']
    for key, loader in loaders.items():
        dataset = loader.get('dataset') or {}
        if 'pipeline' not in dataset:
            raise ValueError(f'--tta: {key}.dataset has no pipeline')
        dataset['pipeline'] = tta_pipeline_for(
            dataset['pipeline'], cfg.tta_pipeline, f'{key}.dataset.pipeline')
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


def run_or_exit(run: Callable[[], object]):
    """Call ``run`` (a Runner's ``train``/``test``); missing or unusable
    data (a dataset's folder or file, named in its message) or a checkpoint
    that cannot be used (a backbone's ``Pretrained`` weights, say) ends the
    tool with that message and status 2 instead of a traceback from deep
    inside the Runner. Other errors keep their traceback."""
    try:
        return run()
    except (FileNotFoundError, CheckpointError, DatasetError) as error:
        exit_with_error(error)


def exit_with_error(error: Exception):
    """End the tool with ``error: <message>`` (one line) and status 2."""
    print(f'error: {error}', file=sys.stderr)
    sys.exit(2)


def build_runner(cfg: Config) -> Runner:
    """Build the Runner as mmseg's tools do (``Runner.from_cfg``, or the
    ``runner_type`` from the RUNNERS registry), after setting up distributed
    CPU runs (:func:`ibnseg.engine.distributed.setup_cpu_distributed`)."""
    setup_cpu_distributed(cfg)
    if 'runner_type' in cfg:
        return RUNNERS.build(cfg)
    return Runner.from_cfg(cfg)
