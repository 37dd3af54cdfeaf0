import errno
import multiprocessing
import os
import os.path as osp
import re
import signal

import numpy as np
import pytest
from PIL import Image
from scipy.io import savemat

from ibnseg.datasets.layouts import read_label_ids
from ibnseg.datasets.skip_report import (SkippedSample, read_skip_report,
                                         write_skip_report)
from ibnseg.datasets.subsets import read_id_list
from tests.helpers.data_factory import (gta5_label_path, make_cityscapes,
                                        make_gta5, truncate_file)
from tests.helpers.datasets import official_lut
from tests.helpers.tools import load_tool

convert_gta5 = load_tool('convert_gta5_labels')
convert_cityscapes = load_tool('convert_cityscapes_labels')
split_from_mat = load_tool('gta5_split_from_mat')
LUT = official_lut()


def check_converted_gta5(gta, stems):
    for stem in stems:
        converted = read_label_ids(gta5_label_path(gta.root, stem, True))
        # every pixel against the official table
        np.testing.assert_array_equal(converted, LUT[gta.label_ids[stem]])


def test_gta5_conversion_in_two_processes_rerun_and_report(
        tmp_path, capsys, monkeypatch):
    gta = make_gta5(
        tmp_path / 'gta5', num_images=8, mismatched=[2], missing_labels=[3],
        missing_images=[4], corrupt_images=[5], corrupt_labels=[6])
    # a truncated image's header reads: checked with --verify-images only
    truncate_file(osp.join(gta.root, 'images', '00008.png'), 0.5)
    # the data root defaults to the domain's variable
    monkeypatch.setenv('IBNSEG_GTA5_ROOT', gta.root)
    assert convert_gta5.main(['--nproc', '2']) == 0
    check_converted_gta5(gta, gta.good_ids)
    for stem in gta.problems:
        assert not osp.exists(gta5_label_path(gta.root, stem, True))
    report_path = osp.join(gta.root, 'skipped_pairs.tsv')
    problems = {
        '00002': 'size_mismatch',
        '00003': 'missing_label',
        '00004': 'missing_image',
        '00005': 'unreadable_image',
        '00006': 'unreadable_label'
    }
    report = read_skip_report(report_path)
    assert {k: v.problem for k, v in report.items()} == problems
    assert '64x32' in report['00002'].detail
    out = capsys.readouterr().out
    assert 'converted: 3' in out and 'skipped: 5' in out
    assert 'skipped (size_mismatch): 1' in out
    first = os.stat(gta5_label_path(gta.root, 1, True)).st_mtime_ns
    convert_gta5.main(['--nproc', '1'])
    out = capsys.readouterr().out
    assert 'already converted: 3' in out and 'converted: 3' not in \
        out.replace('already converted', '')
    assert os.stat(gta5_label_path(gta.root, 1, True)).st_mtime_ns == first
    # the re-run still checks every pair
    assert {k: v.problem
            for k, v in read_skip_report(report_path).items()} == problems
    convert_gta5.main(['--nproc', '1', '--force'])
    assert 'converted: 3' in capsys.readouterr().out
    check_converted_gta5(gta, gta.good_ids)
    convert_gta5.main(['--nproc', '1', '--verify-images'])
    assert read_skip_report(report_path)['00008'].problem == \
        'unreadable_image'


def test_cityscapes_conversion(tmp_path, capsys, monkeypatch):
    cs = make_cityscapes(tmp_path / 'cs', splits={'train': 3, 'val': 2})
    monkeypatch.setenv('IBNSEG_CITYSCAPES_ROOT', cs.root)
    assert convert_cityscapes.main(['--nproc', '2']) == 0
    for split, names in cs.names.items():
        for name in names:
            np.testing.assert_array_equal(
                read_label_ids(cs.label_path(split, name, train_ids=True)),
                LUT[cs.label_ids[f'{split}/{name}']])
    assert 'converted: 5' in capsys.readouterr().out


