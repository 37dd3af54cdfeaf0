"""Config and Runner set-up shared by ``tools/train.py`` and ``tools/test.py``:
each function applies one command-line option as mmseg 1.2.2's tools do,
with errors that name the file or option at fault."""
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
import traceback
import warnings
from typing import Callable, Optional

from mmengine.config import Config
from mmengine.config.utils import ConfigParsingError
from mmengine.device import get_device
from mmengine.logging import print_log
from mmengine.runner import CheckpointLoader, Runner

from mmseg.registry import RUNNERS
from ..config_scope import configs_dir
from ..datasets.layouts import DatasetError
from ..datasets.roots import unset_variable_message
from ..utils.checkpoint import CheckpointError
from .amp import cpu_bf16_autocast_problem
from .cfg_options import CFG_OPTIONS_HELP, CfgOptionsAction, key_problem
from .distributed import setup_cpu_distributed
from .sizes import step_type
from .tta import tta_pipeline_for

__all__ = [
    'add_runner_args', 'build_runner', 'check_checkpoint',
    'check_checkpoint_loads', 'check_load_from', 'check_vis_backends',
    'enable_amp', 'enable_tensorboard', 'enable_tta', 'enable_visualization',
    'exit_with_error', 'load_config', 'parse_runner_args', 'run_or_exit',
    'save_predictions', 'set_resume', 'set_work_dir', 'use_atomic_checkpoints'
]

#: The file in a work dir naming the run's latest checkpoint (mmengine's
#: ``CheckpointHook`` writes it); a ``load_from`` ending in it names a run.
LAST_CHECKPOINT = 'last_checkpoint'


def add_runner_args(parser: argparse.ArgumentParser) -> None:
    """Add ``--cfg-options`` (:class:`CfgOptionsAction`), ``--launcher``,
    ``--local_rank`` and ``--verbose``."""
    parser.add_argument(
        '--cfg-options', nargs='+', action=CfgOptionsAction,
        help=CFG_OPTIONS_HELP)
    parser.add_argument(
        '--launcher', choices=['none', 'pytorch', 'slurm', 'mpi'],
        default='none', help='job launcher')
    # torch >= 2.0's launcher passes --local-rank, older ones --local_rank.
    parser.add_argument('--local_rank', '--local-rank', type=int, default=0)
    parser.add_argument(
        '--verbose', action='store_true',
        help="print mmengine's whole log (config, hooks, every logged "
        'line) instead of one line per phase')


def parse_runner_args(parser: argparse.ArgumentParser) -> argparse.Namespace:
    """Parse the command line; export ``LOCAL_RANK`` for mmengine when a
    launcher passed it as an option rather than in the environment."""
    args = parser.parse_args()
    os.environ.setdefault('LOCAL_RANK', str(args.local_rank))
    return args


def _first_syntax_error(path: str, chain: tuple = ()):
    """(path, the configs inheriting from it, SyntaxError) of the first file
    of a config's ``_base_`` chain that does not parse (mmengine's error
    says ``File "<unknown>"``)."""
    if not path.endswith('.py') or any(osp.samefile(path, p) for p in chain):
        return None
    with open(path, encoding='utf-8') as f:
        source = f.read()
    try:
        ast.parse(source, path)
    except SyntaxError as error:
        return path, chain, error
    for base in Config._get_base_files(path):
        base_path = osp.normpath(Config._get_cfg_path(base, path)[0])
        found = _first_syntax_error(base_path, chain + (path, ))
        if found:
            return found
    return None


def _syntax_error_message(config_path: str, error: SyntaxError) -> str:
    """``'<file> (a base config of <config>, via ...), line <n>: <msg>'``,
    then the line with Python's caret."""
    # bases of a lazy-import config are not walked: the line is still right
    path, chain = f'{config_path} (or one of its base configs)', ()
    try:
        path, chain, error = _first_syntax_error(config_path) or (
            path, chain, error)
    except Exception:  # a missing base, say: mmengine's error is enough
        pass
    if chain:
        via = ', via ' + ', '.join(chain[1:]) if len(chain) > 1 else ''
        path += f' (a base config of {chain[0]}{via})'
    shown = traceback.format_exception_only(SyntaxError, error)[1:-1]
    return f'{path}, line {error.lineno}: {error.msg}' + ''.join(
        '\n' + line.rstrip('\n') for line in shown)


