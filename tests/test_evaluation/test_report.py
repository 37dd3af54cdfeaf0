"""Report tables, results.json and CSV from known metrics."""
import csv
import io
import json
import math

from ibnseg.evaluation import (ModelResult, markdown_report, per_class_table,
                               results_csv, results_json, summary_table,
                               write_report)
from ibnseg.evaluation.report import dg_comparison_tables, dg_table

CLASSES = ['road', 'car']


def make_result(name, source, values, subsets=None):
    """A ModelResult whose scores are given per row as (mIoU, aAcc, IoUs),
    mAcc = mIoU + 1; ``subsets`` adds ``{metric: {row: value}}``. Targets
    are the clean rows but the source; ``d@s`` is domain d under shift s.
    """
    scores = {row: dict(mIoU=miou, aAcc=aacc, mAcc=miou + 1, IoU=list(ious))
              for row, (miou, aacc, ious) in values.items()}
    for metric, by_row in (subsets or {}).items():
        for row, v in by_row.items():
            scores[row][metric] = v
    shifted = {r: tuple(r.split('@')) for r in values if '@' in r}
    targets = [r for r in values if r != source and r not in shifted]
    if targets:
        names = ['mIoU', 'aAcc', 'mAcc', *(subsets or {})]
        means = {m: sum(scores[t][m] for t in targets) / len(targets)
                 for m in names}
        scores['target'] = means
        scores['drop'] = {m: scores[source][m] - v for m, v in means.items()}
    return ModelResult(name, f'{name}.py', f'{name}.pth', source,
                       list(values), CLASSES, scores, shifted,
                       dict(targets=targets, skipped={}))


R50 = make_result('r50', 'cityscapes', {
    'cityscapes': (64.5, 90.0, [80.0, 49.0]),
    'gta5': (29.4, 60.0, [40.0, 18.8]),
    'gta5@grey': (20.0, 50.0, [float('nan'), 40.0]),
})
IBN_B = make_result('ibn_b', 'cityscapes', {
    'cityscapes': (67.0, 91.0, [81.0, 53.0]),
    'gta5': (37.9, 70.0, [50.0, 25.8]),
})
GTA_MODEL = make_result('gta_r50', 'gta5', {
    'gta5': (61.0, 88.0, [70.0, 52.0]),
    'cityscapes': (22.4, 55.0, [30.0, 14.8]),
})


def table_rows(markdown):
    return [[c.strip() for c in line.strip('|').split('|')]
            for line in markdown.splitlines()[2:]]


def test_single_model_table_is_the_papers_layout():
    table = summary_table([R50])
    assert table.splitlines()[0] == '| train | test | mIoU | aAcc |'
    assert table_rows(table) == [
        ['cityscapes', 'cityscapes', '64.50', '90.00'],
        ['cityscapes', 'gta5', '29.40', '60.00'],
        ['cityscapes', 'target mean', '29.40', '60.00'],
        ['cityscapes', 'drop (source - target)', '35.10', '30.00'],
        ['cityscapes', 'gta5 @ grey', '20.00', '50.00'],
    ]
    assert table_rows(per_class_table(R50)) == [
        ['road', '80.00', '40.00', 'nan'],
        ['car', '49.00', '18.80', '40.00'],
        ['**mIoU**', '64.50', '29.40', '20.00']]


def test_comparison_table_has_a_column_pair_per_model():
    table = summary_table([R50, IBN_B, GTA_MODEL])
    assert table.splitlines()[0] == (
        '| train | test | r50 mIoU | r50 aAcc | ibn_b mIoU | ibn_b aAcc | '
        'gta_r50 mIoU | gta_r50 aAcc |')
    rows = {(r[0], r[1]): r[2:] for r in table_rows(table)}
    assert rows[('cityscapes', 'gta5')] == [
        '29.40', '60.00', '37.90', '70.00', '-', '-']
    assert rows[('cityscapes', 'gta5 @ grey')] == [
        '20.00', '50.00', '-', '-', '-', '-']
    assert rows[('gta5', 'cityscapes')] == ['-'] * 4 + ['22.40', '55.00']
    assert rows[('gta5', 'drop (source - target)')][4] == '38.60'
    assert list(rows)[:4] == [('cityscapes', 'cityscapes'),
                              ('cityscapes', 'gta5'),
                              ('cityscapes', 'target mean'),
                              ('cityscapes', 'drop (source - target)')]


