"""tools/train.py then tools/test.py on a checkpoint, as a user runs them."""
import glob
import os.path as osp
import runpy
import sys

import cv2
import numpy as np
import pytest

from tests.test_engine.tiny_experiment import (RESNET18_TINY, TOOLS,
                                               load_state_dict,
                                               make_tiny_cityscapes,
                                               run_tool, write_tiny_config)


@pytest.mark.slow
def test_train_then_test_checkpoint(tmp_path):
    data = make_tiny_cityscapes(tmp_path / 'cityscapes', train=2, val=2)
    # ibnseg's IBN-b backbone, found without custom_imports in the config.
    config = write_tiny_config(
        tmp_path / 'tiny.py', data.root, max_iters=2,
        backbone=dict(RESNET18_TINY, type='IBNResNet', ibn='b'))
    work_dir = tmp_path / 'work'
    train_log = run_tool('train.py', [config, '--work-dir', work_dir]).stdout
    checkpoint = work_dir / 'iter_2.pth'
    assert checkpoint.is_file()
    # The tool swapped the config's CheckpointHook for the atomic one.
    assert 'AtomicCheckpointHook' in train_log
    assert any('.IN.' in key for key in load_state_dict(checkpoint))

    out_dir = tmp_path / 'predictions'
    test_dir = tmp_path / 'test'
    test_log = run_tool('test.py', [
        config, checkpoint, '--work-dir', test_dir, '--out', out_dir,
        '--show-dir', 'painted', '--cfg-options',
        'default_hooks.visualization.interval=1'
    ]).stdout
    assert 'mIoU' in test_log and 'per class results' in test_log

    names = [osp.basename(n) for n in data.names['val']]
    for name in names:
        prediction = cv2.imread(
            str(out_dir / f'{name}_leftImg8bit.png'), cv2.IMREAD_UNCHANGED)
        assert prediction is not None, f'no prediction for {name}'
        assert prediction.shape == (32, 64)
        assert prediction.dtype == np.uint8 and prediction.max() < 19
    # A relative --show-dir is inside --work-dir.
    painted = glob.glob(str(test_dir / 'painted' / 'vis_data' / 'vis_image' /
                            '*.png'))
    assert len(painted) == len(names)
    metrics = glob.glob(str(test_dir / '*' / '*.json'))
    assert metrics, 'test metrics were not dumped into --work-dir'


@pytest.mark.parametrize('tool,args,message', [
    ('train.py', ['missing.py'], 'config file not found: missing.py'),
    ('test.py', ['missing.py', 'missing.pth'],
     'checkpoint not found: missing.pth'),
])
def test_tools_name_missing_files(tool, args, message, monkeypatch, capsys):
    # In-process (the tool's __main__ code, run by runpy): a subprocess
    # would spend seconds importing torch and mmseg to print one line.
    monkeypatch.setattr(sys, 'argv', [tool, *args])
    with pytest.raises(SystemExit) as exit_info:
        runpy.run_path(osp.join(TOOLS, tool), run_name='__main__')
    assert exit_info.value.code == 2
    assert message in capsys.readouterr().err
