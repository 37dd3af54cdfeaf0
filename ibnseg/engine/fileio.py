"""The project's one atomic writer of local files (:func:`atomic_write`: a
process killed midway leaves the old file, not a partial one), the mmengine
file backend built on it, and the tools' checks of their output locations
before any work (``check_output_*``)."""
import argparse
import contextlib
import errno
import os
import os.path as osp
import uuid
from pathlib import Path
from typing import (Any, BinaryIO, Callable, Dict, Iterable, Optional,
                    Tuple, Union)

from mmengine.fileio import LocalBackend, register_backend

__all__ = ['DISK_FULL_ERRNOS', 'PARTIAL_SUFFIX', 'AtomicLocalBackend',
           'OutputPathError', 'atomic_write', 'check_output_dir',
           'check_output_file', 'check_output_names', 'check_output_options',
           'remove_partial_files']

#: Name suffix of :func:`atomic_write`'s temporary files; one left on disk
#: is from a killed writer.
PARTIAL_SUFFIX = '.ibnseg-partial'


def _fsync_dir(dirname: str) -> None:
    """Make a rename in ``dirname`` survive a power loss (POSIX; Windows
    cannot open folders, where the rename is enough)."""
    with contextlib.suppress(OSError):
        fd = os.open(dirname, os.O_RDONLY)
        try:
            os.fsync(fd)
        finally:
            os.close(fd)


#: errno values of a full disk (or quota).
DISK_FULL_ERRNOS = (errno.ENOSPC, errno.EDQUOT)


def _named_write_error(err: OSError, path: str) -> OSError:
    """``err`` (same errno) with a message naming ``path`` and a full disk
    as such; errors that already name a file are kept."""
    if err.errno in DISK_FULL_ERRNOS:
        return OSError(
            err.errno, f'{err.strerror or os.strerror(err.errno)} while '
            f'writing {path}: the disk is full (free some space on it and run '
            'again)')
    if err.errno is not None and err.filename is None:
        return OSError(err.errno, f'{err.strerror} while writing {path}')
    return err


def atomic_write(filepath: Union[str, Path],
                 data: Union[bytes, str, Callable[[BinaryIO], Any]],
                 encoding: str = 'utf-8') -> str:
    """Replace ``filepath`` (its folder made if needed) with ``data`` in one
    step: written to ``.<name>.<pid>.<random>.ibnseg-partial`` beside it,
    flushed and renamed over it; on a failure before the rename the
    temporary file is removed. Returns ``filepath`` as str.

    Args:
        data (bytes | str | callable): ``str`` is encoded with ``encoding``;
            a callable gets the temporary file (binary), e.g.
            ``lambda f: image.save(f, 'PNG')``.

    Raises:
        OSError: A failed write (same errno, chained), naming ``filepath``
            and a full disk as such.
    """
    if isinstance(data, str):
        data = data.encode(encoding)
    target = osp.abspath(os.fspath(filepath))
    dirname, basename = osp.split(target)
    tmp_path = osp.join(
        dirname,
        f'.{basename}.{os.getpid()}.{uuid.uuid4().hex[:8]}{PARTIAL_SUFFIX}')
    try:
        os.makedirs(dirname, exist_ok=True)
        try:
            # 'xb' (not mkstemp) so the file gets the usual umask permissions.
            with open(tmp_path, 'xb') as f:
                if callable(data):
                    data(f)
                else:
                    f.write(data)
                f.flush()
                os.fsync(f.fileno())
            os.replace(tmp_path, target)
        except BaseException:
            with contextlib.suppress(OSError):
                os.remove(tmp_path)
            raise
    except OSError as err:
        named = _named_write_error(err, os.fspath(filepath))
        if named is err:
            raise
        raise named from err
    _fsync_dir(dirname)
    return os.fspath(filepath)


def remove_partial_files(dirname: Union[str, Path]) -> list:
    """Delete the temporary files killed :func:`atomic_write` calls left in
    ``dirname`` (a missing folder is fine); returns their paths."""
    dirname = os.fspath(dirname)
    if not osp.isdir(dirname):
        return []
    removed = []
    for name in os.listdir(dirname):
        if name.startswith('.') and name.endswith(PARTIAL_SUFFIX):
            path = osp.join(dirname, name)
            with contextlib.suppress(FileNotFoundError):
                os.remove(path)
                removed.append(path)
    return removed


