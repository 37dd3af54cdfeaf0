"""Per-layer feature divergence between image sets, for one or more models.

Writes feature_divergence.{csv,json,png} to --out-dir. See docs/analysis.md.
"""
import argparse
import os.path as osp
import sys

import torch

import ibnseg  # noqa: F401  (registers ibnseg's modules for the configs)
from ibnseg.engine.fileio import check_output_options
from ibnseg.datasets.transforms import APPEARANCE_SHIFTS
from ibnseg.analysis import (DEFAULT_EPS, LAYER_LEVELS, ModelSpec,
                             appearance_pair, compute_model_divergence,
                             content_pair, domain_pair, load_model,
                             plot_divergence_vs_depth,
                             resolve_appearance_shift, write_divergence_csv,
                             write_divergence_json)
from ibnseg.analysis.divergence import FORMULA
from ibnseg.utils import CheckpointError

OUTPUT_NAME = 'feature_divergence'


def parse_args(argv=None):
    parser = argparse.ArgumentParser(
        description='Hook the residual blocks (or stages) of mmseg models and '
        'measure, layer by layer, how far apart two image sets are in feature '
        'space (IBN-Net paper, Fig. 2). ' + FORMULA,
        epilog='Writes feature_divergence.{csv,json,png} to --out-dir. See '
        'docs/analysis.md.')
    parser.add_argument('config', nargs='?', help='mmseg config of a model')
    parser.add_argument('checkpoint', nargs='?',
                        help='its weights, loaded strictly (required unless '
                        '--allow-random)')
    parser.add_argument(
        '--models', nargs='+', action='extend', default=[],
        metavar='[LABEL=]CONFIG[:CHECKPOINT]',
        help='more models to compare; LABEL names it in the outputs '
        '(default: the config file name); CHECKPOINT is required unless '
        '--allow-random')
    parser.add_argument(
        '--allow-random', action='store_true',
        help='analyse models given without a checkpoint, with the random '
        'weights they are built with (marked "random weights" in the table, '
        'JSON and plot); without this option such a model is an error, as '
        'its divergences are not comparable with trained models\' ones')
    parser.add_argument('--set-a', required=True, metavar='DIR',
                        help='image folder (searched recursively)')
    parser.add_argument('--set-b', metavar='DIR',
                        help='second image folder: adds a "domain" pair')
    parser.add_argument(
        '--appearance', nargs='+', action='extend', default=[],
        metavar='SHIFT', choices=list(APPEARANCE_SHIFTS),
        help='adds an "appearance:SHIFT" pair per name: --set-a against '
        'itself with the shift applied; SHIFT is one of '
        f'{", ".join(APPEARANCE_SHIFTS)}')
    parser.add_argument('--content', action='store_true',
                        help='adds a "content" pair: two disjoint halves of '
                        '--set-a, drawn with --seed')
    parser.add_argument('--level', choices=LAYER_LEVELS, default='block',
                        help='hook every residual block or every stage')
    parser.add_argument('--size', nargs=2, type=int,
                        metavar=('WIDTH', 'HEIGHT'),
                        help='resize every image (needed for batches of '
                        'images of different sizes)')
    parser.add_argument('--batch-size', type=int, default=1)
    parser.add_argument('--device', default=None,
                        help='e.g. cpu or cuda:0 (default: cuda:0 if present)')
    parser.add_argument('--eps', type=float, default=DEFAULT_EPS,
                        help='added to every variance (default %(default)g)')
    parser.add_argument('--seed', type=int, default=0,
                        help='seed of the content split and random shifts')
    parser.add_argument('--out-dir', default='work_dirs/feature_divergence')
    parser.add_argument('--log-y', action='store_true',
                        help='logarithmic divergence axis in the plot')
    args = parser.parse_args(argv)

    if args.size is not None and min(args.size) < 1:
        parser.error(f'--size must be positive, got {args.size}')
    if args.batch_size < 1:
        parser.error(f'--batch-size must be >= 1, got {args.batch_size}')
    if not args.eps > 0:
        parser.error(f'--eps must be > 0, got {args.eps}')
    if not (args.set_b or args.appearance or args.content):
        parser.error('nothing to compare: give --set-b, --appearance and/or '
                     '--content')
    try:
        args.model_specs = model_specs(args)
    except ValueError as error:
        parser.error(str(error))
    check_output_options(parser, dirs={'--out-dir': args.out_dir})
    untrained = [spec.label for spec in args.model_specs
                 if spec.random_weights]
    if untrained and not args.allow_random:
        parser.error(
            f'model(s) {untrained} have no checkpoint: they would be measured '
            'with random weights, whose divergences are not comparable with '
            'trained models\' ones. Give CONFIG CHECKPOINT or '
            'LABEL=CONFIG:CHECKPOINT, or pass --allow-random to analyse '
            'untrained models on purpose')
    return args


