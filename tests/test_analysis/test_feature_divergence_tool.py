"""tools/feature_divergence.py end to end on tiny generated images."""
import csv
import json
import os
import os.path as osp
import runpy
import sys
from dataclasses import asdict

import cv2
import numpy as np
import pytest
import torch

from ibnseg.analysis import (ModelSpec, appearance_pair,
                             compute_model_divergence, content_pair,
                             domain_pair, load_model,
                             resolve_appearance_shift)
from tests.helpers.analysis import (build_tiny_segmentor, write_images,
                                    write_tiny_config)
from tests.helpers.tiny_experiment import assert_same_weights
from tests.helpers.tools import TOOLS, load_tool


@pytest.fixture(scope='module')
def workspace(tmp_path_factory):
    root = tmp_path_factory.mktemp('divergence')
    write_images(str(root / 'domain_a'), 6, seed=0)
    write_images(str(root / 'domain_b'), 4, seed=1, brightness=-50)
    config = write_tiny_config(str(root / 'tiny_r18.py'))
    trained = build_tiny_segmentor(seed=7)
    checkpoint = str(root / 'trained.pth')
    # as training saves it, with meta
    torch.save(dict(state_dict=trained.state_dict(),
                    meta=dict(dataset_meta=dict(classes=('a', 'b', 'c')))),
               checkpoint)
    # a bare state_dict of the same model, and one of another model
    bare = str(root / 'bare.pth')
    torch.save(trained.state_dict(), bare)
    wider = str(root / 'wider.pth')
    torch.save(build_tiny_segmentor(base_channels=8).state_dict(), wider)
    return dict(root=root, config=config, checkpoint=checkpoint, bare=bare,
                wider=wider, trained=trained)


def test_tool_writes_csv_json_png_for_several_models_and_pairs(workspace,
                                                               capsys):
    root = workspace['root']
    out_dir = str(root / 'out')
    set_a, set_b = str(root / 'domain_a'), str(root / 'domain_b')
    argv = [workspace['config'],
            '--models', f'trained={workspace["config"]}:'
            f'{workspace["checkpoint"]}',
            '--set-a', set_a, '--set-b', set_b,
            '--appearance', 'rgb+50', '--content', '--allow-random',
            '--batch-size', '4', '--device', 'cpu', '--out-dir', out_dir]
    rows = load_tool('feature_divergence').main(argv)

    printed = capsys.readouterr().out
    assert 'tiny_r18: ' + workspace['config'] + \
        ' (RANDOM WEIGHTS (--allow-random))' in printed
    table = [line.split() for line in printed.splitlines()
             if ' content ' in line]
    for line in table:  # model pair layer divergence [(random weights)]
        assert (line[0] == 'tiny_r18') == \
            (line[-2:] == ['(random', 'weights)'])
    models, pairs, layers = 2, 3, 8
    assert len(table) == models * layers
    with open(osp.join(out_dir, 'feature_divergence.csv')) as file:
        table = list(csv.DictReader(file))
    assert len(table) == len(rows) == models * pairs * layers
    # the model without a checkpoint is marked in every row
    assert {(r['model'], r['random_weights']) for r in table} == {
        ('tiny_r18', 'True'), ('trained', 'False')}
    assert {(r['pair'], r['pair_type']) for r in table} == {
        ('domain', 'domain'), ('appearance:rgb+50', 'appearance'),
        ('content', 'content')}
    assert {(r['images_a'], r['images_b']) for r in table
            if r['pair'] == 'content'} == {('3', '3')}
    # the shifted set is shifted, the halves differ
    assert all(float(r['divergence']) > 0 for r in table)

    with open(osp.join(out_dir, 'feature_divergence.json')) as file:
        document = json.load(file)
    assert 'KL(a||b) + KL(b||a)' in document['formula']
    assert document['eps'] == 1e-6 and document['level'] == 'block'
    assert [(m['label'], m['random_weights']) for m in document['models']
            ] == [('tiny_r18', True), ('trained', False)]
    assert document['rows'] == [asdict(row) for row in rows]

    plot = cv2.imread(osp.join(out_dir, 'feature_divergence.png'))
    assert plot is not None and plot.shape[0] > 200 and plot.shape[1] > 300
    assert plot.std() > 0
    assert sorted(os.listdir(out_dir)) == [
        'feature_divergence.csv', 'feature_divergence.json',
        'feature_divergence.png']

    # The checkpoint was loaded: same numbers as the model that wrote it.
    expected = compute_model_divergence(
        workspace['trained'], 'trained', [
            domain_pair(set_a, set_b),
            appearance_pair(set_a, 'rgb+50',
                            resolve_appearance_shift('rgb+50')),
            content_pair(set_a, seed=0)])
    got = [row for row in rows if row.model == 'trained']
    assert [(r.pair, r.layer) for r in got] == [(r.pair, r.layer)
                                                for r in expected]
    np.testing.assert_allclose([r.divergence for r in got],
                               [r.divergence for r in expected], rtol=1e-4)


