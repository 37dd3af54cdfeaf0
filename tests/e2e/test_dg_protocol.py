"""The domain-generalisation protocol "G -> C, B, M": configs/ibn_b_gta5_
to_cbm.py trains 2 iterations on GTA5 and validates GTA5, Cityscapes,
BDD100K and Mapillary in one pass (data in the real layouts, found through
``IBNSEG_<NAME>_ROOT``; sizes and the network shrunk with ``--cfg-options``,
since the protocol is under test, not the model), then
tools/cross_domain_eval.py writes the DG papers' tables for two
checkpoints."""
import itertools
import json

import pytest

from tests.helpers.data_factory import (make_bdd100k, make_cityscapes,
                                        make_gta5, make_mapillary,
                                        write_split_file)
from tests.helpers.shipped_configs import TINY_MODEL, small_options
from tests.helpers.tools import REPO_ROOT, log_metric, run_tool

CONFIG = f'{REPO_ROOT}/configs/ibn_b_gta5_to_cbm.py'
DOMAINS = ('gta5', 'cityscapes', 'bdd100k', 'mapillary')
TARGETS = DOMAINS[1:]


@pytest.fixture(scope='module')
def data_roots(tmp_path_factory):
    """One generated dataset per domain, each in its real layout, found
    through its data-root variable (nothing at the default data/ paths)."""
    root = tmp_path_factory.mktemp('dg')
    gta = make_gta5(root / 'gta5', num_images=4, size=(64, 118))
    for split, ids in (('train', gta.ids[:2]), ('val', gta.ids[2:3]),
                       ('test', gta.ids[3:])):
        write_split_file(root / 'gta5' / 'splits' / f'{split}.txt', ids)
    make_cityscapes(root / 'cityscapes', {'val': 1}, size=(64, 128))
    make_bdd100k(root / 'bdd100k', splits={'val': 1}, size=(72, 128))
    make_mapillary(root / 'mapillary', splits={'validation': 1},
                   size=(96, 128))
    roots = {d: str(root / d) for d in DOMAINS}
    with pytest.MonkeyPatch.context() as patch:
        for domain, path in roots.items():
            patch.setenv(f'IBNSEG_{domain.upper()}_ROOT', path)
        yield root


def _table_after(markdown, heading):
    """The header and rows of the table under ``heading``."""
    lines = markdown.split(heading, 1)[1].strip().splitlines()
    table = [[c.strip() for c in line.strip().strip('|').split('|')]
             for line in itertools.takewhile(lambda x: x.startswith('|'),
                                             lines)]
    return table[0], table[2:]


@pytest.mark.slow
def test_gta5_to_cbm_trains_validates_and_reports(data_roots):
    work = data_roots / 'work_dirs' / 'ibn_b_gta5_to_cbm'
    options = small_options(CONFIG) + TINY_MODEL
    log = run_tool('train.py', [
        '--verbose', CONFIG, '--work-dir', work, '--cfg-options', *options,
        'train_cfg.max_iters=2', 'train_cfg.val_interval=2',
        'default_hooks.checkpoint.interval=1'
    ], cwd=data_roots).stdout
    # every domain validated in one pass, each under its own key
    scores = {d: log_metric(log, f'{d}/mIoU') for d in DOMAINS}
    target = log_metric(log, 'target/mIoU')
    assert target == pytest.approx(
        sum(scores[d] for d in TARGETS) / 3, abs=0.02)
    assert log_metric(log, 'drop/mIoU') == pytest.approx(
        scores['gta5'] - target, abs=0.02)
    assert 'val: 4 domains on the full splits' in log

    out = data_roots / 'dg_table'
    stdout = run_tool('cross_domain_eval.py', [
        CONFIG, work / 'iter_1.pth', work / 'iter_2.pth', '--names',
        'ibn_b_1', 'ibn_b_2', '--out', out, '--num-show', '1',
        '--no-progress', '--device', 'cpu', '--cfg-options', *options
    ], cwd=data_roots).stdout
    markdown = (out / 'results.md').read_text()
    assert markdown.strip() in stdout
    models = {m['name']: m['results']
              for m in json.loads((out / 'results.json').read_text())
              ['models']}
    columns = ['gta5 (source)', 'cityscapes', 'bdd100k', 'mapillary',
               'target mean', 'drop']
    keys = [*DOMAINS, 'target', 'drop']
    # the DG papers' table: models by rows, target domains by columns
    header, rows = _table_after(
        markdown, '## mIoU (%) by target domain, trained on gta5')
    assert header == ['model', *columns]
    assert [r[0] for r in rows] == ['ibn_b_1', 'ibn_b_2']
    for row in rows:
        assert row[1:] == [f"{models[row[0]][k]['mIoU']:.2f}"
                           for k in keys]
    # and one table per checkpoint, a row per metric
    header, rows = _table_after(markdown, '## Targets (%): ibn_b_2')
    assert header == ['metric', *columns]
    assert rows[0] == ['mIoU'] + [f"{models['ibn_b_2'][k]['mIoU']:.2f}"
                                  for k in keys]
    # the training log's last validation is the same model on the same
    # images: the tool's numbers
    assert models['ibn_b_2']['cityscapes']['mIoU'] == pytest.approx(
        scores['cityscapes'], abs=0.01)
