"""Atomic writes of local files, an mmengine file backend built on them, and
the tools' check of their output locations.

A file written in place (``open(path, 'wb')``) is truncated first and filled
afterwards, so a process killed in between leaves a partial file where a
good one used to be. :func:`atomic_write` writes to a temporary file in the
same folder and renames it over the target: ``os.replace`` within one file
system is atomic, so readers see the old bytes or the new ones, never a mix.

A tool that finds out only after an hour of work that it cannot write its
results loses the hour: :func:`check_output_dir` and
:func:`check_output_file` say beforehand whether a location can be written,
and :func:`check_output_options` turns a bad one into an argparse error.
A tool that names its outputs after its inputs checks the names with
:func:`check_output_names` before any work: a name could otherwise climb
out of the output folder (``../``) or land on another output.
"""
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

#: Name suffix of temporary files that :func:`atomic_write` has not yet
#: renamed into place; any such file left on disk is from a killed writer.
PARTIAL_SUFFIX = '.ibnseg-partial'


def _fsync_dir(dirname: str) -> None:
    """Make a rename in ``dirname`` survive a power loss (POSIX only)."""
    try:
        fd = os.open(dirname, os.O_RDONLY)
    except OSError:  # e.g. Windows cannot open folders; rename is enough
        return
    try:
        os.fsync(fd)
    except OSError:
        pass
    finally:
        os.close(fd)


#: errno values that mean "the disk (or the user's quota) is full".
DISK_FULL_ERRNOS = (errno.ENOSPC, errno.EDQUOT)


