"""The embedded default: a synthetic cross-domain benchmark on a laptop CPU.

Generates street scenes in a GTA5-like source style and in target styles,
trains a small plain ResNet, IBN-a and IBN-b from scratch on the source,
evaluates them on every style and under appearance shifts, and prints the
cross-domain table; one console line per phase, the libraries' output in
``<out>/demo.log``. Re-running reuses the data and finished trainings and
resumes an interrupted one. See docs/demo.md.
"""
import argparse
import dataclasses
import os
import os.path as osp
import sys
import time

import torch

import ibnseg  # noqa: F401  (registers ibnseg's modules)
from ibnseg.datasets.transforms import APPEARANCE_SHIFTS
from ibnseg.engine.cpu import retain_freed_memory
from ibnseg.engine.fileio import check_output_options
from ibnseg.engine.progress import PhaseConsole, format_duration
from ibnseg.synthetic.benchmark import (DEMO_CONFIGS, DISPLAY_NAMES, PRESETS,
                                        REPO_ROOT, run_benchmark, run_name,
                                        summary_markdown)
from ibnseg.synthetic.styles import DOMAIN_STYLES


def threads_option(text: str):
    """``auto`` or a number of threads >= 1."""
    if text == 'auto':
        return text
    try:
        value = int(text)
    except ValueError:
        value = 0
    if value < 1:
        raise argparse.ArgumentTypeError(
            f"expected 'auto' or a number of threads >= 1, got {text!r}")
    return value


def parse_args(argv=None):
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument(
        '--preset', choices=list(PRESETS), default='default',
        help='run size: "default" fits 10 minutes on 2 CPU cores; "long" '
        'is larger and more faithful (about an hour on 2 cores); "smoke" '
        'takes seconds and only checks that everything runs')
    parser.add_argument('--iters', type=int,
                        help='training iterations (overrides the preset)')
    parser.add_argument('--seeds', type=int, nargs='+', default=[0],
                        help='training seeds; several give mean and spread')
    parser.add_argument('--models', nargs='+', default=list(DEMO_CONFIGS),
                        choices=list(DEMO_CONFIGS))
    parser.add_argument(
        '--targets', nargs='+', default=['real', 'dusk', 'fog'],
        choices=[d for d in DOMAIN_STYLES if d != 'source'],
        help='target styles to evaluate on')
    parser.add_argument(
        '--shifts', nargs='*', default=['rgb+50', 'night0.5'],
        choices=list(APPEARANCE_SHIFTS), metavar='SHIFT',
        help='appearance shifts evaluated on every domain, of '
        f'{", ".join(APPEARANCE_SHIFTS)}; none with an empty list')
    parser.add_argument('--out', default=os.path.join('outputs', 'demo'),
                        help='output folder')
    parser.add_argument(
        '--data-root', help='where the generated data goes (default: '
        'data/synthetic, or data/synthetic-<preset> for other presets)')
    parser.add_argument('--nproc', type=int, default=2,
                        help='processes generating the data')
    parser.add_argument(
        '--threads', type=threads_option, default='auto',
        help="torch CPU threads while training: 'auto' (default) gives it "
        'the cores other programs leave free, re-checked every 20 '
        'iterations; a number fixes it')
    parser.add_argument(
        '--malloc', choices=['retain', 'system'], default='retain',
        help="'retain' (default) keeps freed memory in glibc's malloc "
        'instead of unmapping it after every step (fewer page faults, '
        "faster CPU training); 'system' leaves the allocator alone")
    parser.add_argument(
        '--verbose', action='store_true',
        help="print mmengine's full logs instead of one line per phase")
    args = parser.parse_args(argv)
    if args.iters is not None and args.iters < 1:
        parser.error(f'--iters must be >= 1, got {args.iters}')
    args.data_root = args.data_root or osp.join(
        REPO_ROOT, 'data', 'synthetic' if args.preset == 'default' else
        f'synthetic-{args.preset}')
    # before any work: a bad output location fails now, not after training
    check_output_options(parser, dirs={'--out': args.out,
                                       '--data-root': args.data_root})
    return args


def main(argv=None):
    args = parse_args(argv)
    if args.malloc == 'retain' and not retain_freed_memory():
        print('--malloc retain: this C library is not glibc; using its '
              'allocator as it is')
    if args.threads != 'auto':
        torch.set_num_threads(args.threads)
    preset = PRESETS[args.preset]
    if args.iters:
        preset = dataclasses.replace(preset, iters=args.iters)
    console = PhaseConsole(osp.join(args.out, 'demo.log'), args.verbose)
    models = ', '.join(DISPLAY_NAMES[m] for m in args.models)
    console.print(
        f'ibnseg demo: {models} trained on the synthetic source style, '
        f'tested on {", ".join(args.targets)} (preset {args.preset}: '
        f'{preset.iters} iterations at {preset.size[0]}x{preset.size[1]})')
    if not args.verbose:
        console.print(f'full logs: {console.log_file}')
    start = time.time()
    with console.quiet():
        summary = run_benchmark(
            args.out, args.data_root, preset, seeds=args.seeds,
            models=args.models, targets=args.targets, shifts=args.shifts,
            nproc=args.nproc, console=console,
            adaptive_threads=args.threads == 'auto')
    out = osp.abspath(args.out)
    seed = f'seed{args.seeds[0]}'
    console.print('\nCross-domain mIoU, trained on the source style only:\n')
    console.print(summary_markdown(summary))
    where = [
        ('summary.md, .json', 'the table above'),
        (f'{seed}/results.md', 'every row and metric (also .json, .csv)'),
        (f'{seed}/<model>/', 'per_class_iou.png, samples_<row>.png'),
        (f'{seed}/<model>/{run_name(preset)}/',
         f'iter_{preset.iters}.pth, mmengine\'s log in <timestamp>/'),
        ('demo.log', 'everything the libraries printed'),
    ]
    console.print(f'Done in {format_duration(time.time() - start)}. '
                  f'Outputs in {out}:')
    width = max(len(path) for path, _ in where)
    for path, what in where:
        console.print(f'  {path.ljust(width)}  {what}')
    return 0


if __name__ == '__main__':
    sys.exit(main())
