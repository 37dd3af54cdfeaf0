"""Every tool that writes checks its output locations before any work: a
location that exists as the wrong kind (a file as an output folder, a folder
as an output file) or cannot be created (a file where one of its folders
would have to be; as root, permissions stop nothing) is refused like
argparse does (status 2, ``<tool>: error: <option> <path>: <why>``) before
a model is loaded or data read (the work functions fail the test). The
tools run in this process."""
import os.path as osp

import numpy as np
import pytest
from mmseg.registry import DATASETS
from scipy.io import savemat

import ibnseg.engine.runner_setup
from tests.helpers.tiny_experiment import write_tiny_config
from tests.helpers.tiny_setup import write_config
from tests.helpers.tools import (REPO_ROOT, must_not_run, run_in_process,
                                 run_main)


@pytest.fixture(scope='module')
def ws(tmp_path_factory):
    """A workspace: inputs the tools accept, and bad output locations (no
    test may change it)."""
    tmp_path = tmp_path_factory.mktemp('outputs')
    file = tmp_path / 'file.txt'
    file.write_text('keep me')
    checkpoint = tmp_path / 'model.pth'
    checkpoint.write_bytes(b'')  # only its existence is checked first
    images = tmp_path / 'images'
    images.mkdir()
    split_mat = str(tmp_path / 'split.mat')
    savemat(split_mat, dict(trainIds=np.array([[1, 2]]),
                            valIds=np.array([[3]]), testIds=np.array([[4]])))
    missing = str(tmp_path / 'no_data')
    return dict(
        file=str(file),
        under_file=str(file / 'sub'),
        folder=str(tmp_path),
        checkpoint=str(checkpoint),
        images=str(images),
        split_mat=split_mat,
        tiny_config=write_tiny_config(tmp_path / 'tiny.py', missing),
        cross_domain_config=write_config(
            tmp_path / 'cross.py', dict(cityscapes=missing, gta5=missing)))


def _run_script(tool_file, argv, monkeypatch, capsys):
    """tools/train.py or tools/test.py; building the Runner fails."""
    monkeypatch.setattr(ibnseg.engine.runner_setup, 'build_runner',
                        must_not_run('building the Runner'))
    return run_in_process(tool_file, argv, monkeypatch, capsys)


def _assert_refused(result, tool, option, path):
    code, err = result
    assert code == 2, err
    assert f'{tool}: error: {option} {path}: ' in err, err


@pytest.mark.parametrize('place', ['file', 'under_file'])
def test_cross_domain_eval_out_is_checked_before_evaluating(
        ws, place, monkeypatch, capsys):
    result = run_main(
        'cross_domain_eval',
        [ws['cross_domain_config'], ws['checkpoint'], '--out', ws[place],
         '--device', 'cpu', '--no-progress'],
        monkeypatch, capsys, guards=['evaluate_checkpoint', 'write_outputs'])
    _assert_refused(result, 'cross_domain_eval.py', '--out', ws[place])
    with open(ws['file']) as f:
        assert f.read() == 'keep me'


@pytest.mark.parametrize('option, place', [
    ('--work-dir', 'file'),
    ('--work-dir', 'under_file'),
    ('--out', 'file'),
    ('--out', 'under_file'),
    ('--show-dir', 'under_file'),  # absolute: not inside the work dir
])
def test_test_tool_checks_outputs_before_building_the_runner(
        ws, option, place, monkeypatch, capsys):
    argv = [ws['tiny_config'], ws['checkpoint'], option, ws[place]]
    if option != '--work-dir':
        argv += ['--work-dir', osp.join(ws['folder'], 'work')]
    result = _run_script('test.py', argv, monkeypatch, capsys)
    _assert_refused(result, 'test.py', option, ws[place])


