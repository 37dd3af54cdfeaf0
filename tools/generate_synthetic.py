"""Generate the synthetic cross-domain datasets of the embedded benchmark.

Each domain goes to ``<out>/<domain>``: the source domain in the GTA5 layout
(train and val, with ``splits/*.txt``), the others in the Cityscapes layout
(val, and train with ``--target-num-train``). With one seed the domains are
paired: sample i of a split has the same label map in every domain. Running
again with the same options only fills in what is missing; other options
over an existing folder are refused unless ``--force``.

Example::

    python tools/generate_synthetic.py --out data/synthetic \\
        --num-train 400 --num-val 100 --size 128 256 --seed 0 \\
        --domains source real dusk --preview data/synthetic/preview.png
"""
import argparse
import os.path as osp
import sys
import time

from ibnseg.engine.fileio import check_output_options
from ibnseg.synthetic import (DOMAIN_STYLES, generate_domain_dataset,
                              save_contact_sheet)


def parse_args(argv=None):
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument('--out',
                        help='output folder; one sub-folder per domain')
    parser.add_argument('--num-train', type=int, default=400,
                        help='source-domain training samples')
    parser.add_argument('--num-val', type=int, default=100,
                        help='validation samples per domain')
    parser.add_argument('--target-num-train', type=int, default=0,
                        help='training samples per target domain (for '
                        'fine-tuning); 0 writes val only')
    parser.add_argument('--size', type=int, nargs=2, default=(128, 256),
                        metavar=('H', 'W'), help='image height and width')
    parser.add_argument('--seed', type=int, default=0, help='dataset seed')
    parser.add_argument('--domains', nargs='+',
                        default=['source', 'real', 'dusk'],
                        choices=list(DOMAIN_STYLES), help='domains to write')
    parser.add_argument('--source-domain', default='source',
                        help='the domain written in the GTA5 layout')
    parser.add_argument('--nproc', type=int, default=2,
                        help='worker processes')
    parser.add_argument('--force', action='store_true',
                        help='regenerate even existing samples, also over a '
                        'folder made with other options')
    parser.add_argument('--preview', metavar='PATH',
                        help='also write a PNG contact sheet of the domains')
    parser.add_argument('--preview-num', type=int, default=4,
                        help='samples (rows) in the contact sheet')
    parser.add_argument('--quiet', action='store_true',
                        help='no progress bars')
    args = parser.parse_args(argv)
    if args.out is None and args.preview is None:
        parser.error('give --out DIR (datasets), --preview PATH, or both')
    if len(set(args.domains)) != len(args.domains):
        parser.error('--domains: a domain is named twice')
    for option in ('num_train', 'num_val', 'target_num_train', 'seed'):
        if getattr(args, option) < 0:
            parser.error(f'--{option.replace("_", "-")}: expected >= 0, got '
                         f'{getattr(args, option)}')
    if args.nproc < 1 or args.preview_num < 1:
        parser.error('--nproc and --preview-num: expected >= 1')
    check_output_options(parser, dirs={'--out': args.out},
                         files={'--preview': args.preview})
    return args


def main(argv=None) -> int:
    args = parse_args(argv)
    size = tuple(args.size)
    try:
        for domain in args.domains if args.out is not None else ():
            is_source = domain == args.source_domain
            root = osp.join(args.out, domain)
            start = time.perf_counter()
            summary = generate_domain_dataset(
                root, domain,
                num_train=(args.num_train
                           if is_source else args.target_num_train),
                num_val=args.num_val, size=size, seed=args.seed,
                layout='gta5' if is_source else 'cityscapes',
                force=args.force, nproc=args.nproc,
                progress=not args.quiet)
            print(f'{domain}: {summary["layout"]} layout in {root}: '
                  f'{summary["written"]} written, {summary["skipped"]} '
                  f'already there ({time.perf_counter() - start:.1f} s)')
        if args.preview is not None:
            save_contact_sheet(args.preview, args.domains,
                               num_samples=args.preview_num, size=size,
                               seed=args.seed)
            print(f'contact sheet: {args.preview}')
    except ValueError as err:
        print(f'generate_synthetic.py: error: {err}', file=sys.stderr)
        return 2
    return 0


if __name__ == '__main__':
    sys.exit(main())
