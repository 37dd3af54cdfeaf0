import os
import stat

import pytest
from mmengine.fileio import get_file_backend

from ibnseg.engine.fileio import (PARTIAL_SUFFIX, AtomicLocalBackend,
                                  atomic_write, remove_partial_files)


def _fail_fsync(monkeypatch):
    """Make the next write fail after its bytes are in the temporary file
    and before the rename: the moment a kill does the most damage."""

    def fsync(fd):
        raise OSError('disk vanished')

    monkeypatch.setattr(os, 'fsync', fsync)


def test_atomic_write_bytes_and_text(tmp_path):
    target = tmp_path / 'new' / 'dir' / 'file.bin'
    atomic_write(target, b'\x00\x01first')
    assert target.read_bytes() == b'\x00\x01first'
    atomic_write(target, 'zweite Fassung', encoding='utf-16')
    assert target.read_bytes() == 'zweite Fassung'.encode('utf-16')
    assert os.listdir(target.parent) == ['file.bin']


def test_atomic_write_uses_normal_permissions(tmp_path):
    plain = tmp_path / 'plain'
    plain.write_bytes(b'x')
    atomic = tmp_path / 'atomic'
    atomic_write(atomic, b'x')
    assert stat.S_IMODE(atomic.stat().st_mode) == \
        stat.S_IMODE(plain.stat().st_mode)


def test_interrupted_write_keeps_previous_file(tmp_path, monkeypatch):
    target = tmp_path / 'checkpoint.pth'
    atomic_write(target, b'complete old checkpoint')
    _fail_fsync(monkeypatch)
    with pytest.raises(OSError, match='disk vanished'):
        atomic_write(target, b'new checkpoint that never completes')
    assert target.read_bytes() == b'complete old checkpoint'
    assert os.listdir(tmp_path) == ['checkpoint.pth']


def test_interrupted_first_write_leaves_nothing(tmp_path, monkeypatch):
    _fail_fsync(monkeypatch)
    with pytest.raises(OSError):
        atomic_write(tmp_path / 'checkpoint.pth', b'data')
    assert os.listdir(tmp_path) == []


def test_remove_partial_files_only_removes_partials(tmp_path):
    partial = tmp_path / f'.iter_4.pth.123.abcd1234{PARTIAL_SUFFIX}'
    partial.write_bytes(b'half')
    keep = ['iter_2.pth', f'iter_2.pth{PARTIAL_SUFFIX}', '.hidden']
    for name in keep:
        (tmp_path / name).write_bytes(b'keep')
    assert remove_partial_files(tmp_path) == [str(partial)]
    assert sorted(os.listdir(tmp_path)) == sorted(keep)
    assert remove_partial_files(tmp_path / 'missing') == []


def test_atomic_local_backend(tmp_path, monkeypatch):
    backend = get_file_backend(
        str(tmp_path), backend_args=dict(backend='atomic_local'))
    assert isinstance(backend, AtomicLocalBackend)
    path = str(tmp_path / 'a.txt')
    backend.put_text('first', path)
    backend.put(b'second', path)
    assert backend.get_text(path) == 'second'
    _fail_fsync(monkeypatch)
    with pytest.raises(OSError):
        backend.put(b'third', path)
    assert backend.get(path) == b'second'
