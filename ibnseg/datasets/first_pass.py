"""The datasets' first-pass check: broken image/label pairs found at
construction rather than hours into training, without decoding a pixel.

Per file it reads the size, a PNG's bit depth and colour type, and whether
the file is complete (a PNG ends with IEND, a JPEG with FFD9), cached by
(path, size, mtime) in ``CACHE_NAME``: in the data root where writable, else
under ``$IBNSEG_CACHE/first_pass/<hash>/``; ``REPORT_NAME`` next to it lists
the broken pairs. A file beyond ``max_pixels`` (a header can claim
30000x30000 in a few bytes) or a label PNG of another depth than 8 bits
(mmseg casts 16-bit labels, PIL scales 1- to 4-bit ones) is an error.
"""
import hashlib
import json
import logging
import os
import os.path as osp
import struct
import time
from typing import (Callable, Collection, Dict, List, Optional, Sequence,
                    Tuple)

from mmengine.logging import print_log
from PIL import Image, UnidentifiedImageError

from ..engine.fileio import atomic_write
from ..utils.parallel import parallel_map
from .layouts import DatasetError, label_depth_problem
from .skip_report import SkippedSample, write_skip_report

CACHE_NAME = '.ibnseg_first_pass_cache.json'
REPORT_NAME = 'first_pass_skipped.tsv'
CACHE_VERSION = 2
#: Pixels a file may have by default: PIL's decompression-bomb threshold
#: ``Image.MAX_IMAGE_PIXELS`` (about 9459x9459).
DEFAULT_MAX_PIXELS = 89_478_485
#: Environment variable of ibnseg's cache folder (also used by setup_env.sh).
CACHE_ENV = 'IBNSEG_CACHE'
#: Threads reading headers and tails (the work is waiting for I/O).
NUM_THREADS = 16
_CHUNK = 256  # files per pool task: a task per file costs more than a check
_TAIL_BYTES = 1024  # where the end marker is looked for
_PNG_SIGNATURE = b'\x89PNG\r\n\x1a\n'
_PNG_IEND = b'IEND\xaeB`\x82'  # the chunk type and its fixed CRC
_JPEG_EOI = b'\xff\xd9'

#: (width, height, problem, PNG bit depth, PNG colour type): problem is ''
#: for a good file; depth and colour type are 0 for other formats.
FileFacts = Tuple[int, int, str, int, int]


def inspect_file(path: str) -> FileFacts:
    """The ``FileFacts`` of an image file, from its header and last bytes."""
    try:
        with open(path, 'rb') as f:
            head = f.read(26)
            size = f.seek(0, os.SEEK_END)
            if head.startswith(_PNG_SIGNATURE):
                if len(head) < 26 or head[12:16] != b'IHDR':
                    return (0, 0, 'cannot read the PNG header (no IHDR '
                            'chunk)', 0, 0)
                width, height, depth, color_type = struct.unpack(
                    '>IIBB', head[16:26])
                f.seek(max(0, size - _TAIL_BYTES))
                if _PNG_IEND not in f.read():
                    return width, height, ('truncated: the PNG does not end '
                                           'with its IEND chunk'), depth, \
                        color_type
                return width, height, '', depth, color_type
            f.seek(0)
            with Image.open(f) as image:  # reads the header only
                width, height = image.size
                image_format = image.format
            if image_format == 'JPEG':
                f.seek(max(0, size - _TAIL_BYTES))
                if not f.read().rstrip(b'\x00').endswith(_JPEG_EOI):
                    return width, height, ('truncated: the JPEG does not end '
                                           'with its FFD9 marker'), 0, 0
            return width, height, '', 0, 0
    except UnidentifiedImageError:
        return 0, 0, 'cannot read the image header (not an image file)', 0, 0
    except Exception as err:  # OSError, PIL's SyntaxError, bomb errors
        return 0, 0, ('cannot read the image header '
                      f'({type(err).__name__}: {err})'), 0, 0


def cache_home() -> str:
    """ibnseg's cache folder: ``$IBNSEG_CACHE`` or ``~/.cache/ibnseg``."""
    return os.environ.get(CACHE_ENV) or osp.join(
        osp.expanduser('~'), '.cache', 'ibnseg')


