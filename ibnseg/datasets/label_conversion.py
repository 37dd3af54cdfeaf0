"""Label-id -> trainId conversion and pair checking, for the converters.

The per-file steps are module-level functions so that
``ibnseg.utils.parallel.parallel_map`` can run them in worker processes.
Every output goes through ``save_png_atomic``: an interrupted run leaves
complete files or none, and a re-run skips what is already converted and
removes the temporary files a killed run left (``remove_leftovers``). The
tools check their output folders before any work
(``ibnseg.engine.fileio.check_output_dir``) and stop at the first full-disk
error, naming the file.
"""
import argparse
import os
import os.path as osp
import sys
import time
from collections import Counter
from typing import (Callable, Dict, Iterable, List, Optional, Sequence,
                    Tuple)

import numpy as np
from PIL import Image

from ..engine.fileio import (DISK_FULL_ERRNOS, OutputPathError,
                             check_output_dir, check_output_file,
                             remove_partial_files)
from ..utils.parallel import parallel_map
from .labels import LABEL_ID_TO_TRAIN_ID
from .layouts import (GTA5_IMG_DIR, GTA5_IMG_SUFFIX, GTA5_LABEL_DIR,
                      GTA5_LABEL_IDS_SUFFIX, GTA5_TRAIN_IDS_SUFFIX,
                      gta5_paths, read_label_ids, read_png_size,
                      save_png_atomic)
from .skip_report import SkippedSample, write_skip_report

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


def add_conversion_arguments(parser: argparse.ArgumentParser) -> None:
    """The converters' shared options: --nproc and --force."""
    parser.add_argument(
        '--nproc',
        type=int,
        default=min(8, os.cpu_count() or 1),
        help='worker processes (1: no pool)')
    parser.add_argument(
        '--force', action='store_true', help='rewrite converted labels')


def remove_leftovers(folders: Iterable[str]) -> int:
    """Remove the temporary files a killed run left in ``folders`` and say
    how many (printed when there were any)."""
    removed = []
    for folder in sorted(set(folders)):
        removed.extend(remove_partial_files(folder))
    if removed:
        print(f'removed {len(removed)} partial file(s) left by an '
              f'interrupted run, e.g. {removed[0]}')
    return len(removed)


def is_disk_full(err: BaseException) -> bool:
    """Whether ``err`` is an ``OSError`` saying the disk or quota is full."""
    return isinstance(err, OSError) and err.errno in DISK_FULL_ERRNOS


def run_tasks(func: Callable, tasks: Sequence, nproc: int) -> List:
    """``func`` over ``tasks`` with a progress bar, in ``nproc`` processes
    (in this process when ``nproc`` is 1); see
    :func:`ibnseg.utils.parallel.parallel_map`."""
    # The platform's start method (fork on Linux, as mmengine's
    # track_parallel_progress used): the workers only run PIL and numpy, so
    # forking is safe, and they start at once instead of importing ibnseg.
    return parallel_map(func, tasks, nproc, progress=True, start_method=None)


# -- GTA5 ---------------------------------------------------------------------
def list_gta5_frames(root: str) -> List[str]:
    """Stems of every frame with an image or a raw label under ``root``."""
    stems = set()
    for folder, suffix in ((GTA5_IMG_DIR, GTA5_IMG_SUFFIX),
                           (GTA5_LABEL_DIR, GTA5_LABEL_IDS_SUFFIX)):
        path = osp.join(root, folder)
        if not osp.isdir(path):
            continue
        stems.update(
            name[:-len(suffix)] for name in os.listdir(path)
            if name.endswith(suffix) and not name.startswith('.')
            and not name.endswith(GTA5_TRAIN_IDS_SUFFIX))
    return sorted(stems)


def _image_size(path: str, verify: bool) -> Tuple[int, int]:
    height, width = read_png_size(path)
    if verify:
        try:
            with Image.open(path) as image:
                image.load()  # decodes everything: finds truncated files
        except (OSError, SyntaxError, ValueError) as err:
            raise ValueError(f'{path}: cannot decode the image ({err})') \
                from err
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
        label_size = read_png_size(label_path) if reuse else label_ids.shape
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


def check_and_convert_gta5_frame(
        task: Tuple[str, str, bool, bool]
) -> Tuple[str, str, Optional[SkippedSample]]:
    """One task of tools/convert_gta5_labels.py: (root, frame stem, force,
    verify_images) -> :func:`check_and_convert_pair` of that frame."""
    root, stem, force, verify_images = task
    img_path, label_path, train_ids_path = gta5_paths(root, stem)
    return check_and_convert_pair(stem, img_path, label_path,
                                  train_ids_path, LABEL_ID_TO_TRAIN_ID,
                                  force, verify_images)


def run_pair_conversion(func: Callable, tasks: Sequence, nproc: int,
                        out_dirs: Sequence[str], out_dirs_option: str,
                        report: str, report_option: str,
                        comment: str) -> int:
    """The pair converters' run (GTA5, Mapillary): the output folders and
    the skip report checked before any work, what a killed run left in them
    removed, ``func`` over ``tasks`` in ``nproc`` processes, the skipped
    pairs written to ``report``, a summary printed.

    Returns:
        int: The tool's exit status (2: unusable output, 1: disk full).
    """
    try:  # before any work, not after hours of it
        for folder in out_dirs:
            check_output_dir(folder, out_dirs_option)
        check_output_file(report, report_option)
    except OutputPathError as err:
        print(f'error: {err}', file=sys.stderr)
        return 2
    remove_leftovers(list(out_dirs) + [osp.dirname(osp.abspath(report))])
    started = time.time()
    try:
        results = run_tasks(func, tasks, nproc)
        skipped = [item for _, status, item in results if status == SKIPPED]
        write_skip_report(report, skipped, comment=comment)
    except OSError as err:
        if not is_disk_full(err):
            raise
        print(f'\nerror: {err}', file=sys.stderr)
        return 1
    problems = Counter(item.problem for item in skipped)
    print('\n' + summarize(
        [status for _, status, _ in results], started,
        dict(skip_report=report, **{
            f'skipped ({p})': n
            for p, n in sorted(problems.items())
        })))
    return 0


# -- Cityscapes ---------------------------------------------------------------
def convert_label_file_task(
        task: Tuple[str, str, bool]) -> Tuple[str, str, str]:
    """(src, dst, force) -> (src, status, error message or '').

    A full disk is raised rather than returned (the run stops there)."""
    src, dst, force = task
    try:
        return src, convert_label_file(src, dst, force), ''
    except (OSError, ValueError) as err:
        if is_disk_full(err):
            raise  # every later file would fail too: stop the run
        return src, FAILED, str(err)


def find_files(folder: str, suffix: str) -> List[str]:
    """Every non-hidden file under ``folder`` whose name ends with
    ``suffix``, sorted."""
    found = []
    for parent, _, names in os.walk(folder):
        found.extend(
            osp.join(parent, n) for n in names
            if n.endswith(suffix) and not n.startswith('.'))
    return sorted(found)


# -- summaries ----------------------------------------------------------------
def summarize(statuses: Sequence[str], started: float,
              extra: Dict[str, object] = None) -> str:
    """One readable paragraph: counts per status, time, extra facts."""
    counts = Counter(statuses)
    lines = [f'{len(statuses)} label file(s) in {time.time() - started:.1f}s:']
    for status in (CONVERTED, ALREADY_CONVERTED, SKIPPED, FAILED):
        if counts.get(status):
            lines.append(f'  {status}: {counts[status]}')
    for key, value in (extra or {}).items():
        lines.append(f'  {key}: {value}')
    return '\n'.join(lines)
