"""The README's fine-tune chain, as documented, on generated data.

``python tools/train.py configs/ibn_b_cityscapes.py``, then the README's
fine-tune step ``python tools/train.py configs/finetune/fcn_r50-ibn-b-d8_
4xb2-20k_cityscapes-ft-gta5-10pct-512x1024.py`` (10% of one training frame
is one frame), in one working folder: the fine-tune config finds
the source run's final checkpoint itself (``work_dirs/ibn_b_cityscapes/
last_checkpoint``). The only override is the iteration count, so this runs
the real ResNet-50-D8 at the configs' full resolution (512x1024 crops,
2048x1024 validation): one image per split keeps it as cheap as that allows.
The ImageNet weights the config names are written as a random file in the
published format at ``checkpoints/`` (they cannot be downloaded here).
"""
import pytest
import torch

from tests.helpers.data_factory import (make_cityscapes, make_gta5,
                                        write_split_file)
from tests.helpers.published_layout import PublishedResNet
from tests.helpers.tiny_experiment import load_state_dict
from tests.helpers.tools import REPO_ROOT, run_tool

SOURCE = f'{REPO_ROOT}/configs/ibn_b_cityscapes.py'
FINETUNE_NAME = 'fcn_r50-ibn-b-d8_4xb2-20k_cityscapes-ft-gta5-10pct-512x1024'
FINETUNE = f'{REPO_ROOT}/configs/finetune/{FINETUNE_NAME}.py'
ITERS = ['--cfg-options', 'train_cfg.max_iters=2']


@pytest.fixture
def workdir(tmp_path):
    """A working folder as the README assumes: data/ at the configs'
    default paths, the ImageNet weights in checkpoints/."""
    make_cityscapes(tmp_path / 'data' / 'cityscapes',
                    {'train': 1, 'val': 1}, cities=('aachen', ),
                    size=(64, 128))
    gta = make_gta5(tmp_path / 'data' / 'gta5', num_images=3, size=(59, 107))
    for split, stem in zip(('train', 'val', 'test'), gta.ids):
        write_split_file(tmp_path / 'data' / 'gta5' / 'splits' /
                         f'{split}.txt', [stem])
    weights = tmp_path / 'checkpoints' / 'resnet50_ibn_b-9ca61e85.pth'
    weights.parent.mkdir()
    torch.manual_seed(0)
    torch.save(PublishedResNet(50, 'b').state_dict(), weights)
    return tmp_path


@pytest.mark.slow  # two full-size ResNet-50-D8 runs
def test_train_then_finetune_as_the_readme_says(workdir):
    log = run_tool('train.py', ['--verbose', SOURCE, *ITERS], cwd=workdir,
                   timeout=900).stdout
    # validated after the last iteration, on the full splits of both
    assert 'val: 2 domains on the full splits: cityscapes 1, gta5 1' in log
    source = workdir / 'work_dirs' / 'ibn_b_cityscapes'
    assert (source / 'last_checkpoint').read_text().strip() == str(
        source / 'iter_2.pth')

    log = run_tool('train.py', ['--verbose', FINETUNE, *ITERS], cwd=workdir,
                   timeout=900).stdout
    assert f'Load checkpoint from {source / "iter_2.pth"}' in log
    tuned = load_state_dict(workdir / 'work_dirs' / FINETUNE_NAME /
                            'iter_2.pth')
    start = load_state_dict(source / 'iter_2.pth')
    assert tuned.keys() == start.keys()
    # The fine-tune run started from the source weights (its config loads
    # no ImageNet weights: without them it would start from random ones) and
    # moved them by two SGD steps only.
    for name in ('backbone.conv1.weight', 'backbone.layer3.5.conv2.weight',
                 'decode_head.conv_seg.weight'):
        change = (tuned[name] - start[name]).norm() / start[name].norm()
        assert 0 < change < 0.05, (name, change)
