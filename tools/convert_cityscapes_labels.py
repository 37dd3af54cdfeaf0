"""Convert Cityscapes label-id PNGs to ``_gtFine_labelTrainIds.png``.

Reads the official label-id PNGs (no polygon json needed) and writes the
trainId PNGs next to them; CityscapesLabelIdsDataset can also train without
this step. Writes, re-runs and errors as every converter
(``ibnseg.datasets.label_conversion``).

    python tools/convert_cityscapes_labels.py data/cityscapes --nproc 8
"""
import argparse
import os
import os.path as osp
import sys

from ibnseg.datasets.label_conversion import (add_conversion_arguments,
                                              convert_label_file_task,
                                              run_conversion)
from ibnseg.datasets.layouts import (CITYSCAPES_LABEL_DIR,
                                     CITYSCAPES_LABEL_IDS_SUFFIX,
                                     CITYSCAPES_TRAIN_IDS_SUFFIX)
from ibnseg.datasets.roots import data_root_arg, data_root_help


def parse_args(argv=None):
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument(
        'data_root', nargs='?', default=None,
        help=data_root_help('cityscapes'))
    parser.add_argument(
        '--splits',
        nargs='+',
        default=['train', 'val'],
        help='folders under gtFine/ to convert')
    add_conversion_arguments(parser)
    args = parser.parse_args(argv)
    args.data_root = data_root_arg(parser, args.data_root, 'cityscapes')
    return args


def main(argv=None) -> int:
    args = parse_args(argv)
    sources = []
    for split in args.splits:
        folder = osp.join(args.data_root, CITYSCAPES_LABEL_DIR, split)
        found = sorted(
            osp.join(parent, name) for parent, _, names in os.walk(folder)
            for name in names if name.endswith(CITYSCAPES_LABEL_IDS_SUFFIX)
            and not name.startswith('.'))
        if not found:
            print(
                f'error: no "*{CITYSCAPES_LABEL_IDS_SUFFIX}" files under '
                f'{folder!r}; expected the Cityscapes layout in '
                'data/README.md', file=sys.stderr)
            return 2
        sources.extend(found)
    # the trainId files go next to their sources
    return run_conversion(
        convert_label_file_task,
        [(src, src[:-len(CITYSCAPES_LABEL_IDS_SUFFIX)] +
          CITYSCAPES_TRAIN_IDS_SUFFIX, args.force) for src in sources],
        args.nproc,
        out_dirs=sorted({osp.dirname(src) for src in sources}),
        out_dirs_option='data_root (converted labels are written next to '
        'the label-id files):')


if __name__ == '__main__':
    sys.exit(main())
