"""End to end: tools/cross_domain_eval.py on two small checkpoints and two
generated domains (Cityscapes and GTA5 layouts). (The same loops in
training and tools/test.py: tests/test_evaluation/test_evaluate.py.)"""
import contextlib
import csv
import io
import json

import cv2
import numpy as np
import pytest

from tests.helpers.tiny_setup import (make_domains, save_checkpoint,
                                      write_config)
from tests.helpers.tools import load_tool

pytestmark = pytest.mark.slow
ROWS = ['cityscapes', 'gta5', 'cityscapes@grey', 'gta5@grey']


@pytest.fixture(scope='module')
def setup(tmp_path_factory):
    root = tmp_path_factory.mktemp('cross_domain_e2e')
    roots = make_domains(str(root / 'data'))
    config = write_config(root / 'tiny.py', roots)
    # the second model has its own config file: CONFIG:CHECKPOINT pairing
    other_config = write_config(root / 'tiny_b.py', roots)
    return dict(root=root, roots=roots, config=config,
                other_config=other_config,
                a=save_checkpoint(config, root / 'a.pth', seed=0),
                b=save_checkpoint(other_config, root / 'b.pth', seed=1))


@pytest.fixture(scope='module')
def cli_run(setup):
    """The tool's ``main`` in this process (test_readme_recipe.py runs
    it as a command): --out, what it printed, results.json."""
    out, stdout = setup['root'] / 'out', io.StringIO()
    with contextlib.redirect_stdout(stdout):
        assert load_tool('cross_domain_eval').main([
            setup['config'], setup['a'],
            f"{setup['other_config']}:{setup['b']}", '--out', str(out),
            '--shifts', 'grey', '--num-show', '2', '--device', 'cpu',
            '--no-progress']) == 0
    return out, stdout.getvalue(), json.loads(
        (out / 'results.json').read_text())


def md_cells(markdown, first_cell):
    for line in markdown.splitlines():
        cells = [c.strip() for c in line.strip('|').split('|')]
        if cells[:len(first_cell)] == first_cell:
            return cells
    raise AssertionError(f'no row {first_cell} in\n{markdown}')


def test_markdown_table_is_printed_and_saved(cli_run):
    out, stdout, document = cli_run
    markdown = (out / 'results.md').read_text()
    assert markdown.strip() in stdout
    assert '| train | test | a mIoU | a aAcc | b mIoU | b aAcc |' in markdown
    for row, label in (('cityscapes', 'cityscapes'), ('gta5', 'gta5'),
                       ('target', 'target mean'),
                       ('drop', 'drop (source - target)'),
                       ('gta5@grey', 'gta5 @ grey')):
        expected = []
        for model in document['models']:
            numbers = model['results'][row]
            expected += [f"{numbers['mIoU']:.2f}", f"{numbers['aAcc']:.2f}"]
        assert md_cells(markdown, ['cityscapes', label])[2:] == expected, row
    assert '## Per-class IoU (%): a' in markdown
    assert '## Per-class IoU (%): b' in markdown
    road = md_cells(markdown, ['road'])  # first per-class table: model a
    ious = document['models'][0]['results']
    assert road[1:] == [f"{ious[r]['IoU']['road']:.2f}" for r in ROWS]


def test_json_and_csv_hold_every_number(cli_run, setup):
    out, _, document = cli_run
    a, b = document['models']
    assert (a['name'], a['config'], a['checkpoint']) == (
        'a', setup['config'], setup['a'])
    assert (b['config'], b['checkpoint']) == (setup['other_config'],
                                              setup['b'])
    assert a['rows'] == ROWS
    assert a['num_samples'] == {r: 3 for r in ROWS}
    assert a['test_cfg']['gta5']['mode'] == 'slide'
    assert a['datasets']['gta5']['data_root'] == setup['roots']['gta5']
    results = a['results']
    assert results['target']['mIoU'] == pytest.approx(
        results['gta5']['mIoU'])
    assert results['drop']['mIoU'] == pytest.approx(
        results['cityscapes']['mIoU'] - results['gta5']['mIoU'])
    miou = np.nanmean([np.nan if v is None else v
                       for v in results['gta5']['IoU'].values()])
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
    image = cv2.imread(str(path), cv2.IMREAD_COLOR)
    assert image is not None, path
    return image


def test_pictures(cli_run):
    out = cli_run[0]
    for model in ('a', 'b'):
        bars = read_png(out / model / 'per_class_iou.png')
        assert bars.std() > 10  # drawn, not blank
        for row in ROWS:
            strip = read_png(out / model / f'samples_{row}.png')
            # title and header, then 2 samples of 192 px + 4 px gap; three
            # 2:1 tiles and two gaps side by side
            assert strip.shape[:2] == (44 + 2 * (192 + 4), 3 * 384 + 2 * 4)
    grey = read_png(out / 'a' / 'samples_gta5@grey.png')[44:236, :384]
    assert np.abs(grey[..., 0].astype(int) - grey[..., 2]).max() <= 2
    color = read_png(out / 'a' / 'samples_gta5.png')[44:236, :384]
    assert np.abs(color[..., 0].astype(int) - color[..., 2]).max() > 50


def test_cli_errors(setup, capsys, monkeypatch, tmp_path):
    tool = load_tool('cross_domain_eval')
    wide = write_config(tmp_path / 'wide.py', setup['roots'],
                        base_channels=16)
    url = 'http://127.0.0.1:9/weights.pth'  # port 9 refuses: no network
    monkeypatch.setenv('TORCH_HOME', str(tmp_path / 'torch_home'))
    monkeypatch.setenv('no_proxy', '127.0.0.1')
    for args, messages in (
            ([wide, setup['a']], ('does not match the model of config',
                                  'size mismatch for backbone.conv1.weight')),
            ([setup['config'], setup['a'], '--domains', 'gta5'],
             ("must include the source domain 'cityscapes'", )),
            ([setup['config'], url],
             (f'error: cannot download the checkpoint {url}', ))):
        assert tool.main([*args, '--out', str(tmp_path / 'out'),
                          '--no-progress']) == 1
        err = capsys.readouterr().err
        assert all(message in err for message in messages), err
    with pytest.raises(SystemExit):
        tool.main([setup['config'], str(tmp_path / 'nope.pth')])
    assert 'checkpoint not found' in capsys.readouterr().err


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
