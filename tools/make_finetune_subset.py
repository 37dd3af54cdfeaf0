"""Write the seeded fine-tuning subset a dataset config would train on.

Builds the config's ``<split>_dataloader.dataset`` with
``subset=dict(fraction|count, seed)`` (exactly what training with that
option uses: sorted names, numpy ``default_rng(seed)`` permutation, then the
converter's skip report) and writes the names, one per line. The file can
serve as a GTA5 ``split`` or a Cityscapes ``ann_file``.

    python tools/make_finetune_subset.py configs/_base_/datasets/gta5.py \
        --fraction 0.1 --seed 0 --out data/gta5/splits/train_10pct_seed0.txt
"""
import argparse
import sys

from mmengine.registry import init_default_scope
from mmseg.registry import DATASETS

from ibnseg.engine.cfg_options import CfgOptionsAction
from ibnseg.engine.fileio import check_output_options
from ibnseg.engine.runner_setup import load_config


def parse_args(argv=None):
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument('config', help='config with a *_dataloader.dataset')
    amount = parser.add_mutually_exclusive_group(required=True)
    amount.add_argument('--fraction', type=float, help='share, in (0, 1]')
    amount.add_argument('--count', type=int, help='number of samples')
    parser.add_argument('--seed', type=int, default=0)
    parser.add_argument('--out', required=True, help='output text file')
    parser.add_argument(
        '--split',
        default='train',
        choices=['train', 'val', 'test'],
        help='which dataloader of the config')
    parser.add_argument(
        '--cfg-options',
        nargs='+',
        action=CfgOptionsAction,
        help='config overrides, e.g. '
        'train_dataloader.dataset.data_root=/data/gta5')
    args = parser.parse_args(argv)
    check_output_options(parser, files={'--out': args.out})
    return args


def main(argv=None) -> int:
    args = parse_args(argv)
    try:
        cfg = load_config(args.config, args.cfg_options)
    except (FileNotFoundError, ValueError) as err:
        print(f'error: {err}', file=sys.stderr)
        return 2
    init_default_scope(cfg.default_scope)
    import ibnseg  # noqa: F401  (registers the datasets)
    key = f'{args.split}_dataloader'
    if key not in cfg or 'dataset' not in cfg[key]:
        print(f'error: {args.config} has no {key}.dataset', file=sys.stderr)
        return 2
    dataset_cfg = cfg[key].dataset.copy()
    subset = dict(seed=args.seed, save_to=args.out)
    subset.update(dict(fraction=args.fraction) if args.fraction is not None
                  else dict(count=args.count))
    # no pipeline: only the listing is needed
    dataset_cfg.update(subset=subset, pipeline=[])
    try:
        dataset = DATASETS.build(dataset_cfg)
    except (FileNotFoundError, ValueError, KeyError, TypeError) as err:
        print(f'error: {err}', file=sys.stderr)
        return 2
    print(f'{len(dataset)} samples -> {args.out}')
    return 0


if __name__ == '__main__':
    sys.exit(main())
