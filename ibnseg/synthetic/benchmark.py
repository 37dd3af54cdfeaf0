"""The embedded synthetic cross-domain benchmark behind ``tools/demo.py``.

One run: generate the synthetic domains in the real on-disk layouts, train
the plain, IBN-a and IBN-b demo models from scratch on the source style with
mmengine's Runner, evaluate each on every style (and under appearance shifts)
with the cross-domain evaluation, and summarise over seeds. Every step uses
the same configs, datasets and evaluation code as real data.
"""
import json
import math
import os.path as osp
import statistics
from collections import OrderedDict
from dataclasses import asdict, dataclass
from typing import Dict, List, Optional, Sequence

from mmengine.config import Config
from mmengine.logging import print_log
from mmengine.runner import Runner

from ibnseg.engine.fileio import atomic_write
from ibnseg.engine.progress import PhaseConsole, TrainProgressHook
from ibnseg.engine.runner_setup import load_config
from ibnseg.evaluation.evaluate import evaluate_checkpoint, write_outputs
from ibnseg.evaluation.report import ModelResult, summary_table
from ibnseg.utils.markdown import markdown_table
from .generate import generate_domain_dataset

REPO_ROOT = osp.dirname(osp.dirname(osp.dirname(osp.abspath(__file__))))
DEMO_CONFIGS = OrderedDict(
    plain='configs/demo/fcn_r18-tiny-d8_synthetic.py',
    ibn_a='configs/demo/fcn_r18-tiny-ibn-a-d8_synthetic.py',
    ibn_b='configs/demo/fcn_r18-tiny-ibn-b-d8_synthetic.py')
# the models' names on the console
DISPLAY_NAMES = dict(plain='plain', ibn_a='IBN-a', ibn_b='IBN-b')
# where the demo configs expect the data; relocated when --data-root differs
CONFIG_DATA_ROOT = 'data/synthetic/'
SOURCE_DOMAIN = 'source'


@dataclass
class Preset:
    """How big a run is: image size, samples and training iterations."""
    size: tuple
    num_train: int
    num_val: int
    iters: int


PRESETS = OrderedDict(
    # fits the README's 10-minute target on 2 CPU cores (docs/demo.md)
    default=Preset(size=(128, 256), num_train=400, num_val=100, iters=600),
    # longer and more faithful: 4x the pixels, 4x the data, 5x the steps
    long=Preset(size=(256, 512), num_train=1600, num_val=200, iters=3000),
    # seconds: checks that an installation runs end to end; not a result
    smoke=Preset(size=(32, 64), num_train=8, num_val=2, iters=4),
)


def _relocate(node, old: str, new: str):
    """Replace the data root prefix ``old`` by ``new`` in every string."""
    if isinstance(node, dict):
        return type(node)((k, _relocate(v, old, new)) for k, v in node.items())
    if isinstance(node, (list, tuple)):
        return type(node)(_relocate(v, old, new) for v in node)
    if isinstance(node, str) and node.startswith(old):
        return new + node[len(old):]
    return node


