import argparse
import errno
import os
import stat

import pytest
from mmengine.fileio import get_file_backend

from ibnseg.engine.fileio import (PARTIAL_SUFFIX, AtomicLocalBackend,
                                  OutputPathError, atomic_write,
                                  check_output_dir, check_output_file,
                                  check_output_options, remove_partial_files)


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
    plain = tmp_path / 'plain'  # the usual umask permissions
    plain.write_bytes(b'x')
    assert stat.S_IMODE(target.stat().st_mode) == \
        stat.S_IMODE(plain.stat().st_mode)


@pytest.mark.parametrize('old', [b'complete old checkpoint', None])
@pytest.mark.parametrize('error', [OSError('disk vanished'),
                                   ValueError('encoder failed'),
                                   KeyboardInterrupt()])
def test_a_failure_before_the_rename_keeps_the_previous_file(
        tmp_path, monkeypatch, old, error):
    """An OSError from fsync (the last step before the rename, when a kill
    does the most damage), or a callback writer raising halfway."""
    target = tmp_path / 'checkpoint.pth'
    if old is not None:
        atomic_write(target, old)

    def write(f):
        f.write(b'half of the ')
        raise error

    if isinstance(error, OSError):
        _fail_fsync(monkeypatch)
    with pytest.raises(type(error), match=str(error)):
        atomic_write(target, b'new' if isinstance(error, OSError) else write)
    assert os.listdir(tmp_path) == ([] if old is None else ['checkpoint.pth'])
    assert old is None or target.read_bytes() == old


def test_atomic_write_callback_gets_the_temporary_file(tmp_path):
    target = tmp_path / 'out.txt'
    seen = []

    def write(f):
        seen.append(f.name)
        f.write(b'from ')
        f.write(b'a callback')

    assert atomic_write(target, write) == str(target)
    assert target.read_bytes() == b'from a callback'
    assert seen[0] != str(target) and seen[0].endswith(PARTIAL_SUFFIX)
    assert os.path.dirname(seen[0]) == str(tmp_path)  # same file system


def test_write_errors_name_the_file_and_keep_errno(tmp_path, monkeypatch):
    target = tmp_path / 'iter_8.pth'

    def no_space(f):
        raise OSError(errno.ENOSPC, os.strerror(errno.ENOSPC))

    with pytest.raises(OSError, match=r'iter_8\.pth: the disk is full') \
            as info:
        atomic_write(target, no_space)
    assert info.value.errno == errno.ENOSPC
    assert isinstance(info.value.__cause__, OSError)
    assert os.listdir(tmp_path) == []

    def real_fsync_error(fd):
        raise OSError(errno.EIO, os.strerror(errno.EIO))

    monkeypatch.setattr(os, 'fsync', real_fsync_error)
    with pytest.raises(OSError, match=r'while writing .*iter_8\.pth') as info:
        atomic_write(target, b'data')
    assert info.value.errno == errno.EIO
    # an error that names its own file (here the folder) is left as it is
    blocker = tmp_path / 'a_file'
    blocker.write_bytes(b'')
    with pytest.raises(FileExistsError) as info:
        atomic_write(blocker / 'x.txt', b'data')
    assert info.value.filename == str(blocker)


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


@pytest.fixture
def places(tmp_path):
    """An existing folder, an existing file, and paths that cannot be made
    because a file sits where a folder would have to be (tests run as root,
    for whom permissions do not stop writes)."""
    file = tmp_path / 'file.txt'
    file.write_text('keep me')
    return dict(folder=str(tmp_path), file=str(file),
                under_file=str(file / 'sub' / 'deeper'))


@pytest.mark.parametrize('check', [check_output_dir, check_output_file])
def test_output_checks_accept_existing_and_creatable_places(
        places, tmp_path, check):
    existing = places['folder' if check is check_output_dir else 'file']
    assert check(existing, '--out') == existing
    missing = str(tmp_path / 'new' / 'nested')
    assert check(missing, '--out') == missing
    assert not (tmp_path / 'new').exists()  # it checks, it creates nothing
    assert check(None, '--out') is None  # option not given


@pytest.mark.parametrize('check, place, reason', [
    (check_output_dir, 'file', 'is a file, not a folder'),
    (check_output_dir, 'under_file',
     'cannot be created: {file} is a file, not a folder'),
    (check_output_file, 'folder', 'is a folder, not a file'),
    (check_output_file, 'under_file',
     'cannot be created: {file} is a file, not a folder'),
])
def test_output_checks_refuse(places, check, place, reason):
    with pytest.raises(OutputPathError) as error:
        check(places[place], '--out-dir')
    assert str(error.value) == \
        f'--out-dir {places[place]}: {reason.format(**places)}'
    assert isinstance(error.value, ValueError)  # tools catch ValueError


def test_unwritable_locations_are_refused(tmp_path, monkeypatch):
    """What os.access says decides (as root it says yes: see below)."""
    locked = tmp_path / 'locked'
    locked.mkdir()
    (locked / 'old.txt').write_text('x')
    real_access = os.access

    def access(path, mode, *args, **kwargs):
        if str(path).startswith(str(locked)):
            return False
        return real_access(path, mode, *args, **kwargs)

    monkeypatch.setattr(os, 'access', access)
    with pytest.raises(OutputPathError, match='locked: no permission to '
                       'write there'):
        check_output_dir(str(locked), '--work-dir')
    with pytest.raises(OutputPathError, match=f'cannot be created: no '
                       f'permission to write in {locked}'):
        check_output_dir(str(locked / 'a' / 'b'), '--work-dir')
    with pytest.raises(OutputPathError, match='old.txt: no permission to '
                       'write it'):
        check_output_file(str(locked / 'old.txt'), '--out')
    with pytest.raises(OutputPathError, match='no permission to write in'):
        check_output_file(str(locked / 'new.txt'), '--out')


def test_check_output_options_exits_like_argparse(places, capsys):
    parser = argparse.ArgumentParser(prog='tool.py')
    check_output_options(parser, dirs={'--out': places['folder'],
                                       '--data-root': None},
                         files={'--preview': places['file']})
    with pytest.raises(SystemExit) as exit_info:
        check_output_options(parser, dirs={'--out': places['folder'],
                                           '--data-root': places['file']})
    assert exit_info.value.code == 2
    err = capsys.readouterr().err
    assert err.startswith('usage: tool.py')
    assert (f'tool.py: error: --data-root {places["file"]}: is a file, not '
            'a folder') in err