def test_cityscapes_unreadable_and_4_bit_labels_fail_naming_them(
        tmp_path, capsys):
    """PIL scales a 4-bit grayscale PNG (label id 7 becomes 119)."""
    cs = make_cityscapes(tmp_path / 'cs', splits={'train': 3})
    junk, four_bits = (cs.label_path('train', name)
                       for name in cs.names['train'][:2])
    with open(junk, 'wb') as f:
        f.write(b'junk')
    label_ids = np.array(Image.open(four_bits))
    Image.fromarray(np.minimum(label_ids, 15)).save(four_bits, bits=4)
    assert convert_cityscapes.main([cs.root, '--nproc', '1',
                                    '--splits', 'train']) == 1
    captured = capsys.readouterr()
    assert 'failed: 2' in captured.out and junk in captured.err
    assert (f'{four_bits}: the label is a 4-bit grayscale PNG; expected 8 '
            'bits per sample') in captured.err
    assert not os.path.exists(four_bits.replace('_gtFine_labelIds.png',
                                                '_gtFine_labelTrainIds.png'))


def test_split_from_mat(tmp_path, monkeypatch):
    mat = str(tmp_path / 'split.mat')
    savemat(mat, dict(trainIds=np.array([[3], [1], [10]]),
                      valIds=np.array([[2]]), testIds=np.array([[24966]])))
    # by default under the GTA5 root, where the configs read the splits
    monkeypatch.setenv('IBNSEG_GTA5_ROOT', str(tmp_path))
    assert split_from_mat.main([mat]) == 0
    out = str(tmp_path / 'splits')
    assert read_id_list(osp.join(out, 'train.txt')) == [
        '00001', '00003', '00010']
    assert read_id_list(osp.join(out, 'val.txt')) == ['00002']
    assert read_id_list(osp.join(out, 'test.txt')) == ['24966']


@pytest.mark.parametrize('content,match', [
    (dict(trainIds=[[1]], valIds=[[2]]), "no 'testIds'"),
    (dict(trainIds=[[1]], valIds=[[1]], testIds=[[3]]), 'more than one'),
    (dict(trainIds=[[0.5]], valIds=[[2]], testIds=[[3]]), 'positive integer'),
])
def test_split_from_mat_bad_files(tmp_path, content, match):
    mat = str(tmp_path / 'split.mat')
    savemat(mat, {k: np.array(v) for k, v in content.items()})
    with pytest.raises(ValueError, match=match):
        split_from_mat.read_split_mat(mat)
    (tmp_path / 'junk.mat').write_bytes(b'junk')
    with pytest.raises(ValueError, match='junk.mat'):
        split_from_mat.read_split_mat(str(tmp_path / 'junk.mat'))


def test_skip_report_round_trip_and_bad_lines(tmp_path):
    path = str(tmp_path / 'r.tsv')
    write_skip_report(path, [SkippedSample('2', 'missing_label', 'a\tb')],
                      comment='hello')
    assert read_skip_report(path) == {
        '2': SkippedSample('2', 'missing_label', 'a b')}
    with open(path, 'a') as f:
        f.write('3\tweird\tx\n')
    with pytest.raises(ValueError, match=r'r.tsv, line 4'):
        read_skip_report(path)
    with pytest.raises(ValueError, match='unknown problem'):
        write_skip_report(path, [SkippedSample('1', 'weird')])


def run_killed(target, args, kill_on_save=2):
    """Run ``target(args)`` in a forked process that SIGKILLs itself while
    writing its ``kill_on_save``-th PNG, after the temporary file exists:
    what a killed converter leaves on disk."""
    context = multiprocessing.get_context('fork')

    def child():
        from PIL import Image
        real_save = Image.Image.save
        saves = []

        def save_or_die(self, *args, **kwargs):
            saves.append(1)
            if len(saves) == kill_on_save:
                os.kill(os.getpid(), signal.SIGKILL)
            return real_save(self, *args, **kwargs)

        Image.Image.save = save_or_die
        target(args)

    process = context.Process(target=child)
    process.start()
    process.join(60)
    assert process.exitcode == -signal.SIGKILL


