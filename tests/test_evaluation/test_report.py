"""Report tables, results.json and CSV from known metrics."""
import csv
import io
import json
import math

from ibnseg.evaluation import (ModelResult, markdown_report, per_class_table,
                               results_csv, results_json, summary_table,
                               write_report)

CLASSES = ['road', 'car']


def make_result(name, source, values, shifted=()):
    """A ModelResult whose scores are given per row as (mIoU, aAcc, IoUs).

    Targets are every clean row but the source; rows named ``d@s`` are
    domain ``d`` under shift ``s``.
    """
    scores = {
        row: dict(mIoU=miou, aAcc=aacc, mAcc=miou + 1, IoU=list(ious))
        for row, (miou, aacc, ious) in values.items()
    }
    shifted = {r: tuple(r.split('@')) for r in values if '@' in r}
    targets = [r for r in values if r != source and r not in shifted]
    if targets:
        means = {m: sum(scores[t][m] for t in targets) / len(targets)
                 for m in ('mIoU', 'aAcc', 'mAcc')}
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


def test_per_class_table():
    rows = table_rows(per_class_table(R50))
    assert rows == [['road', '80.00', '40.00', 'nan'],
                    ['car', '49.00', '18.80', '40.00'],
                    ['**mIoU**', '64.50', '29.40', '20.00']]
    report = markdown_report([R50, IBN_B])
    assert '## Per-class IoU (%): r50' in report
    assert '## Per-class IoU (%): ibn_b' in report
    assert summary_table([R50, IBN_B]) in report


def test_json_has_every_number_and_no_nan():
    document = json.loads(results_json([R50, GTA_MODEL]))
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
    assert document['models'][1]['results']['cityscapes']['mIoU'] == 22.4


def test_csv_one_line_per_model_and_row():
    lines = list(csv.DictReader(io.StringIO(results_csv([R50, IBN_B]))))
    assert [(l['model'], l['test']) for l in lines] == [
        ('r50', 'cityscapes'), ('r50', 'gta5'), ('r50', 'target'),
        ('r50', 'drop'), ('r50', 'gta5@grey'), ('ibn_b', 'cityscapes'),
        ('ibn_b', 'gta5'), ('ibn_b', 'target'), ('ibn_b', 'drop')
    ]
    assert float(lines[1]['mIoU']) == 29.4
    assert float(lines[1]['IoU.car']) == 18.8
    assert lines[4]['IoU.road'] == ''  # NaN
    assert lines[2]['IoU.road'] == ''  # no per-class target mean


def test_write_report(tmp_path):
    paths = write_report(str(tmp_path / 'out'), [R50])
    assert sorted(paths) == ['csv', 'json', 'md']
    assert open(paths['md']).read() == markdown_report([R50])
    assert json.load(open(paths['json']))['models'][0]['name'] == 'r50'
    assert sorted(p.name for p in (tmp_path / 'out').iterdir()) == [
        'results.csv', 'results.json', 'results.md']  # no temp files left
