"""Id lists (one sample name per line: split files, ann_files, subsets) and
seeded subsets, the same on every machine: the sorted names, ordered by
``default_rng(seed).permutation``, the first ``k`` kept (so a smaller
fraction with the same seed is a subset of a larger one)."""
import math
import os
import os.path as osp
from typing import List, Optional, Sequence, Tuple

import numpy as np
from mmengine.logging import print_log

from ..engine.fileio import atomic_write
from .layouts import DatasetError


def read_id_lines(path: str, what: str = 'id list',
                  comments: bool = True) -> List[Tuple[int, str]]:
    """``(line number, name)`` of each name in the id list ``path``, blank
    and (``comments``) '#' lines skipped; a missing file, or an absolute
    name or one climbing out with '..' (``DatasetError`` naming the line),
    raises, ``what`` naming the file."""
    if not osp.isfile(path):
        raise FileNotFoundError(f'{what} {path} not found')
    with open(path, encoding='utf-8') as f:
        numbered = [(number, line.strip())
                    for number, line in enumerate(f, start=1)
                    if line.strip() and not (comments and
                                             line.lstrip().startswith('#'))]
    for number, name in numbered:
        if osp.isabs(name) or \
                osp.normpath(name).split(os.sep)[0] == os.pardir:
            raise DatasetError(
                f'{what} {path}, line {number}: {name!r} leads outside the '
                "dataset's folders; expected a sample name below them (e.g. "
                "'00001' or 'aachen/aachen_000000_000019'), not an absolute "
                "path or one that climbs out with '..'")
    return numbered


def read_id_list(path: str, what: str = 'id list') -> List[str]:
    """The names in an id list (:func:`read_id_lines`), unique, at least
    one."""
    names = [name for _, name in read_id_lines(path, what)]
    if not names:
        raise ValueError(f'{what} {path} is empty; expected one sample name '
                         'per line')
    seen = set()
    repeated = [n for n in names if n in seen or seen.add(n)]
    if repeated:
        raise ValueError(f'{what} {path} names {len(repeated)} sample(s) '
                         f'twice, e.g. {repeated[0]!r}; expected unique '
                         'names')
    return names


def write_id_list(path: str, names: Sequence[str]) -> str:
    """Write ``names`` one per line, atomically; returns ``path``."""
    return atomic_write(path, ''.join(f'{n}\n' for n in names))


def subset_size(total: int,
                fraction: Optional[float] = None,
                count: Optional[int] = None) -> int:
    """How many of ``total`` samples a subset keeps: exactly one of
    ``fraction`` (in (0, 1]; rounded half up, at least 1) or ``count``
    (1..total)."""
    if (fraction is None) == (count is None):
        raise ValueError('subset: give exactly one of fraction or count, got '
                         f'fraction={fraction!r}, count={count!r}')
    if fraction is not None:
        if not 0.0 < float(fraction) <= 1.0:
            raise ValueError(
                f'subset: fraction must lie in (0, 1], got {fraction!r}')
        return max(1, int(math.floor(float(fraction) * total + 0.5)))
    if isinstance(count, bool) or not isinstance(count, (int, np.integer)) \
            or not 1 <= count <= total:
        raise ValueError(f'subset: count must be an integer in 1..{total} '
                         f'(the number of samples), got {count!r}')
    return int(count)


def select_subset(names: Sequence[str],
                  fraction: Optional[float] = None,
                  count: Optional[int] = None,
                  seed: int = 0,
                  log: bool = True) -> List[str]:
    """The sorted, seeded subset of the unique ``names``
    (:func:`subset_size`), logged unless ``log`` is False."""
    ordered = sorted(names)
    if len(set(ordered)) != len(ordered):
        raise ValueError('select_subset: sample names must be unique')
    if not ordered:
        raise ValueError('select_subset: no sample names to choose from')
    keep = subset_size(len(ordered), fraction, count)
    order = np.random.default_rng(int(seed)).permutation(len(ordered))
    chosen = [ordered[i] for i in sorted(order[:keep])]
    if log:
        how = f'fraction {fraction}' if count is None else f'count {count}'
        print_log(f'seeded subset: {len(chosen)} of {len(names)} samples '
                  f'({how}, seed {seed})', logger='current')
    return chosen


def seeded_subset(dataset, count: int, seed: int):
    """At most ``count`` samples of a built ``dataset``, chosen by
    :func:`select_subset` from the sample names."""
    if len(dataset) <= count:
        return dataset
    # ibnseg's datasets name samples independently of the data root
    names = [info.get('sample_name') or info['img_path']
             for info in map(dataset.get_data_info, range(len(dataset)))]
    # the loops log each domain's count themselves
    chosen = set(select_subset(names, count=count, seed=seed, log=False))
    return dataset.get_subset(
        [i for i, name in enumerate(names) if name in chosen])
