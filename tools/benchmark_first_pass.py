"""Time the datasets' first-pass check on generated GTA5 pairs.

Writes raw GTA5 pairs (one in 200 size-mismatched, one in 400 truncated)
under a temporary folder, then builds ``GTA5Dataset`` without the first pass
(the baseline), with it and no cache, with the cache, and with the cache
after touching 1% of the images; it prints each time and its ratio to the
baseline, measured in this process. The files were just written, so they
are in the page cache: this measures the check's own cost, not a cold disk.
"""
import argparse
import os
import os.path as osp
import shutil
import tempfile
import time
import warnings

import numpy as np
from mmengine.registry import init_default_scope
from mmseg.registry import DATASETS

import ibnseg  # noqa: F401
from ibnseg.datasets import first_pass
from ibnseg.datasets.layouts import gta5_paths, write_gta5_sample

PIPELINE = [dict(type='LoadImageFromFile'),
            dict(type='LoadLabelIdAnnotations')]


def make_pairs(root: str, pairs: int, size) -> None:
    rng = np.random.default_rng(0)
    for frame in range(1, pairs + 1):
        height, width = size
        label_size = (height + 2, width) if frame % 200 == 7 else size
        write_gta5_sample(
            root, frame, rng.integers(0, 256, (height, width, 3), np.uint8),
            rng.integers(0, 34, label_size, np.uint8))
        if frame % 400 == 11:
            image = gta5_paths(root, frame)[0]
            os.truncate(image, int(os.path.getsize(image) * 0.7))


def build_time(root: str, **kwargs) -> float:
    started = time.perf_counter()
    with warnings.catch_warnings():
        warnings.simplefilter('ignore')  # the skipped pairs' warning
        DATASETS.build(dict(type='GTA5Dataset', data_root=root,
                            pipeline=PIPELINE, **kwargs))
    return time.perf_counter() - started


def main(argv=None) -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument('--pairs', type=int, default=2000)
    parser.add_argument('--size', type=int, nargs=2, default=(32, 64),
                        metavar=('H', 'W'))
    parser.add_argument('--repeat', type=int, default=3)
    args = parser.parse_args(argv)
    init_default_scope('mmseg')
    workdir = tempfile.mkdtemp(prefix='benchmark_first_pass_')
    os.environ[first_pass.CACHE_ENV] = osp.join(workdir, 'cache_home')
    root = osp.join(workdir, 'gta5')
    try:
        make_pairs(root, args.pairs, args.size)
        cache = osp.join(root, first_pass.CACHE_NAME)
        rows = []
        for _ in range(args.repeat):
            if osp.exists(cache):
                os.remove(cache)
            row = [build_time(root, first_pass=False), build_time(root),
                   build_time(root)]
            for frame in range(1, args.pairs + 1, 100):
                os.utime(gta5_paths(root, frame)[0])
            rows.append(row + [build_time(root)])
        labels = ('first pass off (baseline)', 'first pass, no cache',
                  'first pass, cached', 'cached, 1% of images touched')
        print(f'{args.pairs} pairs of {args.size[1]}x{args.size[0]}, '
              f'{os.cpu_count()} cpus; time (ratio to the baseline) per run')
        for column, label in enumerate(labels):
            print(f'{label:>30}  ' + '  '.join(
                f'{row[column]:5.2f}s ({row[column] / row[0]:4.2f}x)'
                for row in rows))
    finally:
        shutil.rmtree(workdir, ignore_errors=True)


if __name__ == '__main__':
    main()