def _parallel(func: Callable, items: Sequence, threads: int) -> List:
    workers = max(1, min(threads, -(-len(items) // _CHUNK)))
    return parallel_map(func, items, workers, threads=True, chunksize=_CHUNK)


def _read_cache(path: str) -> Optional[dict]:
    try:
        with open(path, encoding='utf-8') as f:
            cache = json.load(f)
    except (OSError, ValueError):
        return None  # missing or damaged: it is only a cache
    if not isinstance(cache, dict) or cache.get('version') != CACHE_VERSION:
        return None
    cache.setdefault('files', {})
    cache.setdefault('broken', {})
    return cache


def _stat(path: str) -> Optional[Tuple[int, int]]:
    try:
        stat = os.stat(path)
    except OSError:
        return None
    return stat.st_size, stat.st_mtime_ns


class _PairChecker:
    """One first pass over a dataset's pairs; see ``check_pairs``."""

    def __init__(self, base, owner, cache_dir, threads):
        self.base = base
        self.prefixes = [
            osp.join(base, ''),
            osp.join(osp.abspath(base), '')
        ]
        self.owner = owner
        self.threads = threads
        key = hashlib.sha1(osp.abspath(base).encode('utf-8')).hexdigest()[:16]
        self.folders = [cache_dir] if cache_dir else [
            base, osp.join(cache_home(), 'first_pass', key)]
        self.cache, self.folder = None, None
        for folder in self.folders:
            self.cache = _read_cache(osp.join(folder, CACHE_NAME))
            if self.cache is not None:
                self.folder = folder
                break
        if self.cache is None:
            self.cache = dict(version=CACHE_VERSION, files={}, broken={})

    def key(self, path: str) -> str:
        """``path`` relative to the data root (sliced: ``relpath`` costs
        more than the rest of a cached check)."""
        for prefix in self.prefixes:
            if path.startswith(prefix):
                return path[len(prefix):]
        return osp.relpath(osp.abspath(path), osp.abspath(self.base))

    def file_facts(self, paths: List[str]) -> Tuple[Dict[str, FileFacts],
                                                    int]:
        """Facts of every path, from the cache where size and mtime match;
        also returns how many files were read."""
        cached = self.cache['files']
        stats = _parallel(_stat, paths, self.threads)
        facts, stale = {}, []
        for path, stat in zip(paths, stats):
            entry = cached.get(self.key(path))
            if stat is None:
                facts[path] = (0, 0, 'cannot read the file (it disappeared '
                               'or is not readable)', 0, 0)
            elif entry and entry[:2] == list(stat):
                facts[path] = tuple(entry[2:7])
            else:
                stale.append((path, stat))
        if len(stale) > 2000:
            print_log(
                f'{self.owner}: first-pass check of {len(stale)} files '
                '(image sizes and complete files; cached for the next start)',
                logger='current', level=logging.INFO)
        inspected = _parallel(lambda item: inspect_file(item[0]), stale,
                              self.threads)
        for (path, stat), result in zip(stale, inspected):
            facts[path] = result
            cached[self.key(path)] = [*stat, *result]
        return facts, len(stale)

    def save(self, broken_changed: bool, report_wanted: bool) -> Optional[str]:
        """Write the cache (and the report) to the first folder that takes
        it; returns the report's path, or None when none was written."""
        for folder in self.folders:
            try:
                latest = _read_cache(osp.join(folder, CACHE_NAME))
                if latest is not None:
                    # another dataset or process may have added files since
                    latest['files'].update(self.cache['files'])
                    self.cache['files'] = latest['files']
                atomic_write(
                    osp.join(folder, CACHE_NAME),
                    json.dumps(self.cache, separators=(',', ':')))
                report = osp.join(folder, REPORT_NAME)
                if report_wanted and (broken_changed or
                                      not osp.isfile(report)):
                    self.write_report(report)
                return report if report_wanted else None
            except OSError as err:
                last_error = err
        print_log(
            f'{self.owner}: cannot write the first-pass cache in '
            f'{" or ".join(self.folders)} ({last_error}); the next start '
            'checks every file again', logger='current',
            level=logging.WARNING)
        return None

    def write_report(self, path: str) -> None:
        write_skip_report(
            path, [
                SkippedSample(name, problem, detail)
                for name, (problem, detail) in self.cache['broken'].items()
            ],
            comment='Broken pairs found by the first-pass check of the '
            f'datasets (ibnseg.datasets.first_pass) on {self.base}; they '
            'are skipped. Delete this file to have it written again.')


def _refuse_unusable(pairs: Sequence[Tuple[str, str, str]],
                     facts: Dict[str, FileFacts], owner: str,
                     max_pixels: Optional[int],
                     wide_labels: Collection[str]) -> None:
    """Raise for files beyond ``max_pixels`` and labels of a bit depth the
    loaders do not read as stored."""

    def more(found: List[str]) -> str:
        return (f'; {len(found) - 1} more file(s) like it, e.g. {found[1]}'
                if len(found) > 1 else '')

    too_large = [path for _, *files in pairs for path in files
                 if max_pixels is not None
                 and facts[path][0] * facts[path][1] > max_pixels]
    if too_large:
        width, height = facts[too_large[0]][:2]
        raise DatasetError(
            f'{owner}: {too_large[0]} is {width}x{height} pixels (WxH, '
            f'{width * height / 1e6:.1f} megapixels), beyond the first-pass '
            f'budget of {max_pixels} pixels: decoding it could exhaust the '
            f'memory{more(too_large)}. If the data is meant to be this '
            'large, raise the budget with the dataset option '
            'first_pass_max_pixels (None: no budget)')
    too_deep = [path for _, _, path in pairs if label_depth_problem(
        *facts[path][3:5], wide=path in wide_labels)]
    if too_deep:
        problem = label_depth_problem(*facts[too_deep[0]][3:5],
                                      wide=too_deep[0] in wide_labels)
        raise DatasetError(
            f'{owner}: label {too_deep[0]} is {problem}{more(too_deep)}. '
            'Save the labels as 8-bit grayscale or palette PNGs')


def check_pairs(pairs: Sequence[Tuple[str, str, str]],
                base: str,
                owner: str = 'dataset',
                cache_dir: Optional[str] = None,
                threads: int = NUM_THREADS,
                max_pixels: Optional[int] = DEFAULT_MAX_PIXELS,
                wide_labels: Collection[str] = ()
                ) -> Tuple[List[SkippedSample], Optional[str]]:
    """The broken pairs among ``(sample name, image, label)`` ``pairs`` of
    existing files, and the report listing every broken pair known on
    ``base`` (None when none or unwritable). ``base``, the data root, keys
    the cache (kept in ``cache_dir`` if given); ``owner`` names the dataset
    in messages; ``wide_labels`` may store 16 bits. A file of a good pair
    beyond ``max_pixels`` (None: any) or a label of another bit depth raises
    ``DatasetError``, after the cache is saved.
    """
    started = time.perf_counter()
    checker = _PairChecker(base, owner, cache_dir, threads)
    paths = sorted({p for _, img, label in pairs for p in (img, label)})
    facts, num_read = checker.file_facts(paths)
    broken = checker.cache['broken']
    before = dict(broken)
    skipped, kept = [], []
    for name, img_path, label_path in pairs:
        img_w, img_h, img_problem = facts[img_path][:3]
        label_w, label_h, label_problem = facts[label_path][:3]
        if img_problem:
            item = SkippedSample(name, 'unreadable_image',
                                 f'{img_path}: {img_problem}')
        elif label_problem:
            item = SkippedSample(name, 'unreadable_label',
                                 f'{label_path}: {label_problem}')
        elif (img_w, img_h) != (label_w, label_h):
            item = SkippedSample(
                name, 'size_mismatch', f'image {img_w}x{img_h}, label '
                f'{label_w}x{label_h} (WxH): {img_path}, {label_path}')
        else:
            broken.pop(name, None)
            kept.append((name, img_path, label_path))
            continue
        skipped.append(item)
        broken[name] = [item.problem, ' '.join(item.detail.split())]
    report = None
    if num_read or broken != before:
        report = checker.save(broken != before, bool(broken))
    elif broken and checker.folder is not None:
        report = osp.join(checker.folder, REPORT_NAME)
        if not osp.isfile(report):
            report = checker.save(True, True)
    elapsed = time.perf_counter() - started
    print_log(
        f'{owner}: first-pass check of {len(pairs)} pairs ({len(paths)} '
        f'files, {num_read} read, {len(paths) - num_read} from the cache) in '
        f'{elapsed:.2f}s: {len(skipped)} broken',
        logger='current',
        level=logging.INFO if elapsed >= 1 else logging.DEBUG)
    _refuse_unusable(kept, facts, owner, max_pixels, wide_labels)
    return skipped, report
