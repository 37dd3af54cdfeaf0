"""A tiny, deterministic mmseg experiment (a complete mmseg config, no
``_base_``: ResNet-18 of 8 base channels + FCN on a Cityscapes-layout
dataset) that tools/train.py and tools/test.py run in seconds."""
import copy
import glob
import os.path as osp
from typing import Optional

import torch

from ibnseg.evaluation import cross_domain_evaluator
from ibnseg.utils import load_checkpoint_safely
from tests.helpers.data_factory import make_cityscapes
from tests.helpers.tiny_setup import (NORM_CFG, cross_domain_section,
                                      make_domains, tiny_model)

#: mmseg's ResNet with the published weights' plain stem, shrunk.
RESNET18_TINY = dict(
    type='ResNet', depth=18, base_channels=8, stem_channels=8,
    out_indices=(3, ), dilations=(1, 1, 2, 4), strides=(1, 2, 1, 1),
    contract_dilation=True, style='pytorch', norm_eval=False)

CONFIG_TEMPLATE = '''\
default_scope = 'mmseg'
data_root = {data_root!r}
crop_size = (32, 32)
model = {model!r}
dataset_type = 'CityscapesDataset'
train_pipeline = [
    dict(type='LoadImageFromFile'),
    dict(type='LoadAnnotations'),
    dict(type='RandomCrop', crop_size=crop_size),
    dict(type='RandomFlip', prob=0.5),
    dict(type='PackSegInputs'),
]
test_pipeline = [
    dict(type='LoadImageFromFile'),
    dict(type='LoadAnnotations'),
    dict(type='PackSegInputs'),
]
train_dataloader = dict(
    batch_size=2, num_workers=0, persistent_workers=False,
    sampler=dict(type='InfiniteSampler', shuffle=True),
    dataset=dict(
        type=dataset_type, data_root=data_root,
        data_prefix=dict(img_path='leftImg8bit/train',
                         seg_map_path='gtFine/train'),
        pipeline=train_pipeline))
val_dataloader = dict(
    batch_size=1, num_workers=0, persistent_workers=False,
    sampler=dict(type='DefaultSampler', shuffle=False),
    dataset=dict(
        type=dataset_type, data_root=data_root,
        data_prefix=dict(img_path='leftImg8bit/val',
                         seg_map_path='gtFine/val'),
        pipeline=test_pipeline))
test_dataloader = val_dataloader
val_evaluator = dict(type='IoUMetric', iou_metrics=['mIoU'])
test_evaluator = val_evaluator
optim_wrapper = dict(
    type='OptimWrapper',
    optimizer=dict(type='SGD', lr=0.01, momentum=0.9, weight_decay=5e-4))
param_scheduler = [
    dict(type='PolyLR', eta_min=1e-4, power=0.9, begin=0, end={max_iters},
         by_epoch=False)
]
train_cfg = dict(type='IterBasedTrainLoop', max_iters={max_iters},
                 val_interval={max_iters})
val_cfg = dict(type='ValLoop')
test_cfg = dict(type='TestLoop')
default_hooks = dict(
    timer=dict(type='IterTimerHook'),
    logger=dict(type='LoggerHook', interval=1, log_metric_by_epoch=False),
    param_scheduler=dict(type='ParamSchedulerHook'),
    checkpoint=dict(type='CheckpointHook', by_epoch=False,
                    interval={checkpoint_interval}, max_keep_ckpts=2),
    sampler_seed=dict(type='DistSamplerSeedHook'),
    visualization=dict(type='SegVisualizationHook'))
env_cfg = dict(
    cudnn_benchmark=False,
    mp_cfg=dict(mp_start_method='fork', opencv_num_threads=0),
    dist_cfg=dict(backend='nccl'))
vis_backends = [dict(type='LocalVisBackend')]
visualizer = dict(
    type='SegLocalVisualizer', vis_backends=vis_backends, name='visualizer')
log_processor = dict(by_epoch=False)
log_level = 'INFO'
load_from = None
resume = False
randomness = dict(seed=0, deterministic=True)
'''


