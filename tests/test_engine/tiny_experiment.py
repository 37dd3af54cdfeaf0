"""A tiny, deterministic mmseg experiment for the engine and e2e tests.

``write_tiny_config`` writes a complete mmseg 1.2.2 config (no ``_base_``)
training a ResNet-18 (base_channels 8) + FCNHead on a Cityscapes-layout
dataset made by ``tests.data_factory.make_cityscapes``, small enough to run
a few iterations in seconds on one CPU core. ``run_tool`` runs
``tools/train.py`` / ``tools/test.py`` the way a user does, in a subprocess.
"""
import os
import os.path as osp
import subprocess
import sys
from typing import Optional, Sequence

import torch

from ibnseg.utils import load_checkpoint_safely
from tests.data_factory import make_cityscapes

REPO_ROOT = osp.dirname(osp.dirname(osp.dirname(osp.abspath(__file__))))
TOOLS = osp.join(REPO_ROOT, 'tools')

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


def tool_env(threads: Optional[int] = None) -> dict:
    """Environment for the tools: the repo importable, and ``threads``
    torch threads (default: this process's cores, since the suite runs one
    test at a time; a test running several tool processes at once passes
    its share)."""
    threads = str(threads or len(os.sched_getaffinity(0)))
    env = dict(os.environ, OMP_NUM_THREADS=threads, MKL_NUM_THREADS=threads)
    env['PYTHONPATH'] = os.pathsep.join(
        p for p in (REPO_ROOT, env.get('PYTHONPATH')) if p)
    return env


def tool_command(tool: str, args: Sequence[str]) -> list:
    return [sys.executable, osp.join(TOOLS, tool), *map(str, args)]


def run_tool(tool: str, args: Sequence[str], timeout: float = 300,
             check: bool = True, cwd=REPO_ROOT) -> subprocess.CompletedProcess:
    """Run ``tools/<tool>`` with ``args`` in ``cwd``; raise with its output
    if it fails and ``check`` is set."""
    proc = subprocess.run(
        tool_command(tool, args), cwd=cwd, env=tool_env(),
        stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True,
        timeout=timeout)
    if check and proc.returncode != 0:
        raise AssertionError(
            f'tools/{tool} {" ".join(map(str, args))} exited with '
            f'{proc.returncode}:\n{proc.stdout[-6000:]}')
    return proc


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
