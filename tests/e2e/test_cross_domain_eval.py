"""End to end: tools/cross_domain_eval.py on two small checkpoints and two
generated domains (Cityscapes and GTA5 layouts), and the same domains as
training-time validation through mmengine's Runner."""
import csv
import json
import os.path as osp

import cv2
import numpy as np
import pytest
import torch
from mmengine.config import ConfigDict
from mmengine.runner import Runner

from ibnseg.evaluation import cross_domain_evaluator
from tests.helpers.tiny_setup import (cross_domain_section, make_domains,
                                      save_checkpoint, tiny_model,
                                      write_config)
from tests.helpers.tools import load_tool, run_tool

pytestmark = pytest.mark.slow


@pytest.fixture(scope='module')
def setup(tmp_path_factory):
    root = tmp_path_factory.mktemp('cross_domain_e2e')
    roots = make_domains(str(root / 'data'))
    config = write_config(root / 'tiny.py', roots)
    # the second model has its own config file: CONFIG:CHECKPOINT pairing
    other_config = write_config(root / 'tiny_b.py', roots)
    return dict(
        root=root,
        roots=roots,
        config=config,
        other_config=other_config,
        a=save_checkpoint(config, root / 'a.pth', seed=0),
        b=save_checkpoint(other_config, root / 'b.pth', seed=1))


@pytest.fixture(scope='module')
def cli_run(setup):
    out = setup['root'] / 'out'
    stdout = run_tool('cross_domain_eval.py', [
        setup['config'], setup['a'], f"{setup['other_config']}:{setup['b']}",
        '--out', out, '--shifts', 'grey', '--num-show', '2', '--device',
        'cpu'], merge_output=False).stdout
    return out, stdout


def md_cells(markdown, first_cell):
    for line in markdown.splitlines():
        cells = [c.strip() for c in line.strip('|').split('|')]
        if cells[:len(first_cell)] == first_cell:
            return cells
    raise AssertionError(f'no row {first_cell} in\n{markdown}')


def test_markdown_table_is_printed_and_saved(cli_run):
    out, stdout = cli_run
    markdown = (out / 'results.md').read_text()
    assert markdown.strip() in stdout
    assert '| train | test | a mIoU | a aAcc | b mIoU | b aAcc |' in markdown
    document = json.loads((out / 'results.json').read_text())
    for row, label in (('cityscapes', 'cityscapes'), ('gta5', 'gta5'),
                       ('target', 'target mean'),
                       ('drop', 'drop (source - target)'),
                       ('gta5@grey', 'gta5 @ grey')):
        cells = md_cells(markdown, ['cityscapes', label])
        expected = []
        for model in document['models']:
            numbers = model['results'][row]
            expected += [f"{numbers['mIoU']:.2f}", f"{numbers['aAcc']:.2f}"]
        assert cells[2:] == expected, row
    assert '## Per-class IoU (%): a' in markdown
    assert '## Per-class IoU (%): b' in markdown
    road = md_cells(markdown, ['road'])  # first per-class table: model a
    ious = document['models'][0]['results']
    assert road[1:] == [
        f"{ious[r]['IoU']['road']:.2f}"
        for r in ('cityscapes', 'gta5', 'cityscapes@grey', 'gta5@grey')
    ]


def test_json_and_csv_hold_every_number(cli_run, setup):
    out, _ = cli_run
    document = json.loads((out / 'results.json').read_text())
    a, b = document['models']
    assert (a['name'], a['config'], a['checkpoint']) == (
        'a', setup['config'], setup['a'])
    assert (b['config'], b['checkpoint']) == (setup['other_config'],
                                              setup['b'])
    assert a['rows'] == ['cityscapes', 'gta5', 'cityscapes@grey',
                         'gta5@grey']
    assert a['num_samples'] == {r: 3 for r in a['rows']}
    assert a['test_cfg']['gta5']['mode'] == 'slide'
    assert a['datasets']['gta5']['data_root'] == setup['roots']['gta5']
    results = a['results']
    assert results['target']['mIoU'] == pytest.approx(
        results['gta5']['mIoU'])
    assert results['drop']['mIoU'] == pytest.approx(
        results['cityscapes']['mIoU'] - results['gta5']['mIoU'])
    miou = np.nanmean([
        np.nan if v is None else v
        for v in results['gta5']['IoU'].values()
    ])
    assert results['gta5']['mIoU'] == pytest.approx(miou)
    assert a['results'] != b['results']  # two different models

    with open(out / 'results.csv') as f:
        lines = list(csv.DictReader(f))
    assert len(lines) == 2 * 6  # 4 rows + target + drop, per model
    for line in lines:
        numbers = next(m for m in document['models']
                       if m['name'] == line['model'])['results'][line['test']]
        assert float(line['mIoU']) == pytest.approx(numbers['mIoU'])
        if 'IoU' in numbers:
            assert float(line['IoU.car']) == pytest.approx(
                numbers['IoU']['car'])