def test_written_report_md_json_and_csv(tmp_path):
    paths = write_report(str(tmp_path / 'out'), [R50, IBN_B])
    assert sorted(p.name for p in (tmp_path / 'out').iterdir()) == [
        'results.csv', 'results.json', 'results.md']  # no temp files left
    report = open(paths['md']).read()
    assert report == markdown_report([R50, IBN_B])
    assert summary_table([R50, IBN_B]) in report
    assert per_class_table(IBN_B) in report.split(
        '## Per-class IoU (%): ibn_b')[1]
    # every number, by row; JSON has no NaN
    document = json.load(open(paths['json']))
    first = document['models'][0]
    assert (first['name'], first['config'], first['checkpoint'],
            first['source']) == ('r50', 'r50.py', 'r50.pth', 'cityscapes')
    assert first['rows'] == ['cityscapes', 'gta5', 'gta5@grey']
    results = first['results']
    assert list(results) == ['cityscapes', 'gta5', 'target', 'drop',
                             'gta5@grey']
    assert results['gta5'] == dict(aAcc=60.0, mIoU=29.4, mAcc=30.4,
                                   IoU=dict(road=40.0, car=18.8))
    assert results['gta5@grey']['IoU']['road'] is None  # NaN -> null
    assert math.isclose(results['drop']['mIoU'], 35.1)
    assert document['models'][1]['results']['cityscapes']['mIoU'] == 67.0
    # a CSV line per (model, row)
    lines = list(csv.DictReader(open(paths['csv'])))
    assert [(line['model'], line['test']) for line in lines] == [
        ('r50', 'cityscapes'), ('r50', 'gta5'), ('r50', 'target'),
        ('r50', 'drop'), ('r50', 'gta5@grey'), ('ibn_b', 'cityscapes'),
        ('ibn_b', 'gta5'), ('ibn_b', 'target'), ('ibn_b', 'drop')
    ]
    assert float(lines[1]['mIoU']) == 29.4
    assert float(lines[1]['IoU.car']) == 18.8
    assert lines[4]['IoU.road'] == ''  # NaN
    assert lines[2]['IoU.road'] == ''  # no per-class target mean


# G -> C, B, M as the DG papers print it (RobustNet's Table 1 layout):
# known numbers, the target mean and drop worked out by hand below.
def make_dg_result(name, source, values, subsets=None):
    """mIoU per row; aAcc = mIoU + 30, both classes' IoU = mIoU."""
    return make_result(name, source,
                       {r: (v, v + 30, [v, v]) for r, v in values.items()},
                       subsets)


DG_R50 = make_dg_result('r50', 'gta5', {
    'gta5': 60.0, 'cityscapes': 30.0, 'bdd100k': 25.0, 'mapillary': 29.0})
DG_IBN_A = make_dg_result('ibn_a', 'gta5', {
    'gta5': 62.0, 'cityscapes': 34.0, 'bdd100k': 32.0, 'mapillary': 38.0})
DG_IBN_B = make_dg_result('ibn_b', 'gta5', {
    'gta5': 61.0, 'cityscapes': 36.0, 'bdd100k': 30.0, 'mapillary': 39.0})
SYNTHIA_IBN = make_dg_result(
    'syn_ibn', 'synthia',
    {'synthia': 70.0, 'cityscapes': 30.0, 'bdd100k': 20.0,
     'mapillary': 25.0},
    subsets=dict(
        mIoU16={'synthia': 72.0, 'cityscapes': 34.0, 'bdd100k': 24.0,
                'mapillary': 29.0},
        mIoU13={'synthia': 75.0, 'cityscapes': 40.0, 'bdd100k': 28.0,
                'mapillary': 34.0}))