def _nearest_configs(config_path: str, count: int = 3) -> list:
    """Up to ``count`` shipped configs (not ``_base_/``) whose file names are
    closest to ``config_path``'s, relative to the current folder when below
    it."""
    shipped, by_name = osp.realpath(configs_dir()), {}
    for path in sorted(glob.glob(osp.join(shipped, '**', '*.py'),
                                 recursive=True)):
        if '_base_' in osp.relpath(path, shipped).split(os.sep):
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
    """Read a config file and apply ``--cfg-options`` and ``--launcher``
    (``default_scope`` defaults to 'mmseg'). A missing file is a
    FileNotFoundError suggesting the nearest shipped configs; a syntax
    error (naming the file and line), an unparsable config, an empty
    ``{{$VAR:default}}`` or an option the config cannot hold a ValueError.
    """
    if not osp.isfile(config_path):
        near = _nearest_configs(config_path)
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
        raise ValueError(_syntax_error_message(config_path, error)) from None
    except ConfigParsingError as error:  # e.g. lazy-import and plain mixed
        raise ValueError(f'{config_path}: {error}') from None
    except KeyError as error:
        # mmengine 0.10.7's message for {{$VAR:default}} left empty
        unset = re.search(r'`(\w+)` cannot be found in `os.environ`',
                          str(error))
        if unset is None:
            raise
        raise ValueError(f'{config_path}: '
                         f'{unset_variable_message(unset.group(1))}') from None
    # The Runner formats the config with yapf each time it logs, dumps or
    # checkpoints it (seconds each: most of a short run); mmengine's own
    # layout is one key per line already. Config.fromfile drops
    # format_python_code for configs without lazy imports.
    object.__setattr__(cfg, '_format_python_code', False)
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
    """``--amp``: mmengine's ``AmpOptimWrapper`` with dynamic loss scaling,
    or on CPU :class:`CPUAmpOptimWrapper`; ValueError for another wrapper
    type or a torch that cannot autocast to bfloat16 on CPU."""
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


TENSORBOARD_BACKEND = 'TensorboardVisBackend'


def enable_tensorboard(cfg: Config) -> None:
    """``--tensorboard``: add mmengine's ``TensorboardVisBackend`` to the
    visualizer's backends (event files in ``<timestamp>/vis_data/``)."""
    backends = list(cfg.visualizer.get('vis_backends') or [])
    if TENSORBOARD_BACKEND not in map(step_type, backends):
        backends.append(dict(type=TENSORBOARD_BACKEND))
    cfg.visualizer.vis_backends = backends


def check_vis_backends(cfg: Config) -> None:
    """Check ``visualizer.vis_backends`` before anything is built (mmengine
    finds out at the first logged value): a list of dicts, and TensorBoard
    installed for a ``TensorboardVisBackend``."""
    backends = (cfg.get('visualizer') or {}).get('vis_backends')
    if backends is None:
        return
    if not isinstance(backends, (list, tuple)) or not all(
            isinstance(b, dict) and 'type' in b for b in backends):
        raise ValueError(
            f'visualizer.vis_backends must be a list of dicts with a type, '
            f"e.g. [dict(type='LocalVisBackend')]; got {backends!r}")
    if TENSORBOARD_BACKEND in map(step_type, backends) and not any(
            importlib.util.find_spec(name)
            for name in ('tensorboard', 'tensorboardX')):
        raise ValueError(
            f'{TENSORBOARD_BACKEND} (--tensorboard or visualizer.'
            f'vis_backends) needs TensorBoard, which is not installed: pip '
            "install tensorboard (or ibnseg's extra: pip install "
            "'ibnseg[tensorboard]')")


def use_atomic_checkpoints(cfg: Config) -> None:
    """Make a configured ``CheckpointHook`` an ``AtomicCheckpointHook`` (same
    options), so that ``--resume`` always finds a complete checkpoint."""
    hook = cfg.get('default_hooks', {}).get('checkpoint')
    if hook is not None and hook.get('type') == 'CheckpointHook':
        hook.type = 'AtomicCheckpointHook'


def set_resume(cfg: Config, resume: bool) -> None:
    """``--resume``: continue the run in ``cfg.work_dir`` from the checkpoint
    its ``last_checkpoint`` names (mmengine's ``resume=True`` without
    ``load_from``), checked before anything is built; without that file the
    run starts as without ``--resume`` (a fine-tune run resumes itself,
    never its source)."""
    record = osp.join(cfg.work_dir, LAST_CHECKPOINT)
    cfg.resume = bool(resume) and osp.isfile(record)
    if not cfg.resume:
        return
    cfg.load_from = None
    with open(record) as f:
        checkpoint = f.read().strip()
    if '://' not in checkpoint and not osp.isfile(checkpoint):
        raise FileNotFoundError(
            f'--resume: {record} names {checkpoint!r}, which does not exist; '
            'point it at an existing checkpoint of this run, or train '
            'without --resume')
    check_checkpoint_loads(checkpoint, resume=True)


