"""A tiny, deterministic mmseg experiment for the engine and e2e tests.

``write_tiny_config`` writes a complete mmseg 1.2.2 config (no ``_base_``)
training a ResNet-18 (base_channels 8) + FCNHead on a Cityscapes-layout
dataset made by ``tests.helpers.data_factory.make_cityscapes``, small
enough to run a few iterations in seconds on one CPU core
(``tests.helpers.tools.run_tool`` runs ``tools/train.py`` /
``tools/test.py`` on it the way a user does).
"""
import copy
from typing import Optional

import torch

from ibnseg.evaluation import cross_domain_evaluator, parse_cross_domain
from ibnseg.utils import load_checkpoint_safely
from tests.helpers.data_factory import make_cityscapes
from tests.helpers.tiny_setup import cross_domain_section, make_domains

#: mmseg's ResNet with the published weights' plain stem, shrunk.
RESNET18_TINY = dict(
    type='ResNet', depth=18, base_channels=8, stem_channels=8,
    out_indices=(3, ), dilations=(1, 1, 2, 4), strides=(1, 2, 1, 1),
    contract_dilation=True, style='pytorch', norm_eval=False)

CONFIG_TEMPLATE = '''\
default_scope = 'mmseg'
data_root = {data_root!r}
crop_size = (32, 32)
norm_cfg = dict(type='BN', requires_grad=True)
model = dict(
    type='EncoderDecoder',
    data_preprocessor=dict(
        type='SegDataPreProcessor', mean=[123.675, 116.28, 103.53],
        std=[58.395, 57.12, 57.375], bgr_to_rgb=True, pad_val=0,
        seg_pad_val=255, size=crop_size),
    backbone=dict({backbone}, norm_cfg=norm_cfg),
    decode_head=dict(
        type='FCNHead', in_channels=64, in_index=0, channels=16, num_convs=1,
        concat_input=False, dropout_ratio=0.1, num_classes=19,
        norm_cfg=norm_cfg, align_corners=False,
        loss_decode=dict(type='CrossEntropyLoss', loss_weight=1.0)),
    train_cfg=dict(), test_cfg=dict(mode='whole'))
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
                 val_interval={val_interval})
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
                      val_interval: Optional[int] = None,
                      backbone: Optional[dict] = None,
                      extra: str = '') -> str:
    """Write the tiny experiment's config to ``path``.

    Args:
        path: Config file to write (``.py``).
        data_root: Root of a ``make_tiny_cityscapes`` dataset.
        max_iters (int): Training iterations.
        checkpoint_interval (int): Iterations between checkpoints.
        val_interval (int, optional): Iterations between validations;
            defaults to ``max_iters`` (validate once, at the end).
        backbone (dict, optional): Backbone config; defaults to
            ``RESNET18_TINY``. Its last stage must output 64 channels.
        extra (str): Config lines appended at the end (overrides).
    """
    backbone = RESNET18_TINY if backbone is None else backbone
    text = CONFIG_TEMPLATE.format(
        data_root=str(data_root),
        backbone=', '.join(f'{k}={v!r}' for k, v in backbone.items()),
        max_iters=max_iters,
        checkpoint_interval=checkpoint_interval,
        val_interval=val_interval or max_iters) + extra
    with open(path, 'w') as f:
        f.write(text)
    return str(path)


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
    """The tiny experiment testing three domains in one run, the way the
    shipped configs do (a cross_domain section, MultiDomainTestLoop and
    CrossDomainIoUMetric): Cityscapes, GTA5 and, under a third name, the
    Cityscapes images again (as a domain under an appearance shift would
    be), so that two domains hold images of the same file names."""
    roots = make_domains(str(tmp_path / 'data'))
    section = cross_domain_section(roots)
    section['domains']['cityscapes_copy'] = copy.deepcopy(
        section['domains']['cityscapes'])
    for domain in section['domains'].values():
        domain['dataloader'].update(batch_size=2, num_workers=0)
    evaluator = cross_domain_evaluator(section)
    config = write_tiny_config(
        tmp_path / 'cross_domain.py', roots['cityscapes'],
        extra=f'cross_domain = {section!r}\n'
        "test_cfg = dict(type='MultiDomainTestLoop')\n"
        f'test_evaluator = {evaluator!r}\n')
    _, domains = parse_cross_domain(section)
    return config, [d.dataloader['dataset'] for d in domains.values()]
