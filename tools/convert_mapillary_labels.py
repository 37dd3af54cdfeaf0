"""Convert Mapillary Vistas v1.2 labels to Cityscapes trainIds.

For every image of the chosen splits (``<split>/images/<key>.jpg``) it
checks that its label (``<split>/labels/<key>.png``, or ``<split>/v1.2/
labels`` in the v2.0 download) exists, reads and has the image's size, and
writes ``<key>_trainIds.png`` beside it: the class ids mapped to the 19
Cityscapes trainIds by class NAME from the dataset's own config.json
(``ibnseg.datasets.labels.MAPILLARY_TO_CITYSCAPES``). Broken pairs go to
the skip report (default DATA_ROOT/skipped_pairs.tsv), which
MapillaryToCityscapesDataset honours. Writes, re-runs and errors as every
converter (``ibnseg.datasets.label_conversion``).

    python tools/convert_mapillary_labels.py data/mapillary --nproc 8
"""
import argparse
import os.path as osp
import sys

from ibnseg.datasets.label_conversion import (add_conversion_arguments,
                                              convert_pair_task, list_stems,
                                              run_conversion)
from ibnseg.datasets.layouts import (MAPILLARY_IMG_DIR, MAPILLARY_IMG_SUFFIX,
                                     MAPILLARY_LABEL_IDS_SUFFIX,
                                     MAPILLARY_TRAIN_IDS_SUFFIX)
from ibnseg.datasets.mapillary import (SPLITS, find_config,
                                       find_label_dir, load_mapillary_table)
from ibnseg.datasets.roots import data_root_arg, data_root_help


def parse_args(argv=None):
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument(
        'data_root', nargs='?', default=None,
        help=data_root_help('mapillary'))
    parser.add_argument(
        '--splits', nargs='+', default=list(SPLITS), choices=SPLITS,
        help='splits to convert (default: both)')
    parser.add_argument(
        '--config', help='the v1.2 config file (default: DATA_ROOT/'
        'config.json or DATA_ROOT/config_v1.2.json)')
    add_conversion_arguments(parser, report=True)
    args = parser.parse_args(argv)
    args.data_root = data_root_arg(parser, args.data_root, 'mapillary')
    return args


def list_tasks(root, splits, lut, force):
    """One task per image of ``splits`` (and per label without image)."""
    tasks = []
    for split in splits:
        img_dir = osp.join(root, MAPILLARY_IMG_DIR.format(split=split))
        label_dir = osp.join(root, find_label_dir(root, split))
        keys = list_stems([(img_dir, MAPILLARY_IMG_SUFFIX),
                           (label_dir, MAPILLARY_LABEL_IDS_SUFFIX)],
                          MAPILLARY_TRAIN_IDS_SUFFIX)
        for key in keys:
            tasks.append(
                (key, osp.join(img_dir, key + MAPILLARY_IMG_SUFFIX),
                 osp.join(label_dir, key + MAPILLARY_LABEL_IDS_SUFFIX),
                 osp.join(label_dir, key + MAPILLARY_TRAIN_IDS_SUFFIX), lut,
                 force))
    return tasks


def main(argv=None) -> int:
    args = parse_args(argv)
    try:  # the table first: without it nothing can be converted
        table = load_mapillary_table(
            find_config(args.data_root, args.config), args.data_root)
    except (OSError, ValueError) as err:
        print(f'error: {err}', file=sys.stderr)
        return 2
    tasks = list_tasks(args.data_root, args.splits, table.lut, args.force)
    if not tasks:
        print(
            f'error: no Mapillary images or labels under {args.data_root!r} '
            f'for {", ".join(args.splits)} (expected <split>/images/*.jpg '
            'and <split>/labels/*.png; see data/README.md)',
            file=sys.stderr)
        return 2
    return run_conversion(
        convert_pair_task, tasks, args.nproc,
        out_dirs=sorted({osp.dirname(t[3]) for t in tasks}),
        out_dirs_option='data_root (trainId labels are written beside the '
        'labels):',
        args=args,
        comment='Mapillary pairs skipped by MapillaryToCityscapesDataset; '
        f'written by tools/convert_mapillary_labels.py from {args.data_root}')


if __name__ == '__main__':
    sys.exit(main())
