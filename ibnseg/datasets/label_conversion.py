"""Label-id -> trainId conversion and pair checking, for the converters
(tools/convert_*_labels.py).

The per-file steps are module-level functions so that ``parallel_map`` can
run them in worker processes. Outputs are written atomically (in parallel);
a re-run skips converted files unless --force, and first removes the
partial files a killed run left. The output folders are checked before any
work, and a full disk stops the run, naming the file.
"""
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
    """Write the trainId PNG ``dst`` for the label-id PNG ``src``.

    Returns ``ALREADY_CONVERTED`` without reading anything when ``dst``
    exists and ``force`` is False, else ``CONVERTED``. Errors name ``src``.
    """
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
    """The converters' shared options: --nproc, --force and, with
    ``report``, the skip report's --report."""
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
    """Sorted stems of the non-hidden files of each ``(folder, suffix)`` in
    ``sources`` (missing folders are empty), but for names ending with
    ``exclude_suffix`` (the converted files)."""
    stems = set()
    for folder, suffix in sources:
        if osp.isdir(folder):
            stems.update(
                name[:-len(suffix)] for name in os.listdir(folder)
                if name.endswith(suffix) and not name.startswith('.')
                and not name.endswith(exclude_suffix))
    return sorted(stems)


def _image_size(path: str, verify: bool = False) -> Tuple[int, int]:
    """(height, width) of an image from its header; ``verify`` decodes it
    all (finds truncated files). An unreadable file raises, naming it."""
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
    """Check an image/label-id pair and write the label's trainIds.

    Both files must exist and read, and have the same size; the trainIds
    (``lut[label ids]``) go to ``dst`` atomically. An existing ``dst`` is
    trusted (atomic writes) unless ``force``: only the label's header is
    read again, for the size check.

    Args:
        key (str): The pair's name in the skip report.
        img_path, label_path, dst (str): Image, label-id PNG, trainId PNG.
        lut (np.ndarray): 256 uint8 entries, label id -> trainId.
        force (bool): Rewrite an existing ``dst``.
        verify_image (bool): Decode the whole image (finds truncated files),
            else read its header only.

    Returns:
        (key, status, SkippedSample or None): status is ``CONVERTED``,
        ``ALREADY_CONVERTED`` or ``SKIPPED`` (with the reason).
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
    """A converter's run: the output folders (and the skip report) checked
    before any work, what a killed run left in them removed, ``func`` over
    ``tasks`` in ``nproc`` processes (each returns ``(name, status,
    SkippedSample or error message)``), the skipped pairs written to the
    skip report (with ``args``: ``args.report``, default in
    ``args.data_root``) with ``comment``, a summary printed.

    Returns:
        int: The exit status: 0, 1 (a failed file, a full disk) or 2 (an
        unusable output location).
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
