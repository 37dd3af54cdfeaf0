"""The demo's benchmark end to end at a tiny size, and its summary maths."""
import json
import os.path as osp

import pytest

from ibnseg.evaluation.report import ModelResult
from ibnseg.synthetic.benchmark import (Preset, demo_config, run_benchmark,
                                        summarize, summary_markdown)


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
        1: [_result('plain', 54.0, 14.0), _result('ibn_b', 50.0, float('nan'))],
    })
    plain, ibn_b = summary['models']['plain'], summary['models']['ibn_b']
    assert plain['source']['mean'] == pytest.approx(52.0)
    assert plain['source']['std'] == pytest.approx(2 ** 0.5 * 2)
    assert plain['drop']['mean'] == pytest.approx(40.0)
    # a NaN seed is left out (and written as null), not averaged in
    assert ibn_b['dusk']['mean'] == pytest.approx(30.0)
    assert ibn_b['dusk']['values'] == [30.0, None]
    table = summary_markdown(summary)
    assert '52.00 ± 2.83' in table and 'over 2 seeds' in table
    json.dumps(summary, allow_nan=False)


def test_demo_config_points_at_the_data_and_run(tmp_path):
    cfg = demo_config('ibn_a', str(tmp_path / 'd'), iters=7, seed=3,
                      work_dir=str(tmp_path / 'w'))
    assert cfg.model.backbone.ibn == 'a'
    assert cfg.train_dataloader.dataset.data_root == f'{tmp_path}/d/source/'
    # GTA5Dataset reads a relative split from the data root
    train = cfg.train_dataloader.dataset
    assert osp.join(train.data_root, train.split) == \
        f'{tmp_path}/d/source/splits/train.txt'
    fog = cfg.cross_domain.domains.fog.dataloader.dataset
    assert fog.data_root == f'{tmp_path}/d/fog/'
    assert cfg.train_cfg.max_iters == 7 and cfg.param_scheduler[0].end == 7
    assert cfg.randomness.seed == 3 and cfg.val_cfg is None


@pytest.mark.slow
def test_tiny_benchmark_end_to_end(tmp_path):
    preset = Preset(size=(32, 64), num_train=4, num_val=2, iters=2)
    summary = run_benchmark(
        str(tmp_path / 'out'), str(tmp_path / 'data'), preset, seeds=[0, 1],
        models=['ibn_b'], targets=['dusk'], shifts=['grey'], nproc=1)
    # (several models side by side: tests/e2e/test_demo.py)
    assert list(summary['models']) == ['ibn_b']
    rows = summary['models']['ibn_b']
    assert list(rows) == ['source', 'dusk', 'target', 'drop', 'source@grey',
                          'dusk@grey']
    for row in ('source', 'dusk'):
        assert len(rows[row]['values']) == 2
        assert 0 <= rows[row]['mean'] <= 100
    out = tmp_path / 'out'
    assert json.loads((out / 'summary.json').read_text())['seeds'] == [0, 1]
    assert 'ibn_b mIoU' in (out / 'summary.md').read_text()
    for seed in (0, 1):
        assert (out / f'seed{seed}' / 'results.md').is_file()
        assert (out / f'seed{seed}' / 'ibn_b' / '2iters-32x64-4frames' /
                'iter_2.pth').is_file()
        # one model: its pictures beside results.md
        assert (out / f'seed{seed}' / 'per_class_iou.png').is_file()
    # a second run reuses data and checkpoints and gives the same numbers
    again = run_benchmark(
        str(tmp_path / 'out'), str(tmp_path / 'data'), preset, seeds=[0, 1],
        models=['ibn_b'], targets=['dusk'], shifts=['grey'], nproc=1)
    assert again['models'] == summary['models']