def test_dg_tables_of_one_and_of_several_checkpoints():
    table = dg_table(DG_IBN_B)  # a column per target, a row per metric
    assert table.splitlines()[0] == (
        '| metric | gta5 (source) | cityscapes | bdd100k | mapillary | '
        'target mean | drop |')
    # mean of 36, 30, 39 = 35; drop 61 - 35 = 26
    assert table_rows(table) == [
        ['mIoU', '61.00', '36.00', '30.00', '39.00', '35.00', '26.00'],
        ['mAcc', '62.00', '37.00', '31.00', '40.00', '36.00', '26.00'],
        ['aAcc', '91.00', '66.00', '60.00', '69.00', '65.00', '26.00'],
    ]
    # several: the models side by side
    tables = dg_comparison_tables([DG_R50, DG_IBN_A, DG_IBN_B])
    assert [(s, m) for s, m, _ in tables] == [('gta5', 'mIoU')]
    table = tables[0][2]
    assert table.splitlines()[0] == (
        '| model | gta5 (source) | cityscapes | bdd100k | mapillary | '
        'target mean | drop |')
    assert table_rows(table) == [
        ['r50', '60.00', '30.00', '25.00', '29.00', '28.00', '32.00'],
        ['ibn_a', '62.00', '34.00', '32.00', '38.00', '34.67', '27.33'],
        ['ibn_b', '61.00', '36.00', '30.00', '39.00', '35.00', '26.00'],
    ]
    report = markdown_report([DG_R50, DG_IBN_A, DG_IBN_B])
    assert '## mIoU (%) by target domain, trained on gta5' in report
    assert table in report
    for name in ('r50', 'ibn_a', 'ibn_b'):
        assert f'## Targets (%): {name}' in report
    # a single checkpoint: no comparison, its own table
    single = markdown_report([DG_IBN_B])
    assert 'by target domain' not in single
    assert dg_table(DG_IBN_B) in single
    # a target another model skipped is '-', not in its mean
    partial = make_dg_result('ibn_b_nomap', 'gta5', {
        'gta5': 61.0, 'cityscapes': 36.0, 'bdd100k': 30.0})
    table = dg_comparison_tables([DG_R50, partial])[0][2]
    assert table_rows(table)[1] == [
        'ibn_b_nomap', '61.00', '36.00', '30.00', '-', '33.00', '28.00']


def test_dg_tables_per_training_domain_with_synthia_subsets():
    tables = dg_comparison_tables([DG_R50, SYNTHIA_IBN])
    assert [(s, m) for s, m, _ in tables] == [
        ('gta5', 'mIoU'), ('synthia', 'mIoU'), ('synthia', 'mIoU16'),
        ('synthia', 'mIoU13')]
    assert table_rows(tables[0][2]) == [
        ['r50', '60.00', '30.00', '25.00', '29.00', '28.00', '32.00']]
    mIoU16 = tables[2][2]
    assert mIoU16.splitlines()[0].startswith('| model | synthia (source) |')
    # mean of 34, 24, 29 = 29; drop 72 - 29 = 43
    assert table_rows(mIoU16) == [
        ['syn_ibn', '72.00', '34.00', '24.00', '29.00', '29.00', '43.00']]
    # mean of 40, 28, 34 = 34; drop 75 - 34 = 41
    assert table_rows(tables[3][2]) == [
        ['syn_ibn', '75.00', '40.00', '28.00', '34.00', '34.00', '41.00']]
    assert [r[0] for r in table_rows(dg_table(SYNTHIA_IBN))] == [
        'mIoU', 'mIoU16', 'mIoU13', 'mAcc', 'aAcc']


def test_subset_columns_in_table4_json_and_csv():
    table = summary_table([SYNTHIA_IBN, DG_R50])
    assert table.splitlines()[0] == (
        '| train | test | syn_ibn mIoU | syn_ibn mIoU16 | syn_ibn mIoU13 | '
        'syn_ibn aAcc | r50 mIoU | r50 aAcc |')
    rows = {(r[0], r[1]): r[2:] for r in table_rows(table)}
    assert rows[('synthia', 'bdd100k')] == [
        '20.00', '24.00', '28.00', '50.00', '-', '-']
    assert rows[('synthia', 'drop (source - target)')][1] == '43.00'
    document = json.loads(results_json([SYNTHIA_IBN, DG_R50]))
    synthia = document['models'][0]['results']
    assert synthia['cityscapes']['mIoU16'] == 34.0
    assert synthia['target']['mIoU13'] == 34.0
    assert 'mIoU16' not in document['models'][1]['results']['gta5']
    lines = list(csv.DictReader(io.StringIO(
        results_csv([DG_R50, SYNTHIA_IBN]))))
    by_row = {(line['model'], line['test']): line for line in lines}
    assert float(by_row[('syn_ibn', 'mapillary')]['mIoU13']) == 34.0
    assert float(by_row[('syn_ibn', 'drop')]['mIoU16']) == 43.0
    assert by_row[('r50', 'mapillary')]['mIoU16'] == ''