def test_test_tool_checks_a_relative_show_dir_inside_the_work_dir(
        ws, monkeypatch, capsys):
    # the work dir exists; file.txt inside it is taken as the show dir
    result = _run_script('test.py', [
        ws['tiny_config'], ws['checkpoint'], '--work-dir', ws['folder'],
        '--show-dir', 'file.txt'
    ], monkeypatch, capsys)
    _assert_refused(result, 'test.py', '--show-dir', ws['file'])


def test_train_tool_checks_the_work_dir(ws, monkeypatch, capsys):
    result = _run_script('train.py',
                         [ws['tiny_config'], '--work-dir', ws['under_file']],
                         monkeypatch, capsys)
    _assert_refused(result, 'train.py', '--work-dir', ws['under_file'])


def test_train_tool_checks_the_config_work_dir(ws, monkeypatch, capsys):
    result = _run_script('train.py', [
        ws['tiny_config'], '--cfg-options', f'work_dir={ws["file"]}'
    ], monkeypatch, capsys)
    _assert_refused(result, 'train.py', 'work_dir', ws['file'])


def test_feature_divergence_checks_out_dir(ws, monkeypatch, capsys):
    result = run_main(
        'feature_divergence',
        [ws['tiny_config'], '--set-a', ws['images'], '--content',
         '--out-dir', ws['file']],
        monkeypatch, capsys, guards=['run'])
    _assert_refused(result, 'feature_divergence.py', '--out-dir', ws['file'])


@pytest.mark.parametrize('place', ['folder', 'under_file'])
def test_make_finetune_subset_checks_out(ws, place, monkeypatch, capsys):
    monkeypatch.setattr(DATASETS, 'build', must_not_run('building data'))
    out = ws[place] if place == 'folder' else osp.join(ws[place], 'ids.txt')
    result = run_main(
        'make_finetune_subset',
        [osp.join(REPO_ROOT, 'configs/_base_/datasets/gta5.py'),
         '--fraction', '0.5', '--out', out],
        monkeypatch, capsys)
    _assert_refused(result, 'make_finetune_subset.py', '--out', out)


@pytest.mark.parametrize('option, place', [('--out', 'file'),
                                           ('--out', 'under_file'),
                                           ('--preview', 'folder')])
def test_generate_synthetic_checks_outputs(ws, option, place, monkeypatch,
                                           capsys):
    result = run_main(
        'generate_synthetic', [option, ws[place], '--num-train', '1'],
        monkeypatch, capsys,
        guards=['generate_domain_dataset', 'save_contact_sheet'])
    _assert_refused(result, 'generate_synthetic.py', option, ws[place])


def test_gta5_split_from_mat_checks_out_dir(ws, monkeypatch, capsys):
    result = run_main(
        'gta5_split_from_mat', [ws['split_mat'], '--out-dir', ws['file']],
        monkeypatch, capsys, guards=['write_id_list'])
    _assert_refused(result, 'gta5_split_from_mat.py', '--out-dir', ws['file'])


@pytest.mark.parametrize('names, message', [
    (['..', 'b'], "model '..': its output {out}/../per_class_iou.png would "
     'be written outside --out {out}'),
    (['a/b', 'a_b'], "model 'a/b' and model 'a_b': their outputs "
     '{out}/a_b/per_class_iou.png and {out}/a_b/per_class_iou.png are the '
     'same file'),
])
def test_cross_domain_eval_model_folders_stay_apart_inside_out(
        ws, names, message, monkeypatch, capsys):
    """Several models' pictures go to ``--out/<name>/``: a name must not
    lead out of ``--out`` nor share a folder with another's."""
    out = osp.join(ws['folder'], 'eval')
    code, err = run_main(
        'cross_domain_eval',
        [ws['cross_domain_config'], ws['checkpoint'], ws['checkpoint'],
         '--names', *names, '--out', out, '--device', 'cpu'],
        monkeypatch, capsys, guards=['evaluate_checkpoint', 'write_outputs'])
    assert code == 2
    assert f'cross_domain_eval.py: error: {message.format(out=out)}' in err
