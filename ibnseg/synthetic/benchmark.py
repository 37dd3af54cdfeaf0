"""The embedded synthetic cross-domain benchmark behind ``tools/demo.py``:
generate the domains in the real on-disk layouts, train the plain, IBN-a
and IBN-b demo models on the source style with mmengine's Runner, evaluate
each on every style (and under appearance shifts) with the cross-domain
evaluation, and summarise over seeds."""
import json
import os.path as osp
import statistics
from collections import OrderedDict
from dataclasses import asdict, dataclass
from typing import Dict, List, Optional, Sequence

from mmengine.config import Config
from mmengine.logging import print_log
from mmengine.runner import Runner

from ibnseg.engine.fileio import atomic_write
from ibnseg.engine.progress import PhaseConsole, RunnerProgressHook
from ibnseg.engine.runner_setup import load_config
from ibnseg.evaluation.evaluate import evaluate_checkpoint, write_outputs
from ibnseg.evaluation.report import (ModelResult, json_number,
                                      summary_table)
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
    """The demo config of ``model`` (a key of ``DEMO_CONFIGS``) reading
    ``data_root``, training ``iters`` iterations with ``seed`` into
    ``work_dir``; ``adaptive_threads=False`` drops the config's
    AdaptiveThreadsHook (the caller fixed torch's threads)."""
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


def generate_data(data_root: str, preset: Preset, targets: Sequence[str],
                  seed: int = 0, nproc: int = 2,
                  progress: bool = True) -> int:
    """Write the source (GTA5 layout) and target (Cityscapes layout) styles,
    keeping data made with the same settings; returns the samples written."""
    written = 0
    for domain in (SOURCE_DOMAIN, *targets):
        source = domain == SOURCE_DOMAIN
        written += generate_domain_dataset(
            osp.join(data_root, domain), domain,
            preset.num_train if source else 0, preset.num_val,
            size=preset.size, seed=seed,
            layout='gta5' if source else 'cityscapes', nproc=nproc,
            progress=progress)['written']
    return written


def final_checkpoint(cfg: Config) -> str:
    """Where training ``cfg`` leaves its last checkpoint."""
    return osp.join(cfg.work_dir, f'iter_{cfg.train_cfg.max_iters}.pth')


def train(cfg: Config, hooks: Sequence = ()) -> str:
    """Train (or resume) one model with extra Runner ``hooks``; returns its
    final checkpoint, without training when that exists."""
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


def run_name(preset: Preset, data_seed: int = 0) -> str:
    """The folder of a training run below ``seed<k>/<model>/``, named by the
    settings the trained model depends on (``600iters-128x256-400frames``),
    so that only a run of the same settings is resumed or reused."""
    height, width = preset.size
    name = f'{preset.iters}iters-{height}x{width}-{preset.num_train}frames'
    return name if data_seed == 0 else f'{name}-data{data_seed}'


def _run_seed(out_dir: str, data_root: str, preset: Preset, seed: int,
              models: Sequence[str], targets: Sequence[str],
              shifts: Sequence[str], console: PhaseConsole,
              adaptive_threads: bool, data_seed: int) -> List[ModelResult]:
    """Train and evaluate every model with one seed; writes the report of
    ``<out_dir>/seed<seed>/``."""
    evaluations = []
    for model in models:
        name = DISPLAY_NAMES.get(model, model)
        work_dir = osp.join(out_dir, f'seed{seed}', model,
                            run_name(preset, data_seed))
        cfg = demo_config(model, data_root, preset.iters, seed, work_dir,
                          adaptive_threads)
        reused = osp.exists(final_checkpoint(cfg))
        with console.phase(f'train {name}', total=preset.iters) as line:
            checkpoint = train(cfg, [RunnerProgressHook(line)] if line else [])
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
    values = [(row, json_number(result.value(row, 'mIoU')))
              for row in (SOURCE_DOMAIN, 'target')]
    parts = [f'{row} {value:.1f}' for row, value in values
             if value is not None]
    return 'mIoU: ' + ', '.join(parts) if parts else ''


def summarize(results_by_seed: Dict[int, List[ModelResult]],
              metric: str = 'mIoU') -> dict:
    """Mean and sample standard deviation over seeds, per model and row
    (None where too few seeds have a value)."""
    seeds = sorted(results_by_seed)
    summary = OrderedDict()
    for index, result in enumerate(results_by_seed[seeds[0]]):
        rows = OrderedDict()
        for row in result.summary_rows:
            values = [json_number(results_by_seed[s][index].value(row, metric))
                      for s in seeds]
            present = [v for v in values if v is not None]
            rows[row] = dict(
                mean=statistics.mean(present) if present else None,
                std=statistics.stdev(present) if len(present) > 1 else None,
                values=values)
        summary[result.name] = rows
    return dict(metric=metric, seeds=seeds, models=summary)


def summary_markdown(summary: dict) -> str:
    """The over-seeds table: rows are domains, columns models."""
    models = summary['models']
    seeds = summary['seeds']
    body = []
    for row in next(iter(models.values())):
        cells = [row]
        for entry in (rows[row] for rows in models.values()):
            if entry['mean'] is None:
                cells.append('-')
            elif entry['std'] is None:
                cells.append(f'{entry["mean"]:.2f}')
            else:
                cells.append(f'{entry["mean"]:.2f} ± {entry["std"]:.2f}')
        body.append(cells)
    note = (f'mean ± sample standard deviation over {len(seeds)} seeds '
            f'({", ".join(map(str, seeds))})' if len(seeds) > 1 else
            f'seed {seeds[0]}')
    header = ['test'] + [f'{m} {summary["metric"]}' for m in models]
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

    Writes ``<out_dir>/seed<k>/`` (checkpoints and logs in
    ``<model>/<run_name>/``, the per-seed report and pictures) and
    ``<out_dir>/summary.{md,json}``. ``console`` shows a line per phase
    (default: everything printed as it comes); ``adaptive_threads``: see
    :func:`demo_config`.
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
        results[seed] = _run_seed(out_dir, data_root, preset, seed, models,
                                  targets, shifts, console, adaptive_threads,
                                  data_seed)
        if console.verbose:
            print(f'\nSeed {seed}:\n{summary_table(results[seed])}\n')
    summary = summarize(results)
    summary.update(preset=asdict(preset), targets=list(targets),
                   shifts=list(shifts))
    atomic_write(osp.join(out_dir, 'summary.md'), summary_markdown(summary))
    atomic_write(osp.join(out_dir, 'summary.json'),
                 json.dumps(summary, indent=2))
    return summary
