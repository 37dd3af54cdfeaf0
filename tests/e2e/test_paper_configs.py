"""The README's first real-data command end to end, on generated data.

``configs/ibn_b_cityscapes.py`` (IBN-b ResNet-50-D8, FCN head) trains a few
iterations on a generated Cityscapes-layout dataset, validating on
Cityscapes and GTA5 in one pass; ``tools/test.py`` tests the checkpoint; a
fine-tune config starts from it on a subset of GTA5. Only sizes change, via
``--cfg-options`` as a user would; the data sits at the configs' default
``data/`` paths under the working folder.
"""
import re

import pytest

from tests.data_factory import make_cityscapes, make_gta5, write_split_file
from tests.test_engine.tiny_experiment import REPO_ROOT, load_state_dict, \
    run_tool

CONFIG = f'{REPO_ROOT}/configs/ibn_b_cityscapes.py'
FINETUNE = (f'{REPO_ROOT}/configs/finetune/'
            'fcn_r50-ibn-b-d8_4xb2-20k_cityscapes-ft-gta5-10pct-512x1024.py')
# Small inputs for every pipeline; no ImageNet weights (not downloadable).
SMALL = [
    'model.backbone.init_cfg=None', 'model.data_preprocessor.size=(64,128)',
    'train_dataloader.batch_size=2', 'train_dataloader.num_workers=0',
    'train_dataloader.persistent_workers=False',
    'train_dataloader.dataset.pipeline.2.scale=(128,64)',
    'train_dataloader.dataset.pipeline.3.crop_size=(64,128)',
    'default_hooks.logger.interval=1'
]
for loader in ('val_dataloader', 'test_dataloader',
               'cross_domain.domains.cityscapes.dataloader',
               'cross_domain.domains.gta5.dataloader',
               'cross_domain.domains.gta5.val_dataloader'):
    SMALL += [f'{loader}.num_workers=0', f'{loader}.persistent_workers=False']
    SMALL += [f'{loader}.dataset.pipeline.1.scale=(128,64)']


def schedule(iters):
    return [f'train_cfg.max_iters={iters}', f'train_cfg.val_interval={iters}',
            f'default_hooks.checkpoint.interval={iters}']


@pytest.fixture(scope='module')
def workdir(tmp_path_factory):
    """A folder laid out like the repository's data/ with both domains."""
    root = tmp_path_factory.mktemp('paper')
    make_cityscapes(root / 'data' / 'cityscapes', {'train': 3, 'val': 2},
                    size=(64, 128))
    gta = make_gta5(root / 'data' / 'gta5', num_images=14, size=(64, 118))
    for split, ids in (('train', gta.ids[:10]), ('val', gta.ids[10:12]),
                       ('test', gta.ids[12:])):
        write_split_file(root / 'data' / 'gta5' / 'splits' / f'{split}.txt',
                         ids)
    return root


def _metric(log, name):
    match = re.search(rf'{re.escape(name)}: (-?[\d.]+)', log)
    assert match, f'{name} not in the log:\n{log[-3000:]}'
    return float(match.group(1))


@pytest.mark.slow
def test_train_test_and_finetune_ibn_b_cityscapes(workdir):
    work = workdir / 'work_dirs' / 'ibn_b_cityscapes'
    log = run_tool('train.py', ['--verbose', CONFIG, '--work-dir', work,
                                '--cfg-options', *SMALL, *schedule(2)],
                   cwd=workdir).stdout
    checkpoint = work / 'iter_2.pth'
    assert checkpoint.is_file()
    weights = load_state_dict(checkpoint)
    # IBN-b as published: IN stem and IN after the last blocks of stages 1-2
    assert 'backbone.layer1.2.IN.weight' in weights
    assert 'backbone.bn1.running_mean' not in weights
    # validation covered both domains in one pass
    for key in ('cityscapes/mIoU', 'gta5/mIoU'):
        assert 0 <= _metric(log, key) <= 100
    drop = _metric(log, 'drop/mIoU')  # source minus target: either sign
    assert drop == pytest.approx(
        _metric(log, 'cityscapes/mIoU') - _metric(log, 'gta5/mIoU'), abs=0.02)

    log = run_tool('test.py', [
        '--verbose', CONFIG, checkpoint, '--work-dir', workdir / 'test',
        '--cfg-options',
        *SMALL
    ], cwd=workdir).stdout
    assert 0 <= _metric(log, 'cityscapes/mIoU') <= 100
    assert 0 <= _metric(log, 'gta5/mIoU') <= 100

    finetune = workdir / 'work_dirs' / 'finetune'
    gta5_train = [
        'train_dataloader.dataset.pipeline.2.scale=(128,70)',
        'train_dataloader.dataset.pipeline.3.crop_size=(64,128)'
    ]
    log = run_tool('train.py', [
        '--verbose', FINETUNE, '--work-dir', finetune, '--cfg-options', *SMALL,
        *gta5_train, *schedule(1), f'load_from={checkpoint}'
    ], cwd=workdir).stdout
    assert f'Load checkpoint from {checkpoint}' in log
    tuned = load_state_dict(finetune / 'iter_1.pth')
    assert tuned.keys() == weights.keys()
