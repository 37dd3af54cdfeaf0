"""Convert GTA5 label-id PNGs to trainIds and list the broken pairs.

For every frame under DATA_ROOT (``images/NNNNN.png``, ``labels/NNNNN.png``)
it checks that both files exist and read, and that they have the same size;
good frames get ``labels/NNNNN_labelTrainIds.png``. Broken frames go to
the skip report (default DATA_ROOT/skipped_pairs.tsv), which GTA5Dataset
honours. Writes, re-runs and errors as every converter
(``ibnseg.datasets.label_conversion``).

    python tools/convert_gta5_labels.py data/gta5 --nproc 8
"""
import argparse
import os.path as osp
import sys

from ibnseg.datasets.label_conversion import (add_conversion_arguments,
                                              convert_pair_task, list_stems,
                                              run_conversion)
from ibnseg.datasets.labels import LABEL_ID_TO_TRAIN_ID
from ibnseg.datasets.layouts import (GTA5_IMG_DIR, GTA5_IMG_SUFFIX,
                                     GTA5_LABEL_DIR, GTA5_LABEL_IDS_SUFFIX,
                                     GTA5_TRAIN_IDS_SUFFIX, gta5_paths)
from ibnseg.datasets.roots import data_root_arg, data_root_help


def parse_args(argv=None):
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument(
        'data_root', nargs='?', default=None, help=data_root_help('gta5'))
    add_conversion_arguments(parser, report=True)
    parser.add_argument(
        '--verify-images',
        action='store_true',
        help='decode every image fully (finds truncated files; slower) '
        'instead of reading headers only')
    args = parser.parse_args(argv)
    args.data_root = data_root_arg(parser, args.data_root, 'gta5')
    return args


def main(argv=None) -> int:
    args = parse_args(argv)
    frames = list_stems(
        [(osp.join(args.data_root, GTA5_IMG_DIR), GTA5_IMG_SUFFIX),
         (osp.join(args.data_root, GTA5_LABEL_DIR), GTA5_LABEL_IDS_SUFFIX)],
        GTA5_TRAIN_IDS_SUFFIX)
    if not frames:
        print(
            f'error: no GTA5 frames under {args.data_root!r} (expected '
            'images/NNNNN.png and labels/NNNNN.png; see data/README.md)',
            file=sys.stderr)
        return 2
    label_dir = osp.join(args.data_root, GTA5_LABEL_DIR)
    return run_conversion(
        convert_pair_task,
        [(f, *gta5_paths(args.data_root, f), LABEL_ID_TO_TRAIN_ID,
          args.force, args.verify_images) for f in frames], args.nproc,
        out_dirs=[label_dir],
        out_dirs_option='data_root (labels are written to '
        f'DATA_ROOT/{GTA5_LABEL_DIR}):',
        args=args,
        comment='GTA5 pairs skipped by GTA5Dataset; written by '
        f'tools/convert_gta5_labels.py from {args.data_root}')


if __name__ == '__main__':
    sys.exit(main())
