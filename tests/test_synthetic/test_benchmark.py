"""The demo's benchmark: configs, run folders, resume, summary maths, and a
tiny run end to end."""
import glob
import json
import os.path as osp

import pytest
from mmengine.hooks import Hook

from ibnseg.evaluation.report import ModelResult
from ibnseg.synthetic.benchmark import (Preset, demo_config, generate_data,
                                        run_benchmark, run_name, summarize,
                                        summary_markdown, train)

PRESET = Preset(size=(32, 64), num_train=4, num_val=2, iters=4)


def _result(name, source_miou, target_miou):
    return ModelResult(
        name=name, config='c.py', checkpoint='x.pth', source='source',
        rows=['source', 'dusk'], classes=['road'],
        scores={'source': dict(mIoU=source_miou),
                'dusk': dict(mIoU=target_miou),
                'target': dict(mIoU=target_miou),
                'drop': dict(mIoU=source_miou - target_miou)})


def test_summary_is_mean_and_sample_std_over_seeds():
    summary = summarize({
        0: [_result('plain', 50.0, 10.0), _result('ibn_b', 48.0, 30.0)],
        1: [_result('plain', 54.0, 14.0),
            _result('ibn_b', 50.0, float('nan'))],
    })
    plain, ibn_b = summary['models']['plain'], summary['models']['ibn_b']
    assert plain['source']['mean'] == pytest.approx(52.0)
    assert plain['source']['std'] == pytest.approx(2 ** 0.5 * 2)
    assert plain['drop']['mean'] == pytest.approx(40.0)
    # a NaN seed is left out (and written as null), not averaged in
    assert ibn_b['dusk'] == dict(mean=30.0, std=None, values=[30.0, None])
    table = summary_markdown(summary)
    assert '| source | 52.00 ± 2.83 | 49.00 ± 1.41 |' in table
    assert '| dusk | 12.00 ± 2.83 | 30.00 |' in table
    assert table.endswith('mIoU (%), mean ± sample standard deviation over '
                          '2 seeds (0, 1).\n')
    json.dumps(summary, allow_nan=False)


def test_demo_config_points_at_the_data_and_run(tmp_path):
    cfg = demo_config('ibn_a', str(tmp_path / 'd'), iters=7, seed=3,
                      work_dir=str(tmp_path / 'w'))
    assert cfg.model.backbone.ibn == 'a'
    # GTA5Dataset reads a relative split from the data root
    train_set = cfg.train_dataloader.dataset
    assert train_set.data_root == f'{tmp_path}/d/source/'
    assert osp.join(train_set.data_root, train_set.split) == \
        f'{tmp_path}/d/source/splits/train.txt'
    fog = cfg.cross_domain.domains.fog.dataloader.dataset
    assert fog.data_root == f'{tmp_path}/d/fog/'
    assert cfg.train_cfg.max_iters == 7 and cfg.param_scheduler[0].end == 7
    assert cfg.randomness.seed == 3 and cfg.val_cfg is None


def test_run_name_tells_settings_apart():
    names = {run_name(PRESET), run_name(Preset((32, 64), 4, 2, 6)),
             run_name(Preset((64, 64), 4, 2, 4)),
             run_name(Preset((32, 64), 8, 2, 4)), run_name(PRESET, 1)}
    assert len(names) == 5
    assert run_name(PRESET) == '4iters-32x64-4frames'
    assert run_name(PRESET, 1) == '4iters-32x64-4frames-data1'
    # validation frames are not trained on: same run
    assert run_name(Preset((32, 64), 4, 9, 4)) == run_name(PRESET)


def test_unknown_models_are_refused(tmp_path):
    with pytest.raises(ValueError, match=r"unknown demo model\(s\) \['r50'\]"):
        run_benchmark(str(tmp_path), str(tmp_path), PRESET, models=['r50'])


class _Interrupt(Hook):
    """Stops training after iteration 1 (once it is saved) as a Ctrl-C
    would."""
    priority = 'LOWEST'

    def after_train_iter(self, runner, batch_idx, data_batch=None,
                         outputs=None):
        raise KeyboardInterrupt


@pytest.mark.slow
def test_tiny_benchmark_end_to_end_resumes_an_interrupted_run(tmp_path):
    preset = Preset(size=(32, 64), num_train=4, num_val=2, iters=2)
    out, data = tmp_path / 'out', str(tmp_path / 'data')
    generate_data(data, preset, ['dusk'], nproc=1, progress=False)
    work_dir = out / 'seed0' / 'ibn_b' / run_name(preset)
    cfg = demo_config('ibn_b', data, preset.iters, 0, str(work_dir))
    cfg.default_hooks.checkpoint.interval = 1
    with pytest.raises(KeyboardInterrupt):
        train(cfg, [_Interrupt()])
    assert sorted(p.name for p in work_dir.glob('*.pth')) == ['iter_1.pth']

    summary = run_benchmark(
        str(out), data, preset, models=['ibn_b'], targets=['dusk'],
        shifts=['grey'], nproc=1)
    # (several models, reruns: tests/e2e/test_demo.py; seeds: the summary)
    log = open(sorted(glob.glob(str(work_dir / '*' / '*.log')))[-1]).read()
    assert 'Auto resumed from the latest checkpoint' in log
    assert 'iter_1.pth' in log
    assert (work_dir / 'iter_2.pth').is_file()
    rows = summary['models']['ibn_b']
    assert list(rows) == ['source', 'dusk', 'target', 'drop', 'source@grey',
                          'dusk@grey']
    report = json.loads((out / 'seed0' / 'results.json').read_text())
    scores = report['models'][0]['results']
    # the summary holds the seed's evaluation of each row
    assert [rows[row]['values'][0] for row in rows] == [
        scores[row]['mIoU'] for row in rows]
    # one model: its pictures beside results.md
    assert (out / 'seed0' / 'per_class_iou.png').is_file()
    assert json.loads((out / 'summary.json').read_text()) == \
        json.loads(json.dumps(summary))
    assert (out / 'summary.md').read_text() == summary_markdown(summary)