def demo_config(model: str, data_root: str, iters: int, seed: int,
                work_dir: str, adaptive_threads: bool = True) -> Config:
    """The demo config of ``model`` for one run.

    Args:
        model (str): A key of ``DEMO_CONFIGS``.
        data_root (str): Folder holding the generated domains.
        iters (int): Training iterations (the schedule follows).
        seed (int): Training seed (initialisation and data order).
        work_dir (str): Where checkpoints and logs go.
        adaptive_threads (bool): Keep the config's AdaptiveThreadsHook
            (False: the caller fixed torch's threads).
    """
    cfg = load_config(osp.join(REPO_ROOT, DEMO_CONFIGS[model]))
    root = data_root.rstrip('/') + '/'
    for key in ('train_dataloader', 'cross_domain'):
        cfg[key] = _relocate(cfg[key].to_dict(), CONFIG_DATA_ROOT, root)
    cfg.train_cfg.max_iters = iters
    cfg.param_scheduler[0].end = iters
    cfg.default_hooks.checkpoint.interval = iters
    cfg.default_hooks.logger.interval = max(1, min(50, iters // 10))
    # The benchmark evaluates every domain itself after training.
    cfg.val_dataloader = cfg.val_cfg = cfg.val_evaluator = None
    cfg.train_cfg.val_interval = iters + 1
    cfg.randomness = dict(seed=seed)
    cfg.work_dir = work_dir
    cfg.experiment_name = f'{model}_seed{seed}'
    if not adaptive_threads:
        cfg.custom_hooks = [h for h in cfg.get('custom_hooks', [])
                            if h['type'] != 'AdaptiveThreadsHook']
    return cfg


def generate_data(data_root: str,
                  preset: Preset,
                  targets: Sequence[str],
                  seed: int = 0,
                  nproc: int = 2,
                  progress: bool = True) -> int:
    """Write the source (GTA5 layout) and target (Cityscapes layout) styles.

    Existing data made with the same settings is kept (seconds to check).

    Returns:
        int: The number of samples written (0: all were there).
    """
    written = generate_domain_dataset(
        osp.join(data_root, SOURCE_DOMAIN), SOURCE_DOMAIN, preset.num_train,
        preset.num_val, size=preset.size, seed=seed, layout='gta5',
        nproc=nproc, progress=progress)['written']
    for domain in targets:
        written += generate_domain_dataset(
            osp.join(data_root, domain), domain, 0, preset.num_val,
            size=preset.size, seed=seed, layout='cityscapes', nproc=nproc,
            progress=progress)['written']
    return written


def train(cfg: Config, hooks: Sequence = ()) -> str:
    """Train (or resume) one model; returns its final checkpoint.

    ``hooks`` are registered on the Runner besides the config's own.
    """
    final = final_checkpoint(cfg)
    if osp.exists(final):
        print_log(f'{final} exists: not training again', logger='current')
        return final
    cfg.resume = osp.exists(osp.join(cfg.work_dir, 'last_checkpoint'))
    runner = Runner.from_cfg(cfg)
    for hook in hooks:
        runner.register_hook(hook)
    runner.train()
    return final


def final_checkpoint(cfg: Config) -> str:
    """Where training ``cfg`` leaves its last checkpoint."""
    return osp.join(cfg.work_dir, f'iter_{cfg.train_cfg.max_iters}.pth')


def run_name(preset: Preset, data_seed: int = 0) -> str:
    """The folder of a training run below ``seed<k>/<model>/``, named by the
    settings the trained model depends on (``600iters-128x256-400frames``).

    A run resumes from, and is reused as, only what a run of the same
    settings saved there: runs of other presets or ``--iters`` into the same
    output folder (whose ``last_checkpoint`` would otherwise be resumed)
    each keep their own folder.
    """
    height, width = preset.size
    name = f'{preset.iters}iters-{height}x{width}-{preset.num_train}frames'
    return name if data_seed == 0 else f'{name}-data{data_seed}'


def run_seed(out_dir: str, data_root: str, preset: Preset, seed: int,
             models: Sequence[str], targets: Sequence[str],
             shifts: Sequence[str],
             console: Optional[PhaseConsole] = None,
             adaptive_threads: bool = True,
             data_seed: int = 0) -> List[ModelResult]:
    """Train and evaluate every model with one seed; writes the report.

    Model ``m`` trains in ``<out_dir>/seed<seed>/<m>/<run name>/`` (see
    :func:`run_name`); the report and pictures go to ``seed<seed>/``.
    """
    console = console or PhaseConsole(osp.join(out_dir, 'demo.log'),
                                      verbose=True)
    evaluations = []
    for model in models:
        name = DISPLAY_NAMES.get(model, model)
        work_dir = osp.join(out_dir, f'seed{seed}', model,
                            run_name(preset, data_seed))
        cfg = demo_config(model, data_root, preset.iters, seed, work_dir,
                          adaptive_threads)
        reused = osp.exists(final_checkpoint(cfg))
        with console.phase(f'train {name}', total=preset.iters) as line:
            checkpoint = train(cfg, [TrainProgressHook(line)] if line else [])
            if line and reused:
                line.done, line.note = preset.iters, 'reused'
        with console.phase(f'evaluate {name}') as line:
            evaluations.append(
                evaluate_checkpoint(cfg, checkpoint, model,
                                    domains=[SOURCE_DOMAIN, *targets],
                                    shifts=shifts, progress=console.verbose))
            if line:
                line.note = _miou_note(evaluations[-1][0])
    write_outputs(osp.join(out_dir, f'seed{seed}'), evaluations)
    return [result for result, _ in evaluations]


def _miou_note(result: ModelResult) -> str:
    """``'mIoU: source 56.7, target 13.6'`` (the rows that exist)."""
    parts = [f'{row} {_number(result.value(row, "mIoU")):.1f}'
             for row in (SOURCE_DOMAIN, 'target')
             if _number(result.value(row, 'mIoU')) is not None]
    return 'mIoU: ' + ', '.join(parts) if parts else ''


def _number(value) -> Optional[float]:
    """A float, or None for a missing or NaN value (JSON has no NaN)."""
    return None if value is None or math.isnan(value) else float(value)


def _mean_std(values: List[Optional[float]]):
    """Mean and sample standard deviation of the values that are there
    (None where there are too few)."""
    values = [v for v in values if v is not None]
    if not values:
        return None, None
    return (statistics.mean(values),
            statistics.stdev(values) if len(values) > 1 else None)


def summarize(results_by_seed: Dict[int, List[ModelResult]],
              metric: str = 'mIoU') -> dict:
    """Mean and sample standard deviation over seeds, per model and row."""
    seeds = sorted(results_by_seed)
    first = results_by_seed[seeds[0]]
    summary = OrderedDict()
    for index, result in enumerate(first):
        rows = OrderedDict()
        for row in result.summary_rows:
            values = [_number(results_by_seed[s][index].value(row, metric))
                      for s in seeds]
            mean, std = _mean_std(values)
            rows[row] = dict(mean=mean, std=std, values=values)
        summary[result.name] = rows
    return dict(metric=metric, seeds=seeds, models=summary)


def summary_markdown(summary: dict) -> str:
    """The over-seeds table: rows are domains, columns models."""
    models = list(summary['models'])
    rows = list(next(iter(summary['models'].values())))
    n = len(summary['seeds'])
    header = ['test'] + [f'{m} {summary["metric"]}' for m in models]
    body = []
    for row in rows:
        cells = [row]
        for model in models:
            entry = summary['models'][model][row]
            if entry['mean'] is None:
                cells.append('-')
            elif entry['std'] is None:
                cells.append(f'{entry["mean"]:.2f}')
            else:
                cells.append(f'{entry["mean"]:.2f} ± {entry["std"]:.2f}')
        body.append(cells)
    note = (f'mean ± sample standard deviation over {n} seeds '
            f'({", ".join(map(str, summary["seeds"]))})' if n > 1 else
            f'seed {summary["seeds"][0]}')
    return (markdown_table(header, body) +
            f'\n\n{summary["metric"]} (%), {note}.\n')


def run_benchmark(out_dir: str,
                  data_root: str,
                  preset: Preset,
                  seeds: Sequence[int] = (0, ),
                  models: Sequence[str] = tuple(DEMO_CONFIGS),
                  targets: Sequence[str] = ('real', 'dusk', 'fog'),
                  shifts: Sequence[str] = (),
                  nproc: int = 2,
                  data_seed: int = 0,
                  console: Optional[PhaseConsole] = None,
                  adaptive_threads: bool = True) -> dict:
    """Generate, train, evaluate and summarise; returns the summary.

    Writes ``<out_dir>/seed<k>/`` (checkpoints, logs, the per-seed report
    and pictures) and ``<out_dir>/summary.{md,json}``. ``console`` shows a
    line per phase; by default everything is printed as it comes.
    ``adaptive_threads``: see :func:`demo_config`.
    """
    unknown = [m for m in models if m not in DEMO_CONFIGS]
    if unknown:
        raise ValueError(f'unknown demo model(s) {unknown}; expected some '
                         f'of {list(DEMO_CONFIGS)}')
    console = console or PhaseConsole(osp.join(out_dir, 'demo.log'),
                                      verbose=True)
    with console.phase('generate data') as line:
        written = generate_data(data_root, preset, targets, seed=data_seed,
                                nproc=nproc, progress=console.verbose)
        if line:
            line.note = (f'{written} samples written to {data_root}'
                         if written else f'reused {data_root}')
    results = OrderedDict()
    for seed in seeds:
        if console.verbose or len(seeds) > 1:
            console.print(f'seed {seed}:')
        results[seed] = run_seed(out_dir, data_root, preset, seed, models,
                                 targets, shifts, console, adaptive_threads,
                                 data_seed)
        if console.verbose:
            print(f'\nSeed {seed}:\n{summary_table(results[seed])}\n')
    summary = summarize(results)
    summary['preset'] = asdict(preset)
    summary['targets'] = list(targets)
    summary['shifts'] = list(shifts)
    text = summary_markdown(summary)
    atomic_write(osp.join(out_dir, 'summary.md'), text.encode())
    atomic_write(
        osp.join(out_dir, 'summary.json'),
        json.dumps(summary, indent=2).encode())
    return summary
