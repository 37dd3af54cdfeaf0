"""Write GTA5's common train/val/test split files from the dataset's split.mat.

split.mat (from the GTA5 download page, see data/README.md) holds the frame
numbers in ``trainIds``, ``valIds`` and ``testIds``. This writes
OUT_DIR/{train,val,test}.txt with one 5-digit id per line, sorted.

    python tools/gta5_split_from_mat.py path/to/split.mat  # data/gta5/splits/
"""
import argparse
import os.path as osp
import sys

import numpy as np
from scipy.io import loadmat

from ibnseg.datasets.layouts import gta5_id
from ibnseg.datasets.roots import (GTA5_SPLIT_DIR, data_root_arg,
                                   data_root_help)
from ibnseg.datasets.subsets import write_id_list
from ibnseg.engine.fileio import check_output_options

SPLIT_KEYS = dict(train='trainIds', val='valIds', test='testIds')


def read_split_mat(path: str) -> dict:
    """split name -> sorted list of 5-digit ids. Errors name ``path``."""
    if not osp.isfile(path):
        raise FileNotFoundError(f'{path}: split.mat not found (see '
                                'data/README.md for where it comes from)')
    try:
        mat = loadmat(path)
    except Exception as err:  # scipy raises several types for bad files
        raise ValueError(f'{path}: cannot read as a MATLAB file ({err})') \
            from err
    splits = {}
    for split, key in SPLIT_KEYS.items():
        if key not in mat:
            raise ValueError(
                f'{path}: no {key!r} array; expected keys '
                f'{sorted(SPLIT_KEYS.values())}, found '
                f'{sorted(k for k in mat if not k.startswith("__"))}')
        values = np.asarray(mat[key]).reshape(-1)
        if values.size == 0 or not np.all(np.mod(values, 1) == 0) or \
                values.min() < 1:
            raise ValueError(f'{path}: {key!r} must hold positive integer '
                             'frame numbers')
        ids = sorted(set(int(v) for v in values))
        if len(ids) != values.size:
            raise ValueError(f'{path}: {key!r} repeats frame numbers')
        splits[split] = [gta5_id(i) for i in ids]
    overlap = set(splits['train']) & (set(splits['val'])
                                      | set(splits['test']))
    overlap |= set(splits['val']) & set(splits['test'])
    if overlap:
        raise ValueError(f'{path}: {len(overlap)} frame(s) are in more than '
                         f'one split, e.g. {sorted(overlap)[0]}')
    return splits


def main(argv=None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument('split_mat', help="the GTA5 dataset's split.mat")
    parser.add_argument(
        '--out-dir',
        help=f'output folder (default: {GTA5_SPLIT_DIR}/ under the GTA5 data '
        'root, where the configs read the splits; ' + data_root_help('gta5')
        + ')')
    args = parser.parse_args(argv)
    if args.out_dir is None:
        args.out_dir = osp.join(data_root_arg(parser, None, 'gta5'),
                                GTA5_SPLIT_DIR)
    check_output_options(parser, dirs={'--out-dir': args.out_dir})
    try:
        splits = read_split_mat(args.split_mat)
    except (FileNotFoundError, ValueError) as err:
        print(f'error: {err}', file=sys.stderr)
        return 2
    for split, ids in splits.items():
        path = write_id_list(osp.join(args.out_dir, f'{split}.txt'), ids)
        print(f'{split}: {len(ids)} ids -> {path}')
    return 0


if __name__ == '__main__':
    sys.exit(main())
