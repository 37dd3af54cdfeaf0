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

#: The work functions of the tools run through ``main``.
GUARDS = dict(
    cross_domain_eval=['evaluate_checkpoint', 'write_outputs'],
    feature_divergence=['run'],
    make_finetune_subset=[],
    generate_synthetic=['generate_domain_dataset', 'save_contact_sheet'],
    gta5_split_from_mat=['write_id_list'])
CROSS = '{cross} {checkpoint} --device cpu --no-progress --out'


@pytest.fixture(scope='module')
def ws(tmp_path_factory):
    """A workspace: inputs the tools accept, and bad output locations (no
    test may change it)."""
    tmp_path = tmp_path_factory.mktemp('outputs')
    file = tmp_path / 'file.txt'
    file.write_text('keep me')
    checkpoint = tmp_path / 'model.pth'
    checkpoint.write_bytes(b'')  # only its existence is checked first
    (tmp_path / 'images').mkdir()
    split_mat = str(tmp_path / 'split.mat')
    savemat(split_mat, dict(trainIds=np.array([[1, 2]]),
                            valIds=np.array([[3]]), testIds=np.array([[4]])))
    missing = str(tmp_path / 'no_data')
    return dict(
        file=str(file),
        under_file=str(file / 'sub'),
        folder=str(tmp_path),
        checkpoint=str(checkpoint),
        images=str(tmp_path / 'images'),
        split_mat=split_mat,
        gta5=osp.join(REPO_ROOT, 'configs/_base_/datasets/gta5.py'),
        tiny=write_tiny_config(tmp_path / 'tiny.py', missing),
        cross=write_config(tmp_path / 'cross.py',
                           dict(cityscapes=missing, gta5=missing)))


@pytest.mark.parametrize('tool, argv, option, refused', [
    ('cross_domain_eval', CROSS + ' {file}', '--out', '{file}'),
    ('cross_domain_eval', CROSS + ' {under_file}', '--out', '{under_file}'),
    ('test.py', '{tiny} {checkpoint} --work-dir {file}', '--work-dir',
     '{file}'),
    ('test.py', '{tiny} {checkpoint} --work-dir {under_file}', '--work-dir',
     '{under_file}'),
    ('test.py', '{tiny} {checkpoint} --out {file} --work-dir {folder}/work',
     '--out', '{file}'),
    ('test.py', '{tiny} {checkpoint} --out {under_file} --work-dir '
     '{folder}/work', '--out', '{under_file}'),
    # absolute: not inside the work dir
    ('test.py', '{tiny} {checkpoint} --show-dir {under_file} --work-dir '
     '{folder}/work', '--show-dir', '{under_file}'),
    # the work dir exists; file.txt inside it is taken as the show dir
    ('test.py', '{tiny} {checkpoint} --work-dir {folder} --show-dir '
     'file.txt', '--show-dir', '{file}'),
    ('train.py', '{tiny} --work-dir {under_file}', '--work-dir',
     '{under_file}'),
    ('train.py', '{tiny} --cfg-options work_dir={file}', 'work_dir',
     '{file}'),
    ('feature_divergence', '{tiny} --set-a {images} --content --out-dir '
     '{file}', '--out-dir', '{file}'),
    ('make_finetune_subset', '{gta5} --fraction 0.5 --out {folder}', '--out',
     '{folder}'),
    ('make_finetune_subset', '{gta5} --fraction 0.5 --out '
     '{under_file}/ids.txt', '--out', '{under_file}/ids.txt'),
    ('generate_synthetic', '--out {file} --num-train 1', '--out', '{file}'),
    ('generate_synthetic', '--out {under_file} --num-train 1', '--out',
     '{under_file}'),
    ('generate_synthetic', '--preview {folder} --num-train 1', '--preview',
     '{folder}'),
    ('gta5_split_from_mat', '{split_mat} --out-dir {file}', '--out-dir',
     '{file}'),
])
def test_outputs_are_checked_before_any_work(ws, tool, argv, option, refused,
                                             monkeypatch, capsys):
    monkeypatch.setattr(ibnseg.engine.runner_setup, 'build_runner',
                        must_not_run('building the Runner'))
    monkeypatch.setattr(DATASETS, 'build', must_not_run('building data'))
    argv = argv.format(**ws).split()
    if tool.endswith('.py'):
        code, err = run_in_process(tool, argv, monkeypatch, capsys)
    else:
        code, err = run_main(tool, argv, monkeypatch, capsys,
                             guards=GUARDS[tool])
    assert code == 2, err
    name = tool if tool.endswith('.py') else f'{tool}.py'
    assert f'{name}: error: {option} {refused.format(**ws)}: ' in err, err
    with open(ws['file']) as f:
        assert f.read() == 'keep me'


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
        [ws['cross'], ws['checkpoint'], ws['checkpoint'], '--names', *names,
         '--out', out, '--device', 'cpu'],
        monkeypatch, capsys, guards=GUARDS['cross_domain_eval'])
    assert code == 2
    assert f'cross_domain_eval.py: error: {message.format(out=out)}' in err