def model_specs(args):
    specs = []
    if args.config:
        specs.append(ModelSpec.parse(args.config))
        if args.checkpoint:
            specs[0].checkpoint = args.checkpoint
    specs += [ModelSpec.parse(text) for text in args.models]
    if not specs:
        raise ValueError('no model: give CONFIG [CHECKPOINT] or --models')
    labels = [spec.label for spec in specs]
    repeated = sorted({label for label in labels if labels.count(label) > 1})
    if repeated:
        raise ValueError(f'model labels {repeated} repeat; name the models '
                         'with LABEL=CONFIG[:CHECKPOINT]')
    return specs


def build_pairs(args):
    pairs = []
    if args.set_b:
        pairs.append(domain_pair(args.set_a, args.set_b))
    for name in args.appearance:
        pairs.append(appearance_pair(args.set_a, name,
                                     resolve_appearance_shift(name)))
    if args.content:
        pairs.append(content_pair(args.set_a, args.seed))
    return pairs


def main(argv=None):
    """Run the tool; bad folders, images or models end it with one line
    naming what was wrong."""
    args = parse_args(argv)
    try:
        with torch.no_grad():
            return run(args)
    except (FileNotFoundError, ValueError, CheckpointError) as error:
        raise SystemExit(f'feature_divergence: error: {error}') from error


def run(args):
    """Compute and write the divergences; returns the LayerDivergence rows."""
    device = args.device or ('cuda:0' if torch.cuda.is_available() else 'cpu')
    size = tuple(args.size) if args.size else None
    pairs = build_pairs(args)

    rows = []
    for spec in args.model_specs:
        print(f'{spec.label}: {spec.config} '
              f'({spec.checkpoint or "RANDOM WEIGHTS (--allow-random)"})')
        model = load_model(spec, device)
        rows += compute_model_divergence(
            model, spec.label, pairs, level=args.level,
            batch_size=args.batch_size, size=size, eps=args.eps,
            seed=args.seed, show_progress=True,
            random_weights=spec.random_weights)
        print()
        del model

    metadata = dict(
        formula=FORMULA, eps=args.eps, level=args.level, size=size,
        batch_size=args.batch_size, seed=args.seed,
        models=[dict(vars(spec), random_weights=spec.random_weights)
                for spec in args.model_specs],
        pairs=[dict(name=pair.name, pair_type=pair.pair_type,
                    set_a=dict(name=pair.set_a.name,
                               images=len(pair.set_a.paths)),
                    set_b=dict(name=pair.set_b.name,
                               images=len(pair.set_b.paths),
                               shift=pair.set_b.shift)) for pair in pairs])
    prefix = osp.join(args.out_dir, OUTPUT_NAME)
    write_divergence_csv(prefix + '.csv', rows)
    write_divergence_json(prefix + '.json', rows, metadata)
    plot_divergence_vs_depth(prefix + '.png', rows, log_scale=args.log_y)
    for row in rows:
        mark = '  (random weights)' if row.random_weights else ''
        print(f'{row.model:>16} {row.pair:>24} {row.layer:>10} '
              f'{row.divergence:.4g}{mark}')
    print(f'wrote {prefix}.csv, {prefix}.json, {prefix}.png')
    return rows


if __name__ == '__main__':
    main(sys.argv[1:])