def test_tool_stage_level_and_resize(workspace):
    root = workspace['root']
    out_dir = str(root / 'stages')
    rows = load_tool('feature_divergence').main([
        workspace['config'], '--set-a', str(root / 'domain_a'), '--content',
        '--level', 'stage', '--size', '32', '32', '--device', 'cpu',
        '--log-y', '--allow-random', '--out-dir', out_dir])
    assert [row.layer for row in rows] == ['layer1', 'layer2', 'layer3',
                                           'layer4']
    with open(osp.join(out_dir, 'feature_divergence.json')) as file:
        assert json.load(file)['size'] == [32, 32]


@pytest.mark.parametrize('extra, message', [
    ([], 'nothing to compare'),
    (['--content', '--models', 'a.py', 'b/a.py'], "labels ['a'] repeat"),
    (['--content', '--batch-size', '0'], 'batch-size must be >= 1'),
    (['--content', '--models', 'weights.pth'], 'CONFIG ending in .py'),
    (['--content', '--eps', '0'], 'eps must be > 0'),
    # refused before any work: untrained models' divergences are not
    # comparable with trained ones'
    (['--content'], "model(s) ['tiny_r18'] have no checkpoint"),
    (['--content'], '--allow-random'),
])
def test_tool_rejects_bad_options(workspace, capsys, extra, message):
    with pytest.raises(SystemExit):
        load_tool('feature_divergence').parse_args(
            [workspace['config'], '--set-a', 'unused'] + extra)
    assert message in capsys.readouterr().err


def test_tool_reports_bad_input_in_one_line(workspace):
    root = workspace['root']
    common = ['--content', '--device', 'cpu', '--allow-random', '--out-dir',
              str(root / 'unused')]
    cases = [
        ([workspace['config'], '--set-a', str(root / 'no_such_folder')],
         'image folder', 'no_such_folder'),
        ([workspace['config'], str(root / 'missing.pth'), '--set-a',
          str(root / 'domain_a')], 'checkpoint not found', 'missing.pth'),
        ([workspace['config'], workspace['wider'], '--set-a',
          str(root / 'domain_a')], 'wider.pth does not match',
         'size mismatch'),
    ]
    for argv, what, name in cases:
        with pytest.raises(SystemExit) as exit_info:
            load_tool('feature_divergence').main(argv + common)
        message = str(exit_info.value.code)
        assert message.startswith('feature_divergence: error: ')
        assert what in message and name in message
    assert not osp.exists(root / 'unused')


def test_tool_runs_as_a_script(monkeypatch, capsys):
    monkeypatch.setattr(sys, 'argv', ['feature_divergence.py', '--help'])
    with pytest.raises(SystemExit) as exit_info:
        runpy.run_path(osp.join(TOOLS, 'feature_divergence.py'),
                       run_name='__main__')
    assert exit_info.value.code == 0
    assert 'KL(a||b) + KL(b||a)' in capsys.readouterr().out


def test_a_bare_state_dict_loads(workspace):
    spec = ModelSpec('bare', workspace['config'], workspace['bare'])
    assert_same_weights(workspace['trained'].state_dict(),
                        load_model(spec).state_dict())