def read_png(path):
    assert osp.isfile(path), path
    image = cv2.imread(str(path), cv2.IMREAD_COLOR)
    assert image is not None, path
    return image


def test_pictures(cli_run):
    out, _ = cli_run
    for model in ('a', 'b'):
        bars = read_png(out / model / 'per_class_iou.png')
        assert bars.std() > 10  # drawn, not blank
        for row in ('cityscapes', 'gta5', 'cityscapes@grey', 'gta5@grey'):
            strip = read_png(out / model / f'samples_{row}.png')
            # title and header, then 2 samples of 192 px + 4 px gap
            assert strip.shape[0] == 44 + 2 * (192 + 4)
            # three 2:1 tiles and two gaps side by side
            assert strip.shape[1] == 3 * 384 + 2 * 4
    grey = read_png(out / 'a' / 'samples_gta5@grey.png')[44:236, :384]
    assert np.abs(grey[..., 0].astype(int) - grey[..., 2]).max() <= 2
    color = read_png(out / 'a' / 'samples_gta5.png')[44:236, :384]
    assert np.abs(color[..., 0].astype(int) - color[..., 2]).max() > 50


def test_cli_errors(setup, capsys):
    tool = load_tool('cross_domain_eval')
    other = write_config(setup['root'] / 'wide.py', setup['roots'],
                         base_channels=16)
    assert tool.main([other, setup['a'], '--out',
                      str(setup['root'] / 'wide'), '--no-progress']) == 1
    error = capsys.readouterr().err
    assert 'does not match the model of config' in error
    assert 'size mismatch for backbone.conv1.weight' in error
    with pytest.raises(SystemExit):
        tool.main([setup['config'], str(setup['root'] / 'nope.pth')])
    assert 'checkpoint not found' in capsys.readouterr().err
    assert tool.main([setup['config'], setup['a'], '--domains', 'gta5',
                      '--out', str(setup['root'] / 'gta5_only'),
                      '--no-progress']) == 1
    assert "must include the source domain 'cityscapes'" in \
        capsys.readouterr().err


@pytest.mark.slow
def test_an_unreachable_checkpoint_url_is_a_one_line_error(
        setup, capsys, monkeypatch, tmp_path):
    monkeypatch.setenv('TORCH_HOME', str(tmp_path / 'torch_home'))
    monkeypatch.setenv('no_proxy', '127.0.0.1')
    url = 'http://127.0.0.1:9/weights.pth'  # port 9 refuses: no network
    tool = load_tool('cross_domain_eval')
    assert tool.main([setup['config'], url, '--out', str(tmp_path / 'out'),
                      '--no-progress']) == 1
    assert f'error: cannot download the checkpoint {url}' in \
        capsys.readouterr().err


def test_model_names():
    tool = load_tool('cross_domain_eval')
    pairs = tool.split_pairs(
        'c.py', ['w/r50/iter_9.pth', 'x.py:w/ibn/iter_9.pth',
                 'https://host/m.pth'])
    assert pairs == [('c.py', 'w/r50/iter_9.pth'),
                     ('x.py', 'w/ibn/iter_9.pth'),
                     ('c.py', 'https://host/m.pth')]
    assert tool.model_names(pairs) == ['r50_iter_9', 'ibn_iter_9', 'host_m']
    assert tool.model_names(pairs[:1], ['R-50']) == ['R-50']
    with pytest.raises(ValueError, match='--names needs 3 distinct'):
        tool.model_names(pairs, ['a', 'a', 'b'])


def test_training_validation_reports_every_domain(setup, cli_run, tmp_path):
    """MultiDomainValLoop through the Runner: with the same whole-image
    inference the numbers are the tool's."""
    torch.set_num_threads(1)
    section = cross_domain_section(setup['roots'])
    runner = Runner(
        model=ConfigDict(tiny_model()),  # as Runner.from_cfg passes it
        work_dir=str(tmp_path),
        # the source's plain loader, as the shipped configs have it; the
        # loop evaluates the cross_domain section
        val_dataloader=section['domains']['cityscapes']['dataloader'],
        val_cfg=dict(type='MultiDomainValLoop'),
        val_evaluator=cross_domain_evaluator(section),
        cfg=dict(cross_domain=section),
        load_from=setup['a'],
        default_scope='mmseg',
        default_hooks=dict(logger=dict(type='LoggerHook')))
    metrics = runner.val()
    for key in ('cityscapes/mIoU', 'gta5/mIoU', 'target/mIoU', 'drop/mIoU',
                'gta5/IoU.car'):
        assert key in metrics
    tool = json.loads((cli_run[0] / 'results.json').read_text())
    cityscapes = tool['models'][0]['results']['cityscapes']
    assert metrics['cityscapes/mIoU'] == pytest.approx(cityscapes['mIoU'])
    assert metrics['cityscapes/aAcc'] == pytest.approx(cityscapes['aAcc'])