@register_backend('atomic_local')
class AtomicLocalBackend(LocalBackend):
    """mmengine's ``LocalBackend`` whose writes go through
    :func:`atomic_write`: ``backend_args=dict(backend='atomic_local')``."""

    def put(self, obj: bytes, filepath: Union[str, Path]) -> None:
        atomic_write(filepath, obj)

    def put_text(self, obj: str, filepath: Union[str, Path],
                 encoding: str = 'utf-8') -> None:
        atomic_write(filepath, obj, encoding=encoding)


class OutputPathError(ValueError):
    """An output location that cannot be written; the message names the
    option (or config key) and the path, and says why."""


def _check_creatable(path: str, option: str) -> None:
    """Raise unless ``path`` can be made: its nearest existing ancestor must
    be a folder this process may write in."""
    ancestor = osp.dirname(path)
    while not osp.lexists(ancestor):
        ancestor = osp.dirname(ancestor)
    if not osp.isdir(ancestor):
        kind = 'a file' if osp.exists(ancestor) else 'a broken link'
        raise OutputPathError(f'{option} {path}: cannot be created: '
                              f'{ancestor} is {kind}, not a folder')
    if not os.access(ancestor, os.W_OK | os.X_OK):
        raise OutputPathError(f'{option} {path}: cannot be created: no '
                              f'permission to write in {ancestor}')


def check_output_dir(path: Optional[Union[str, Path]],
                     option: str) -> Optional[str]:
    """``path`` (as str; None passes) if, checked without creating
    anything, that folder can be written or made, else
    ``OutputPathError('<option> <path>: <why>')``."""
    if path is None:
        return None
    path = os.fspath(path)
    full = osp.abspath(path)
    if not osp.lexists(full):
        _check_creatable(full, option)
    elif not osp.isdir(full):
        kind = 'a file' if osp.exists(full) else 'a broken link'
        raise OutputPathError(f'{option} {path}: is {kind}, not a folder')
    elif not os.access(full, os.W_OK | os.X_OK):
        raise OutputPathError(f'{option} {path}: no permission to write there')
    return path


def check_output_file(path: Optional[Union[str, Path]],
                      option: str) -> Optional[str]:
    """As :func:`check_output_dir`, for a file: not a folder, writable if it
    exists, in a folder that can be written or made."""
    if path is None:
        return None
    path = os.fspath(path)
    full = osp.abspath(path)
    if osp.isdir(full):
        raise OutputPathError(f'{option} {path}: is a folder, not a file')
    if osp.exists(full) and not os.access(full, os.W_OK):
        raise OutputPathError(f'{option} {path}: no permission to write it')
    _check_creatable(full, option)  # the atomic write's folder
    return path


def check_output_names(outputs: Iterable[Tuple[str, str]],
                       folder: Union[str, Path], option: str) -> None:
    """Check, before any work, the files a tool names after its inputs
    (``(input, output file)`` pairs; the input names it in messages): each,
    its folders resolved (the file itself is replaced, not written
    through), must lie inside ``folder`` (``option``), no two in one file;
    else :class:`OutputPathError`."""
    root = osp.realpath(os.fspath(folder))
    inside = osp.join(root, '')
    resolved_dirs: Dict[str, str] = {}  # one realpath per folder, not file
    taken: Dict[str, Tuple[str, str]] = {}
    for source, path in outputs:
        path = os.fspath(path)
        parent, name = osp.split(osp.abspath(path))
        if parent not in resolved_dirs:
            resolved_dirs[parent] = osp.realpath(parent)
        real = osp.join(resolved_dirs[parent], name)
        if not real.startswith(inside):
            raise OutputPathError(
                f'{source}: its output {path} would be written outside '
                f'{option} {folder} (to {real})')
        if real in taken:
            other, other_path = taken[real]
            whose = (f'{source}: its outputs {other_path} and {path}'
                     if other == source else
                     f'{other} and {source}: their outputs {other_path} and '
                     f'{path}')
            raise OutputPathError(f'{whose} are the same file {real}; '
                                  'rename one, or write them in two runs')
        taken[real] = (source, path)


def check_output_options(parser: argparse.ArgumentParser,
                         dirs: Optional[Dict[str, object]] = None,
                         files: Optional[Dict[str, object]] = None) -> None:
    """Check a tool's output options (option -> folder in ``dirs``, file
    in ``files``; None: not given) right after parsing; the first bad one
    ends the tool with ``parser.error`` (status 2)."""
    try:
        for option, path in (dirs or {}).items():
            check_output_dir(path, option)
        for option, path in (files or {}).items():
            check_output_file(path, option)
    except OutputPathError as error:
        parser.error(str(error))