def make_tiny_cityscapes(root, train: int = 4, val: int = 2):
    """A Cityscapes-layout dataset of 32x64 images with trainId labels."""
    return make_cityscapes(root, splits={'train': train, 'val': val},
                           with_train_ids=True)


def write_tiny_config(path, data_root, max_iters: int = 4,
                      checkpoint_interval: int = 2,
                      backbone: Optional[dict] = None,
                      extra: str = '') -> str:
    """The tiny experiment's config at ``path``, validating once, at the
    end; ``backbone`` (default ``RESNET18_TINY``) must end in 64 channels;
    ``extra``: lines appended (overrides)."""
    model = tiny_model()
    model['backbone'] = dict(backbone or RESNET18_TINY, norm_cfg=NORM_CFG)
    model['decode_head'].update(dropout_ratio=0.1, align_corners=False)
    model['data_preprocessor']['size'] = (32, 32)  # crop_size
    text = CONFIG_TEMPLATE.format(
        data_root=str(data_root), model=model,
        max_iters=max_iters,
        checkpoint_interval=checkpoint_interval) + extra
    with open(path, 'w') as f:
        f.write(text)
    return str(path)


def write_run_config(path, data_root, extra: str = '') -> str:
    """The e2e tests' shared tiny run (``tiny_run``): 4 iterations, a
    checkpoint every 2 and a validation at the end (one in between would
    draw from torch's RNG, which a run resumed from iteration 2 does not
    replay), on a seeded half of the training set as a fine-tune config
    takes it, on mmseg's own runtime base (found through pkg_resources)."""
    return write_tiny_config(
        path, data_root, max_iters=4, checkpoint_interval=2,
        extra="_base_ = ['mmseg::_base_/default_runtime.py']\n"
        "train_dataloader['dataset'].update(\n"
        "    type='CityscapesLabelIdsDataset',\n"
        '    subset=dict(fraction=0.5, seed=0))\n' + extra)


def load_state_dict(path) -> dict:
    """The model weights of an mmengine checkpoint (safe loading)."""
    checkpoint = load_checkpoint_safely(path, map_location='cpu')
    return checkpoint['state_dict']


def assert_same_weights(expected: dict, actual: dict) -> None:
    """Every tensor equal, bit for bit; names the first that differs."""
    assert expected.keys() == actual.keys()
    for name, tensor in expected.items():
        assert torch.equal(tensor, actual[name]), (
            f'{name} differs: max abs difference '
            f'{(tensor.double() - actual[name].double()).abs().max()}')


def write_cross_domain_config(tmp_path):
    """The tiny experiment testing three domains as the shipped configs do
    (cross_domain, MultiDomainTestLoop, CrossDomainIoUMetric): Cityscapes,
    GTA5 and the Cityscapes images again under a third name, so that two
    domains hold images of the same file names. Returns the config and
    each domain's image file names."""
    roots = make_domains(str(tmp_path / 'data'))
    section = cross_domain_section(roots)
    section['domains']['cityscapes_copy'] = copy.deepcopy(
        section['domains']['cityscapes'])
    config = write_tiny_config(
        tmp_path / 'cross_domain.py', roots['cityscapes'],
        extra=f'cross_domain = {section!r}\n'
        "test_cfg = dict(type='MultiDomainTestLoop')\n"
        f'test_evaluator = {cross_domain_evaluator(section)!r}\n')
    cityscapes = glob.glob(f"{roots['cityscapes']}/leftImg8bit/val/*/*.png")
    gta5 = glob.glob(f"{roots['gta5']}/images/*.png")
    names = [sorted(osp.basename(p) for p in paths)
             for paths in (cityscapes, gta5, cityscapes)]
    return config, dict(zip(('cityscapes', 'gta5', 'cityscapes_copy'), names))
