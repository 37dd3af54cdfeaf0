"""The embedded default: a synthetic cross-domain benchmark on a laptop CPU.

    python tools/demo.py [--preset default|long] [--seeds 0 1 2]
        [--out outputs/demo] [--data-root data/synthetic]
        [--models plain ibn_a ibn_b] [--targets real dusk fog]
        [--shifts night0.5 rgb+50] [--iters N]

Generates street scenes in a GTA5-like source style (GTA5 layout) and in
target styles (Cityscapes layout), trains a small plain ResNet, IBN-a and
IBN-b from scratch on the source, evaluates all of them on every style and
under appearance shifts, and prints the cross-domain table. Outputs: per seed
``<out>/seed<k>/`` (results.md/json/csv, per-class IoU and sample PNGs,
checkpoints and logs), and ``<out>/summary.md|json`` over the seeds.
Re-running reuses the data and finished trainings. See docs/demo.md.
"""
import argparse
import dataclasses
import os
import sys
import time

import torch

import ibnseg  # noqa: F401  (registers ibnseg's modules)
from ibnseg.synthetic.benchmark import (DEMO_CONFIGS, PRESETS, REPO_ROOT,
                                        run_benchmark, summary_markdown)
from ibnseg.synthetic.styles import DOMAIN_STYLES


def parse_args(argv=None):
    parser = argparse.ArgumentParser(
        description='Synthetic cross-domain benchmark: plain vs IBN-a vs '
        'IBN-b, trained on a source style, tested on every style')
    parser.add_argument(
        '--preset', choices=list(PRESETS), default='default',
        help='run size: "default" fits 10 minutes on 2 CPU cores; "long" '
        'is larger and more faithful (about an hour on 2 cores)')
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
        help='appearance shifts (ibnseg.datasets.transforms.APPEARANCE_SHIFTS)'
        ' evaluated on every domain; none with an empty list')
    parser.add_argument('--out', default=os.path.join('outputs', 'demo'),
                        help='output folder')
    parser.add_argument(
        '--data-root', help='where the generated data goes (default: '
        'data/synthetic, or data/synthetic-<preset> for other presets)')
    parser.add_argument('--nproc', type=int, default=2,
                        help='processes generating the data')
    parser.add_argument('--threads', type=int,
                        help='torch CPU threads (default: all cores)')
    args = parser.parse_args(argv)
    if args.iters is not None and args.iters < 1:
        parser.error(f'--iters must be >= 1, got {args.iters}')
    from ibnseg.datasets.transforms import APPEARANCE_SHIFTS
    unknown = [s for s in args.shifts if s not in APPEARANCE_SHIFTS]
    if unknown:
        parser.error(f'unknown --shifts {unknown}; known: '
                     f'{", ".join(APPEARANCE_SHIFTS)}')
    return args


def main(argv=None):
    args = parse_args(argv)
    if args.threads:
        torch.set_num_threads(args.threads)
    preset = PRESETS[args.preset]
    if args.iters:
        preset = dataclasses.replace(preset, iters=args.iters)
    data_root = args.data_root or os.path.join(
        REPO_ROOT, 'data',
        'synthetic' if args.preset == 'default' else f'synthetic-{args.preset}')
    start = time.time()
    summary = run_benchmark(
        args.out, data_root, preset, seeds=args.seeds, models=args.models,
        targets=args.targets, shifts=args.shifts, nproc=args.nproc)
    minutes = (time.time() - start) / 60
    print('\nCross-domain mIoU, trained on the source style only:\n')
    print(summary_markdown(summary))
    print(f'Outputs in {os.path.abspath(args.out)} '
          f'({minutes:.1f} minutes).')
    return 0


if __name__ == '__main__':
    sys.exit(main())
