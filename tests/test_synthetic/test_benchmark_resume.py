"""A demo training interrupted part-way resumes in its own run folder (the
folders keyed by settings, ``run_name``, must not stop that)."""
import glob
import os.path as osp

import pytest
from mmengine.hooks import Hook

from ibnseg.synthetic.benchmark import (Preset, demo_config, generate_data,
                                        run_name, train)

PRESET = Preset(size=(32, 64), num_train=4, num_val=2, iters=4)


class _Interrupt(Hook):
    """Stops training after iteration 3 as a Ctrl-C would."""

    def after_train_iter(self, runner, batch_idx, data_batch=None,
                         outputs=None):
        if runner.iter + 1 == 3:
            raise KeyboardInterrupt


def test_run_name_tells_settings_apart():
    names = {run_name(PRESET), run_name(Preset((32, 64), 4, 2, 6)),
             run_name(Preset((64, 64), 4, 2, 4)),
             run_name(Preset((32, 64), 8, 2, 4)), run_name(PRESET, 1)}
    assert len(names) == 5
    assert run_name(PRESET) == '4iters-32x64-4frames'
    # validation frames are not trained on: same run
    assert run_name(Preset((32, 64), 4, 9, 4)) == run_name(PRESET)


@pytest.mark.slow
def test_an_interrupted_run_of_the_same_settings_resumes(tmp_path):
    data = str(tmp_path / 'data')
    generate_data(data, PRESET, ['dusk'], nproc=1, progress=False)
    work_dir = str(tmp_path / 'out' / 'seed0' / 'plain' / run_name(PRESET))

    def config():
        return demo_config('plain', data, PRESET.iters, 0, work_dir,
                           adaptive_threads=False)

    cfg = config()
    cfg.default_hooks.checkpoint.interval = 2
    with pytest.raises(KeyboardInterrupt):
        train(cfg, [_Interrupt()])
    assert not osp.exists(osp.join(work_dir, 'iter_4.pth'))

    assert train(config()) == osp.join(work_dir, 'iter_4.pth')
    assert osp.isfile(osp.join(work_dir, 'iter_4.pth'))
    logs = sorted(glob.glob(osp.join(work_dir, '*', '*.log')))
    assert 'Auto resumed from the latest checkpoint' in \
        open(logs[-1]).read() and 'iter_2.pth' in open(logs[-1]).read()
