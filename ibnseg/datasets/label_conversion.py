"""What the label converters (tools/convert_*_labels.py) share: atomic
per-file conversion in worker processes (module-level functions for
``parallel_map``), re-runs that skip converted files unless --force, and
output checks before any work."""
import argparse
import os
import os.path as osp
import sys
import time
from collections import Counter
from typing import Callable, List, Optional, Sequence, Tuple

import numpy as np
from PIL import Image

from ..engine.fileio import (DISK_FULL_ERRNOS, OutputPathError,
                             check_output_dir, check_output_file,
                             remove_partial_files)
from ..utils.parallel import parallel_map
from .labels import LABEL_ID_TO_TRAIN_ID
from .layouts import read_label_ids, save_png_atomic
from .skip_report import SKIP_REPORT_NAME, SkippedSample, write_skip_report

CONVERTED, ALREADY_CONVERTED, SKIPPED, FAILED = ('converted',
                                                 'already converted',
                                                 'skipped', 'failed')


def convert_label_file(src: str, dst: str, force: bool = False) -> str:
    """Write the trainId PNG ``dst`` of the label-id PNG ``src`` unless it
    exists (``ALREADY_CONVERTED``) and not ``force``."""
    if not force and osp.isfile(dst):
        return ALREADY_CONVERTED
    save_png_atomic(dst, LABEL_ID_TO_TRAIN_ID[read_label_ids(src)])
    return CONVERTED


def convert_label_file_task(
        task: Tuple[str, str, bool]) -> Tuple[str, str, str]:
    """(src, dst, force) -> (src, status, error message or ''); a full disk
    is raised (every later file would fail too)."""
    src, dst, force = task
    try:
        return src, convert_label_file(src, dst, force), ''
    except (OSError, ValueError) as err:
        if getattr(err, 'errno', None) in DISK_FULL_ERRNOS:
            raise
        return src, FAILED, str(err)


def add_conversion_arguments(parser: argparse.ArgumentParser,
                             report: bool = False) -> None:
    """--nproc, --force and, with ``report``, --report."""
    parser.add_argument(
        '--nproc',
        type=int,
        default=min(8, os.cpu_count() or 1),
        help='worker processes (1: no pool)')
    parser.add_argument(
        '--force', action='store_true', help='rewrite converted labels')
    if report:
        parser.add_argument('--report', help='skip report path (default: '
                            f'DATA_ROOT/{SKIP_REPORT_NAME})')


def list_stems(sources: Sequence[Tuple[str, str]],
               exclude_suffix: str) -> List[str]:
    """Sorted stems of the non-hidden files of each ``(folder, suffix)``,
    but those ending with ``exclude_suffix`` (the converted files)."""
    stems = set()
    for folder, suffix in sources:
        if osp.isdir(folder):
            stems.update(
                name[:-len(suffix)] for name in os.listdir(folder)
                if name.endswith(suffix) and not name.startswith('.')
                and not name.endswith(exclude_suffix))
    return sorted(stems)


def _image_size(path: str, verify: bool = False) -> Tuple[int, int]:
    """(height, width) from the header; ``verify`` decodes it all."""
    try:
        with Image.open(path) as image:
            if verify:
                image.load()
            width, height = image.size
    except (OSError, SyntaxError, ValueError) as err:  # PIL's errors
        what = 'decode the image' if verify else 'read the image header'
        raise ValueError(f'{path}: cannot {what} ({err}); expected a '
                         'PNG/JPEG image') from err
    return height, width