def _named_write_error(err: OSError, path: str) -> OSError:
    """``err`` with a message naming ``path`` (and a full disk as such);
    the errno (hence the OSError subclass) is kept, so callers can still
    test for ``ENOSPC``. Errors that already name a file are kept as is."""
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
    """Replace ``filepath`` with ``data`` in one step.

    The data goes to ``.<name>.<pid>.<random>.ibnseg-partial`` next to the
    target (same file system, so the rename is atomic), is flushed to disk,
    then renamed over ``filepath``. If anything fails before the rename (an
    exception, or ``KeyboardInterrupt``) the temporary file is removed and
    ``filepath`` is left as it was.

    Args:
        filepath (str | Path): File to write; its folder is created if needed.
        data (bytes | str | callable): Content; ``str`` is encoded with
            ``encoding``. A callable is called with the temporary file open
            for binary writing and writes the content itself, for writers
            that want a file object, e.g.
            ``lambda f: image.save(f, format='PNG')``.
        encoding (str): Encoding for ``str`` data. Defaults to 'utf-8'.

    Returns:
        str: ``filepath`` as given (as str).

    Raises:
        OSError: a failed write, with the errno of the original error (which
            is chained) and a message naming ``filepath``; a full disk is
            said to be one.
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
    """Delete temporary files that killed :func:`atomic_write` calls left.

    Only names of the form ``.<name>.*.ibnseg-partial`` are touched.

    Args:
        dirname (str | Path): Folder to clean; a missing folder is fine.

    Returns:
        list[str]: Paths of the files removed.
    """
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
    """mmengine's ``LocalBackend`` whose writes are atomic.

    Select it with ``backend_args=dict(backend='atomic_local')`` wherever
    mmengine takes ``backend_args`` (e.g. ``CheckpointHook``); reads, listing
    and removal are ``LocalBackend``'s.
    """

    def put(self, obj: bytes, filepath: Union[str, Path]) -> None:
        """Write bytes to ``filepath`` atomically (:func:`atomic_write`)."""
        atomic_write(filepath, obj)

    def put_text(self, obj: str, filepath: Union[str, Path],
                 encoding: str = 'utf-8') -> None:
        """Write text to ``filepath`` atomically (:func:`atomic_write`)."""
        atomic_write(filepath, obj, encoding=encoding)


class OutputPathError(ValueError):
    """An output location that cannot be written; the message names the
    option (or config key) and the path, and says why."""


def _check_creatable(path: str, option: str) -> None:
    """Raise unless the missing folder ``path`` can be made: its nearest
    existing ancestor must be a folder this process may write in."""
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
    """Check, without creating anything, that ``path`` can hold outputs.

    Fine: an existing folder this process may write in, or a missing one
    whose nearest existing ancestor is such a folder. Refused: an existing
    file (or broken link) at ``path`` or at an ancestor, and folders that
    :func:`os.access` says cannot be written (as root that is only a
    read-only file system: permissions do not stop root's writes).

    Args:
        path (str | Path, optional): The folder; None (an option not given)
            passes.
        option (str): Names the location in the message, e.g. '--out'.

    Returns:
        str | None: ``path`` as given (as str).

    Raises:
        OutputPathError: ``'<option> <path>: <why>'``.
    """
    if path is None:
        return None
    path = os.fspath(path)
    full = osp.abspath(path)
    if osp.lexists(full):
        if not osp.isdir(full):
            kind = 'a file' if osp.exists(full) else 'a broken link'
            raise OutputPathError(f'{option} {path}: is {kind}, not a folder')
        if not os.access(full, os.W_OK | os.X_OK):
            raise OutputPathError(
                f'{option} {path}: no permission to write there')
    else:
        _check_creatable(full, option)
    return path


def check_output_file(path: Optional[Union[str, Path]],
                      option: str) -> Optional[str]:
    """Check, without creating anything, that file ``path`` can be written.

    Fine: an existing file this process may write (it will be replaced), or
    a missing one whose folder exists or can be made (see
    :func:`check_output_dir`). Refused: a folder at ``path``, an
    unwritable file, and a folder that cannot be written or made.

    Args:
        path (str | Path, optional): The file; None passes.
        option (str): Names the location in the message, e.g. '--out'.

    Returns:
        str | None: ``path`` as given (as str).

    Raises:
        OutputPathError: ``'<option> <path>: <why>'``.
    """
    if path is None:
        return None
    path = os.fspath(path)
    full = osp.abspath(path)
    if osp.isdir(full):
        raise OutputPathError(f'{option} {path}: is a folder, not a file')
    if osp.exists(full):
        if not os.access(full, os.W_OK):
            raise OutputPathError(
                f'{option} {path}: no permission to write it')
        # replaced by a rename, or written in place: the folder matters too
    folder = osp.dirname(full)
    if osp.isdir(folder):
        if not os.access(folder, os.W_OK | os.X_OK):
            raise OutputPathError(f'{option} {path}: cannot be created: no '
                                  f'permission to write in {folder}')
    else:
        _check_creatable(full, option)
    return path


def check_output_names(outputs: Iterable[Tuple[str, str]],
                       folder: Union[str, Path], option: str) -> None:
    """Check, before any work, the files a tool names after its inputs.

    Each output is resolved as the write will find it (symbolic links of
    its folders followed, ``..`` applied) and must lie inside ``folder``
    (itself resolved), and no two may be the same file: one input's name
    with ``..`` in it (a glob such as ``'a/*/../../x.png'``, a model named
    ``..``) would otherwise overwrite a file outside the output folder, and
    two inputs of one name would overwrite each other silently. The file
    itself is not resolved: the atomic writes replace a link at the target
    instead of writing through it.

    Args:
        outputs (Iterable[tuple[str, str]]): ``(input, output file)`` pairs;
            ``input`` names the output's source in messages (a file, a
            model name); one input may have several outputs.
        folder (str | Path): The output folder.
        option (str): Names the folder in messages, e.g. '--out'.

    Raises:
        OutputPathError: ``'<input>: its output <file> would be written
            outside <option> <folder>'``, or the two inputs whose outputs
            are one file.
    """
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
    """Check a tool's output options; the first bad one ends the tool with
    ``parser.error`` (usage, ``<tool>: error: <option> <path>: <why>``,
    status 2).

    Call it right after parsing, before any work, e.g.::

        check_output_options(parser, dirs={'--out': args.out},
                             files={'--preview': args.preview})

    Args:
        parser (ArgumentParser): The tool's parser.
        dirs (dict[str, str | None]): Option -> output folder (None: not
            given, skipped); see :func:`check_output_dir`.
        files (dict[str, str | None]): Option -> output file; see
            :func:`check_output_file`.
    """
    try:
        for option, path in (dirs or {}).items():
            check_output_dir(path, option)
        for option, path in (files or {}).items():
            check_output_file(path, option)
    except OutputPathError as error:
        parser.error(str(error))
