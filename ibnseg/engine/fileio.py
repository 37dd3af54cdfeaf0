"""Atomic writes of local files, and an mmengine file backend built on them.

A file written in place (``open(path, 'wb')``) is truncated first and filled
afterwards, so a process killed in between leaves a partial file where a
good one used to be. :func:`atomic_write` writes to a temporary file in the
same folder and renames it over the target: ``os.replace`` within one file
system is atomic, so readers see the old bytes or the new ones, never a mix.
"""
import contextlib
import os
import os.path as osp
import uuid
from pathlib import Path
from typing import Union

from mmengine.fileio import LocalBackend, register_backend

__all__ = ['PARTIAL_SUFFIX', 'AtomicLocalBackend', 'atomic_write',
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


def atomic_write(filepath: Union[str, Path], data: Union[bytes, str],
                 encoding: str = 'utf-8') -> None:
    """Replace ``filepath`` with ``data`` in one step.

    The data goes to ``.<name>.<pid>.<random>.ibnseg-partial`` next to the
    target (same file system, so the rename is atomic), is flushed to disk,
    then renamed over ``filepath``. If anything fails before the rename the
    temporary file is removed and ``filepath`` is left as it was.

    Args:
        filepath (str | Path): File to write; its folder is created if needed.
        data (bytes | str): Content; ``str`` is encoded with ``encoding``.
        encoding (str): Encoding for ``str`` data. Defaults to 'utf-8'.
    """
    if isinstance(data, str):
        data = data.encode(encoding)
    filepath = osp.abspath(os.fspath(filepath))
    dirname, basename = osp.split(filepath)
    os.makedirs(dirname, exist_ok=True)
    tmp_path = osp.join(
        dirname,
        f'.{basename}.{os.getpid()}.{uuid.uuid4().hex[:8]}{PARTIAL_SUFFIX}')
    try:
        # 'xb' (not mkstemp) so the file gets the usual umask permissions.
        with open(tmp_path, 'xb') as f:
            f.write(data)
            f.flush()
            os.fsync(f.fileno())
        os.replace(tmp_path, filepath)
    except BaseException:
        with contextlib.suppress(OSError):
            os.remove(tmp_path)
        raise
    _fsync_dir(dirname)


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
