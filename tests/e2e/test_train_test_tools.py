"""tools/train.py then tools/test.py on a checkpoint, as a user runs them."""
import glob
import os
import os.path as osp

import cv2
import numpy as np
import pytest
import torch

from tests.helpers.data_factory import claim_png_size, make_cityscapes
from tests.helpers.tiny_experiment import (RESNET18_TINY, load_state_dict,
                                           make_tiny_cityscapes,
                                           write_cross_domain_config,
                                           write_tiny_config)
from tests.helpers.tiny_setup import IMAGE_SIZE, save_checkpoint
from tests.helpers.tools import REPO_ROOT, run_in_process, run_tool


@pytest.mark.slow
def test_train_then_test_checkpoint(tmp_path):
    data = make_tiny_cityscapes(tmp_path / 'cityscapes', train=2, val=2)
    # ibnseg's IBN-b backbone, found without custom_imports in the config.
    config = write_tiny_config(
        tmp_path / 'tiny.py', data.root, max_iters=2,
        backbone=dict(RESNET18_TINY, type='IBNResNet', ibn='b'))
    work_dir = tmp_path / 'work'
    train_log = run_tool('train.py', ['--verbose', config, '--work-dir',
                                      work_dir]).stdout
    checkpoint = work_dir / 'iter_2.pth'
    assert checkpoint.is_file()
    # The tool swapped the config's CheckpointHook for the atomic one.
    assert 'AtomicCheckpointHook' in train_log
    assert any('.IN.' in key for key in load_state_dict(checkpoint))

    out_dir = tmp_path / 'predictions'
    test_dir = tmp_path / 'test'
    test_log = run_tool('test.py', [
        '--verbose', config, checkpoint, '--work-dir', test_dir, '--out',
        out_dir,
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
    status, err = run_in_process(tool, args, monkeypatch, capsys)
    assert status == 2
    assert message in err


@pytest.mark.slow
def test_test_tool_writes_predictions_and_pictures_per_domain(tmp_path):
    config, datasets = write_cross_domain_config(tmp_path)
    checkpoint = save_checkpoint(config, tmp_path / 'tiny.pth')
    out_dir = tmp_path / 'predictions'
    work_dir = tmp_path / 'test'
    log = run_tool('test.py', [
        config, checkpoint, '--work-dir', work_dir, '--out', out_dir,
        '--show-dir', 'painted', '--cfg-options',
        'default_hooks.visualization.interval=1'
    ]).stdout
    for domain in ('cityscapes', 'gta5', 'cityscapes_copy'):
        assert f'{domain}/mIoU' in log

    # <out>/<domain>/<image name>.png, as mmseg's IoUMetric names them
    images = {}
    for dataset in datasets:
        domain = dataset['pipeline'][-1]['domain']
        folder = osp.join(dataset['data_root'], dataset.get(
            'data_prefix', {}).get('img_path', 'images'))
        images[domain] = sorted(
            osp.basename(path)
            for path in glob.glob(osp.join(folder, '**', '*.png'),
                                  recursive=True))
    assert sorted(os.listdir(out_dir)) == sorted(images)
    predictions = {}
    for domain, names in images.items():
        assert len(names) == 3
        assert sorted(os.listdir(out_dir / domain)) == names
        for name in names:
            prediction = cv2.imread(str(out_dir / domain / name),
                                    cv2.IMREAD_UNCHANGED)
            assert prediction is not None, f'{domain}/{name} unreadable'
            # at the image's own size, though inferred at half of it
            assert prediction.shape == IMAGE_SIZE
            assert prediction.dtype == np.uint8 and prediction.max() < 19
            predictions[domain, name] = prediction
    for name in images['cityscapes']:  # same model, same images
        np.testing.assert_array_equal(predictions['cityscapes', name],
                                      predictions['cityscapes_copy', name])

    # every painted image kept: same names in two domains overwrite nothing
    painted = glob.glob(str(work_dir / 'painted' / 'vis_data' / 'vis_image' /
                            '*.png'))
    assert len(painted) == 9
    for domain, names in images.items():
        for name in names:
            assert any(f'{domain}_{name}' in osp.basename(p)
                       for p in painted), (domain, name)


@pytest.mark.slow
@pytest.mark.parametrize('tool,args', [('train.py', []),
                                       ('test.py', ['weights.pth'])])
def test_missing_data_is_named_without_a_traceback(tool, args, tmp_path):
    """The README's commands in a folder without the data: the tool ends
    with the dataset's message (which folder, relative to which working
    folder, what layout), not a traceback from inside the Runner."""
    torch.save({'state_dict': {}}, tmp_path / 'weights.pth')
    proc = run_tool(tool, [f'{REPO_ROOT}/configs/ibn_b_cityscapes.py', *args],
                    cwd=tmp_path, check=False)
    assert proc.returncode == 2, proc.stdout[-3000:]
    assert 'Traceback' not in proc.stdout
    assert "error: " in proc.stdout
    assert "image folder 'data/cityscapes/leftImg8bit/" in proc.stdout
    assert f'relative to the working folder {tmp_path}' in proc.stdout


@pytest.mark.slow
def test_test_tool_names_an_unreachable_checkpoint_url(tmp_path,
                                                       monkeypatch):
    monkeypatch.setenv('TORCH_HOME', str(tmp_path / 'torch_home'))
    monkeypatch.setenv('no_proxy', '127.0.0.1')
    config, _ = write_cross_domain_config(tmp_path)
    proc = run_tool('test.py', [config, 'http://127.0.0.1:9/weights.pth',
                                '--work-dir', tmp_path / 'work'],
                    check=False)
    assert proc.returncode == 2, proc.stdout[-3000:]
    assert 'Traceback' not in proc.stdout
    assert 'error: cannot download the checkpoint ' \
        'http://127.0.0.1:9/weights.pth' in proc.stdout


@pytest.mark.slow
def test_unusable_data_is_named_without_a_traceback(tmp_path):
    """Data the first pass refuses when the dataset is built (here an image
    whose header claims 30000x30000 pixels) ends the tool with the
    dataset's one-line message, as missing data does."""
    root = tmp_path / 'data' / 'cityscapes'
    make_cityscapes(root, splits={'val': 1})
    image, label = (glob.glob(str(root / folder / 'val' / '*' / pattern))[0]
                    for folder, pattern in [('leftImg8bit', '*.png'),
                                            ('gtFine', '*_labelIds.png')])
    for path in (image, label):
        claim_png_size(path, 30000, 30000)
    torch.save({'state_dict': {}}, tmp_path / 'weights.pth')
    proc = run_tool('test.py', [f'{REPO_ROOT}/configs/ibn_b_cityscapes.py',
                                'weights.pth'], cwd=tmp_path, check=False)
    assert proc.returncode == 2, proc.stdout[-3000:]
    assert 'Traceback' not in proc.stdout, proc.stdout[-3000:]
    last = proc.stdout.splitlines()[-1]
    assert last.startswith('error: ') and 'is 30000x30000 pixels' in last \
        and osp.relpath(image, tmp_path) in last, last