def check_and_convert_pair(
        key: str, img_path: str, label_path: str, dst: str,
        lut: np.ndarray, force: bool = False, verify_image: bool = False
) -> Tuple[str, str, Optional[SkippedSample]]:
    """Check the pair ``key`` and write ``lut[label ids]`` to ``dst``; an
    existing ``dst`` is trusted unless ``force`` (its header gives the size
    check). ``verify_image`` decodes the whole image, else its header.
    Returns ``(key, status, SkippedSample or None)``.
    """

    def skip(problem, detail):
        return key, SKIPPED, SkippedSample(key, problem, detail)

    if not osp.isfile(img_path):
        return skip('missing_image', f'{img_path} not found')
    if not osp.isfile(label_path):
        return skip('missing_label', f'{label_path} not found')
    try:
        img_size = _image_size(img_path, verify_image)
    except ValueError as err:
        return skip('unreadable_image', str(err))
    reuse = not force and osp.isfile(dst)
    try:
        label_ids = None if reuse else read_label_ids(label_path)
        label_size = _image_size(label_path) if reuse else label_ids.shape
    except ValueError as err:
        return skip('unreadable_label', str(err))
    if tuple(label_size) != tuple(img_size):
        return skip(
            'size_mismatch', f'image {img_size[1]}x{img_size[0]}, label '
            f'{label_size[1]}x{label_size[0]} (WxH)')
    if reuse:
        return key, ALREADY_CONVERTED, None
    save_png_atomic(dst, lut[label_ids])
    return key, CONVERTED, None


def convert_pair_task(
        task: tuple) -> Tuple[str, str, Optional[SkippedSample]]:
    """``check_and_convert_pair(*task)``, one task of ``parallel_map``."""
    return check_and_convert_pair(*task)


def run_conversion(func: Callable,
                   tasks: Sequence,
                   nproc: int,
                   out_dirs: Sequence[str],
                   out_dirs_option: str,
                   args: Optional[argparse.Namespace] = None,
                   comment: str = '') -> int:
    """A converter's run: outputs checked and a killed run's leftovers
    removed before any work, ``func`` over ``tasks`` in ``nproc`` processes
    (each returns ``(name, status, SkippedSample or error)``), the skip
    report written (with ``args``: ``args.report``, default in
    ``args.data_root``), a summary printed. Returns the exit status: 0, 1 (a
    failed file, a full disk) or 2 (an unusable output location).
    """
    report, report_option = None, ''
    if args is not None:
        report = args.report or osp.join(args.data_root, SKIP_REPORT_NAME)
        report_option = '--report' if args.report else \
            f'--report (default DATA_ROOT/{SKIP_REPORT_NAME})'
    try:  # before any work, not after hours of it
        for folder in out_dirs:
            check_output_dir(folder, out_dirs_option)
        if report:
            check_output_file(report, report_option)
    except OutputPathError as err:
        print(f'error: {err}', file=sys.stderr)
        return 2
    removed = [
        path for folder in sorted(set(out_dirs) | (
            {osp.dirname(osp.abspath(report))} if report else set()))
        for path in remove_partial_files(folder)
    ]
    if removed:
        print(f'removed {len(removed)} partial file(s) left by an '
              f'interrupted run, e.g. {removed[0]}')
    started = time.time()
    try:
        # fork: the workers run only PIL and numpy, and start at once
        results = parallel_map(func, tasks, nproc, progress=True,
                               start_method=None)
        skipped = [item for _, status, item in results if status == SKIPPED]
        if report:
            write_skip_report(report, skipped, comment=comment)
    except OSError as err:
        if err.errno not in DISK_FULL_ERRNOS:
            raise
        print(f'\nerror: {err}', file=sys.stderr)
        return 1
    counts = Counter(status for _, status, _ in results)
    lines = [f'{len(results)} label file(s) in {time.time() - started:.1f}s:']
    lines += [f'  {status}: {counts[status]}'
              for status in (CONVERTED, ALREADY_CONVERTED, SKIPPED, FAILED)
              if counts[status]]
    if report:
        lines.append(f'  skip_report: {report}')
        problems = Counter(item.problem for item in skipped)
        lines += [f'  skipped ({p}): {n}' for p, n in sorted(problems.items())]
    print('\n' + '\n'.join(lines))
    failed = [message for _, status, message in results if status == FAILED]
    for message in failed:
        print(f'failed: {message}', file=sys.stderr)
    return 1 if failed else 0
