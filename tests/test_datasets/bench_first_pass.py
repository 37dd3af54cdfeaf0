"""Time the datasets' first-pass check on generated GTA5 pairs.

    python -m tests.test_datasets.bench_first_pass [--pairs 2000] [--size H W]

Writes the pairs (raw layout, a few size-mismatched and truncated) under a
temporary folder, then builds ``GTA5Dataset`` (a) without the first pass,
(b) with it and no cache, (c) again with the cache, (d) with the cache after
touching 1% of the files, and prints the times. The files were just written,
so they are in the OS page cache: (b) measures the check's own cost, not a
cold disk.
"""
import argparse
import os
import os.path as osp
import shutil
import tempfile
import time
import warnings

from mmengine.registry import init_default_scope
from mmseg.registry import DATASETS

import ibnseg  # noqa: F401
from ibnseg.datasets import first_pass
from ibnseg.datasets.layouts import gta5_paths
from tests.helpers.data_factory import make_gta5, truncate_file
from tests.helpers.datasets import TEST_PIPELINE


def build(root, **kwargs):
    with warnings.catch_warnings(record=True) as record:
        warnings.simplefilter('always')
        started = time.perf_counter()
        dataset = DATASETS.build(
            dict(type='GTA5Dataset', data_root=root, pipeline=TEST_PIPELINE,
                 **kwargs))
        elapsed = time.perf_counter() - started
    skipped = [str(w.message) for w in record if 'skipping' in str(
        w.message)]
    return dataset, elapsed, skipped


def main(argv=None):
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument('--pairs', type=int, default=2000)
    parser.add_argument('--size', type=int, nargs=2, default=(32, 64),
                        metavar=('H', 'W'))
    parser.add_argument('--repeat', type=int, default=3)
    args = parser.parse_args(argv)
    init_default_scope('mmseg')
    workdir = tempfile.mkdtemp(prefix='bench_first_pass_')
    os.environ[first_pass.CACHE_ENV] = osp.join(workdir, 'cache_home')
    try:
        started = time.perf_counter()
        mismatched = list(range(7, args.pairs + 1, 200))
        gta = make_gta5(osp.join(workdir, 'gta5'), num_images=args.pairs,
                        size=tuple(args.size), mismatched=mismatched)
        for frame in range(11, args.pairs + 1, 400):
            truncate_file(gta5_paths(gta.root, frame)[0], 0.7)
        print(f'generated {args.pairs} pairs of {args.size[1]}x'
              f'{args.size[0]} in {time.perf_counter() - started:.1f}s')
        cache = osp.join(gta.root, first_pass.CACHE_NAME)
        rows = []
        for _ in range(args.repeat):
            if osp.exists(cache):
                os.remove(cache)
            _, off, _ = build(gta.root, first_pass=False)
            _, cold, skipped = build(gta.root)
            _, warm, _ = build(gta.root)
            for frame in range(1, args.pairs + 1, 100):  # 1% of the images
                os.utime(gta5_paths(gta.root, frame)[0])
            _, touched, _ = build(gta.root)
            rows.append((off, cold, warm, touched))
        print(skipped[0][:160] + '...')
        print(f'cache file: {os.path.getsize(cache) / 1e3:.0f} kB')
        print(f'{"":>34} ' + '  '.join(
            f'run {i + 1}' for i in range(args.repeat)))
        labels = ('construction, first pass off', 'first pass, no cache',
                  'first pass, cached (2nd start)',
                  'cached, 1% of images touched')
        for label, times in zip(labels, zip(*rows)):
            print(f'{label:>34} ' + '  '.join(f'{t:5.2f}s' for t in times))
        # the check alone (check_pairs), cold and cached, 16 and 1 threads
        dataset, _, _ = build(gta.root, first_pass=False)
        infos = [dataset.get_data_info(i) for i in range(len(dataset))]
        pairs = [(i['sample_name'], i['img_path'], i['seg_map_path'])
                 for i in infos]
        for threads in (first_pass.NUM_THREADS, 1):
            times = []
            for _ in range(args.repeat):
                os.remove(cache)
                started = time.perf_counter()
                first_pass.check_pairs(pairs, gta.root, threads=threads)
                cold = time.perf_counter() - started
                started = time.perf_counter()
                first_pass.check_pairs(pairs, gta.root, threads=threads)
                times.append((cold, time.perf_counter() - started))
            print(f'{"check_pairs alone, " + str(threads) + " thread(s)":>34} '
                  + '  '.join(f'{c:5.2f}s / {w:5.3f}s cached'
                              for c, w in times))
        print(f'files per pair: 2; threads: {first_pass.NUM_THREADS}; '
              f'cpus: {os.cpu_count()}')
    finally:
        shutil.rmtree(workdir, ignore_errors=True)


if __name__ == '__main__':
    main()
