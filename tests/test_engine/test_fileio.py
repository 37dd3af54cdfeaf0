import errno
import os
import stat

import pytest
from mmengine.fileio import get_file_backend

from ibnseg.engine.fileio import (PARTIAL_SUFFIX, AtomicLocalBackend,
                                  OutputPathError, atomic_write,
                                  check_output_dir, check_output_file,
                                  remove_partial_files)


def test_atomic_write_bytes_text_and_callback(tmp_path):
    target = tmp_path / 'new' / 'dir' / 'file.bin'
    atomic_write(target, b'\x00\x01first')
    assert target.read_bytes() == b'\x00\x01first'
    atomic_write(target, 'zweite Fassung', encoding='utf-16')
    assert target.read_bytes() == 'zweite Fassung'.encode('utf-16')
    seen = []

    def write(f):  # gets the temporary file, in the same folder
        seen.append(f.name)
        f.write(b'from a callback')

    assert atomic_write(target, write) == str(target)
    assert target.read_bytes() == b'from a callback'
    assert seen[0].endswith(PARTIAL_SUFFIX)
    assert os.path.dirname(seen[0]) == str(target.parent)
    assert os.listdir(target.parent) == ['file.bin']
    plain = tmp_path / 'plain'  # the usual umask permissions
    plain.write_bytes(b'x')
    assert stat.S_IMODE(target.stat().st_mode) == \
        stat.S_IMODE(plain.stat().st_mode)


EIO = OSError(errno.EIO, os.strerror(errno.EIO))
ENOSPC = OSError(errno.ENOSPC, os.strerror(errno.ENOSPC))


@pytest.mark.parametrize('old', [b'complete old checkpoint', None])
@pytest.mark.parametrize('step, error, message', [
    # fsync: the last step before the rename, when a kill does most damage
    ('fsync', EIO, r'Input/output error while writing .*checkpoint\.pth'),
    ('write', ENOSPC, r'checkpoint\.pth: the disk is full \(free some'),
    ('write', ValueError('encoder failed'), 'encoder failed'),
    ('write', KeyboardInterrupt(), None)])
def test_a_failure_before_the_rename_keeps_the_previous_file(
        tmp_path, monkeypatch, old, step, error, message):
    """OSErrors name the file (a full disk as such) and keep their errno."""
    target = tmp_path / 'checkpoint.pth'
    if old is not None:
        atomic_write(target, old)

    def fail(f):
        if step == 'write':
            f.write(b'half of the ')
        raise error

    if step == 'fsync':
        monkeypatch.setattr(os, 'fsync', fail)
    with pytest.raises(type(error), match=message) as info:
        atomic_write(target, b'new' if step == 'fsync' else fail)
    assert getattr(info.value, 'errno', None) == getattr(error, 'errno', None)
    assert error in (info.value, info.value.__cause__)  # chained if named
    assert os.listdir(tmp_path) == ([] if old is None else ['checkpoint.pth'])
    assert old is None or target.read_bytes() == old


def test_an_error_naming_its_own_file_is_left_as_it_is(tmp_path):
    (tmp_path / 'a_file').write_bytes(b'')
    with pytest.raises(FileExistsError) as info:  # the folder to make
        atomic_write(tmp_path / 'a_file' / 'x.txt', b'data')
    assert info.value.filename == str(tmp_path / 'a_file')


def test_remove_partial_files_only_removes_partials(tmp_path):
    partial = tmp_path / f'.iter_4.pth.123.abcd1234{PARTIAL_SUFFIX}'
    partial.write_bytes(b'half')
    keep = ['iter_2.pth', f'iter_2.pth{PARTIAL_SUFFIX}', '.hidden']
    for name in keep:
        (tmp_path / name).write_bytes(b'keep')
    assert remove_partial_files(tmp_path) == [str(partial)]
    assert sorted(os.listdir(tmp_path)) == sorted(keep)
    assert remove_partial_files(tmp_path / 'missing') == []


def test_atomic_local_backend(tmp_path):
    backend = get_file_backend(
        str(tmp_path), backend_args=dict(backend='atomic_local'))
    assert isinstance(backend, AtomicLocalBackend)
    path = str(tmp_path / 'a.txt')
    backend.put_text('first', path)
    backend.put(b'second', path)
    assert backend.get_text(path) == 'second'


@pytest.fixture
def places(tmp_path, monkeypatch):
    """Existing and missing places, places that cannot be made because a
    file sits where a folder would have to be, and a folder os.access says
    this process cannot write in (tests run as root, whom permissions do
    not stop)."""
    (tmp_path / 'file.txt').write_text('keep me')
    (tmp_path / 'locked').mkdir()
    (tmp_path / 'locked' / 'old.txt').write_text('x')
    locked, access = str(tmp_path / 'locked'), os.access
    monkeypatch.setattr(os, 'access', lambda path, mode: not str(
        path).startswith(locked) and access(path, mode))
    return {name: str(tmp_path / path) for name, path in dict(
        folder='', file='file.txt', missing='new/nested',
        under_file='file.txt/sub/deeper', locked='locked',
        locked_file='locked/old.txt', locked_new='locked/a/b').items()}


@pytest.mark.parametrize('check, place, reason', [
    (check_output_dir, 'folder', None),
    (check_output_dir, 'missing', None),
    (check_output_file, 'file', None),
    (check_output_file, 'missing', None),
    (check_output_dir, 'file', 'is a file, not a folder'),
    (check_output_dir, 'under_file',
     'cannot be created: {file} is a file, not a folder'),
    (check_output_file, 'folder', 'is a folder, not a file'),
    (check_output_file, 'under_file',
     'cannot be created: {file} is a file, not a folder'),
    (check_output_dir, 'locked', 'no permission to write there'),
    (check_output_dir, 'locked_new',
     'cannot be created: no permission to write in {locked}'),
    (check_output_file, 'locked_file', 'no permission to write it'),
    (check_output_file, 'locked_new',
     'cannot be created: no permission to write in {locked}'),
])
def test_output_checks(places, check, place, reason):
    """They check, create nothing, pass None (an option not given) and
    name the option, the path and why."""
    if reason is None:
        assert check(places[place], '--out') == places[place]
        assert check(None, '--out') is None
        assert not os.path.exists(places['missing'])
        return
    with pytest.raises(OutputPathError) as error:
        check(places[place], '--out')
    assert str(error.value) == \
        f'--out {places[place]}: {reason.format(**places)}'
    assert isinstance(error.value, ValueError)  # tools catch ValueError