def check_load_from(cfg: Config, option: str = 'load_from') -> None:
    """Check ``load_from`` (a checkpoint file or URL, as for mmengine's
    Runner) before anything is built; a checkpoint of a run stopped before
    its planned iterations is a warning. A fine-tune config's missing
    checkpoint is named with the command that makes it, its
    ``source_config``'s training. ``option`` names the setting in messages:
    ``'load_from'`` or ``'--cfg-options load_from'``.
    """
    load_from = cfg.get('load_from')
    if load_from is None:
        return
    load_from = str(load_from)
    source = cfg.get('source_config') if option == 'load_from' else None
    if '://' not in load_from and not osp.isfile(load_from):
        made_by = (f'this config fine-tunes the model that `python '
                   f'tools/train.py {source}` trains (`--resume` finishes '
                   'an interrupted run): run that first; ' if source else '')
        raise FileNotFoundError(
            f'{option}: {load_from} does not exist (no such checkpoint). '
            f'{made_by}to start from another checkpoint, pass --cfg-options '
            'load_from=<checkpoint file>')
    content = check_checkpoint_loads(load_from)
    try:  # mmengine's record of the iterations done and planned
        done = int(content['meta']['iter'])
        planned = int(content['message_hub']['runtime_info']['max_iters'])
    except (KeyError, TypeError, ValueError):
        done = planned = 0
    if done < planned:
        print_log(f'{option}: {load_from} is from a run that stopped after '
                  f'{done} of its {planned} iterations: starting from a '
                  'model trained for fewer iterations than its config set',
                  logger='current', level=logging.WARNING)


def check_checkpoint(checkpoint: str) -> None:
    """FileNotFoundError for a local ``checkpoint`` that is missing."""
    if '://' not in checkpoint and not osp.isfile(checkpoint):
        raise FileNotFoundError(f'checkpoint not found: {checkpoint}')


def check_checkpoint_loads(checkpoint: str, resume: bool = False):
    """Load ``checkpoint`` (a path, URL or ``open-mmlab://`` name) as the
    Runner will (ibnseg's safe loaders) and return its content; with
    ``resume`` it must hold the ``meta`` epoch and iter ``Runner.resume``
    reads (else a CheckpointError naming it)."""
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
    return content


def enable_visualization(cfg: Config, show: bool = False,
                         show_dir: Optional[str] = None,
                         wait_time: float = 2) -> None:
    """``--show`` / ``--show-dir``: draw predictions with
    ``DomainSegVisualizationHook`` (in place of mmseg's) into
    ``<work_dir>/<show_dir>/vis_data/vis_image/`` (set the work dir
    first); the config needs ``default_hooks.visualization``."""
    hook = cfg.get('default_hooks', {}).get('visualization')
    if hook is None:
        raise ValueError(
            '--show/--show-dir need default_hooks.visualization in the '
            "config, e.g. visualization=dict(type='SegVisualizationHook')")
    hook.draw = True
    if step_type(hook) == 'SegVisualizationHook':  # scoped or not
        hook.type = hook.type.replace('SegVis', 'DomainSegVis')
    if show:
        hook.show = True
        hook.wait_time = wait_time
    if show_dir:
        cfg.visualizer.save_dir = osp.join(cfg.work_dir, show_dir)


def enable_tta(cfg: Config) -> None:
    """``--tta``: test with the config's ``tta_model`` and ``tta_pipeline``'s
    augmentations on ``test_dataloader`` and every ``cross_domain`` domain
    (:func:`ibnseg.engine.tta.tta_pipeline_for`); after ``--scale``.
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
    """``--out``: the test metric(s) write each prediction into ``out_dir``
    as a PNG of class indices."""
    evaluators = cfg.test_evaluator
    for evaluator in (evaluators if isinstance(evaluators, (list, tuple))
                      else [evaluators]):
        evaluator['output_dir'] = out_dir
        # as mmseg's test.py sets it; IoUMetric takes and ignores it
        evaluator['keep_results'] = True


def run_or_exit(run: Callable[[], object]):
    """Call ``run``; missing or unusable data or checkpoints end the tool
    with :func:`exit_with_error`, not a traceback from inside the Runner."""
    try:
        return run()
    except (FileNotFoundError, CheckpointError, DatasetError) as error:
        exit_with_error(error)


def exit_with_error(error: Exception):
    """End the tool with ``error: <message>`` (one line) and status 2."""
    print(f'error: {error}', file=sys.stderr)
    sys.exit(2)


def build_runner(cfg: Config) -> Runner:
    """Build the Runner as mmseg's tools do, after setting up distributed
    CPU runs (:func:`ibnseg.engine.distributed.setup_cpu_distributed`)."""
    setup_cpu_distributed(cfg)
    if 'runner_type' in cfg:
        return RUNNERS.build(cfg)
    return Runner.from_cfg(cfg)