def hidden_files(folder):
    return sorted(n for parent, _, files in os.walk(folder) for n in files
                  if n.startswith('.'))


@pytest.mark.parametrize('tool', ['gta5', 'cityscapes'])
def test_a_killed_conversion_resumes_cleanly(tmp_path, capsys, tool):
    if tool == 'gta5':
        gta = make_gta5(tmp_path / 'gta5', num_images=3)
        root, main = gta.root, convert_gta5.main
    else:
        root = make_cityscapes(tmp_path / 'cs', splits={'train': 3}).root
        main = convert_cityscapes.main
    args = [root, '--nproc', '1'] + (['--splits', 'train']
                                     if tool == 'cityscapes' else [])
    run_killed(main, args)
    left = hidden_files(root)
    assert len(left) == 1  # the half-written label's temporary file
    capsys.readouterr()
    assert main(args) == 0
    assert hidden_files(root) == []
    out = capsys.readouterr().out
    assert 'removed 1 partial file(s)' in out
    # the label written before the kill is kept, the others follow
    assert 'already converted: 1' in out and '  converted: 2' in out
    if tool == 'gta5':
        check_converted_gta5(gta, gta.ids)


def disk_full(*args, **kwargs):
    raise OSError(errno.ENOSPC, os.strerror(errno.ENOSPC))


def test_disk_full_names_the_file(tmp_path, monkeypatch, capsys):
    gta = make_gta5(tmp_path / 'gta5', num_images=2)
    cs = make_cityscapes(tmp_path / 'cs', splits={'train': 2})
    monkeypatch.setattr(Image.Image, 'save', disk_full)
    assert convert_gta5.main([gta.root, '--nproc', '1']) == 1
    err = capsys.readouterr().err
    assert re.search(r'labels/00001_labelTrainIds.png.*disk is full', err)
    assert convert_cityscapes.main([cs.root, '--nproc', '1', '--splits',
                                    'train']) == 1
    err = capsys.readouterr().err
    assert re.search(r'_gtFine_labelTrainIds.png.*disk is full', err)
    assert hidden_files(gta.root) == [] and hidden_files(cs.root) == []


def test_unusable_outputs_refused_before_work(tmp_path, capsys,
                                              monkeypatch):
    for tool in (convert_gta5, convert_cityscapes):  # no data at all
        assert tool.main([str(tmp_path / 'none')]) == 2
        assert 'data/README.md' in capsys.readouterr().err
    cs = make_cityscapes(tmp_path / 'cs', splits={'train': 2})
    gta = make_gta5(tmp_path / 'gta5', num_images=2)
    blocker = tmp_path / 'a_file'
    blocker.write_text('x')
    for report in (str(blocker / 'report.tsv'), str(tmp_path)):
        assert convert_gta5.main(
            [gta.root, '--nproc', '1', '--report', report]) == 2
        assert f'--report {report}: ' in capsys.readouterr().err
    label_dirs = (osp.join(cs.root, 'gtFine', 'train', 'aachen'),
                  osp.join(gta.root, 'labels'))
    real_access = os.access

    def access(path, mode, **kwargs):
        if osp.abspath(path) in label_dirs and mode & os.W_OK:
            return False  # as for a read-only folder (tests run as root)
        return real_access(path, mode, **kwargs)

    monkeypatch.setattr(os, 'access', access)
    assert convert_cityscapes.main([cs.root, '--nproc', '1', '--splits',
                                    'train']) == 2
    assert f'data_root (converted labels are written next to the label-id ' \
        f'files): {label_dirs[0]}: no permission' in capsys.readouterr().err
    assert convert_gta5.main([gta.root, '--nproc', '1']) == 2
    assert f'{label_dirs[1]}: no permission' in capsys.readouterr().err
    assert hidden_files(tmp_path) == [] and not osp.exists(
        gta5_label_path(gta.root, 1, True))
