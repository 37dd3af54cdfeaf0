"""A tiny segmentor (mmseg's ResNet-18, 8 base channels, FCN head), two
generated domains (Cityscapes, GTA5) and a config testing both, for tests."""
import os.path as osp

import torch
from mmengine.config import Config
from mmengine.logging import MessageHub
from mmengine.registry import init_default_scope
from mmseg.registry import MODELS

from ibnseg.datasets import CLASSES, PALETTE
from tests.helpers.data_factory import make_cityscapes, make_gta5

IMAGE_SIZE = (32, 64)  # (height, width) of every generated image
NUM_SAMPLES = dict(cityscapes=3, gta5=3)
NORM_CFG = dict(type='BN', requires_grad=True)


def tiny_model(num_classes=len(CLASSES), base_channels=8):
    """An EncoderDecoder config: ResNet-18 (``base_channels`` wide) + FCN."""
    return dict(
        type='EncoderDecoder',
        data_preprocessor=dict(
            type='SegDataPreProcessor',
            mean=[123.675, 116.28, 103.53],
            std=[58.395, 57.12, 57.375],
            bgr_to_rgb=True,
            pad_val=0,
            seg_pad_val=255),
        backbone=dict(
            type='ResNet',
            depth=18,
            stem_channels=base_channels,
            base_channels=base_channels,
            out_indices=(3, ),
            norm_cfg=NORM_CFG,
            init_cfg=None),
        decode_head=dict(
            type='FCNHead',
            in_channels=base_channels * 8,
            in_index=0,
            channels=16,
            num_convs=1,
            concat_input=False,
            dropout_ratio=0.0,
            num_classes=num_classes,
            norm_cfg=NORM_CFG,
            loss_decode=dict(type='CrossEntropyLoss', loss_weight=1.0)),
        train_cfg=dict(),
        test_cfg=dict(mode='whole'))


def eval_pipeline(pack):
    """A test pipeline at half the generated size, ending with ``pack``."""
    return [
        dict(type='LoadImageFromFile'),
        dict(type='Resize', scale=(IMAGE_SIZE[1] // 2, IMAGE_SIZE[0] // 2),
             keep_ratio=True),
        dict(type='LoadLabelIdAnnotations'),
        pack,
    ]


def dataloader(dataset, batch_size=2):
    return dict(
        batch_size=batch_size,
        num_workers=0,
        sampler=dict(type='DefaultSampler', shuffle=False),
        dataset=dataset)


def make_domains(root):
    """Write both domains under ``root``; returns their data roots."""
    city = make_cityscapes(
        osp.join(root, 'cityscapes'),
        splits=dict(val=NUM_SAMPLES['cityscapes']),
        size=IMAGE_SIZE,
        seed=1)
    gta = make_gta5(
        osp.join(root, 'gta5'),
        num_images=NUM_SAMPLES['gta5'],
        size=IMAGE_SIZE,
        seed=2)
    return dict(cityscapes=city.root, gta5=gta.root)


def cross_domain_section(roots, source='cityscapes'):
    """Cityscapes (whole image, plain PackSegInputs, which the evaluation
    tags) and GTA5 (sliding window, already tagged)."""
    return dict(
        source=source,
        domains=dict(
            cityscapes=dict(
                dataloader=dataloader(
                    dict(
                        type='CityscapesLabelIdsDataset',
                        data_root=roots['cityscapes'],
                        data_prefix=dict(
                            img_path='leftImg8bit/val',
                            seg_map_path='gtFine/val'),
                        pipeline=eval_pipeline(dict(type='PackSegInputs')))),
                test_cfg=dict(mode='whole')),
            gta5=dict(
                dataloader=dataloader(
                    dict(
                        type='GTA5Dataset',
                        data_root=roots['gta5'],
                        pipeline=eval_pipeline(
                            dict(type='PackDomainSegInputs',
                                 domain='gta5')))),
                test_cfg=dict(
                    mode='slide', crop_size=(12, 12), stride=(8, 8)))))


def write_config(path, roots, source='cityscapes', **model_kwargs):
    """A config file: the tiny model and a cross_domain section."""
    Config(
        dict(
            custom_imports=dict(imports=['ibnseg']),
            default_scope='mmseg',
            model=tiny_model(**model_kwargs),
            cross_domain=cross_domain_section(roots, source))).dump(path)
    return str(path)


def save_checkpoint(config_path, path, seed=0):
    """Random weights of the config's model, saved as training saves them
    (``meta``, ``state_dict``, a message hub with history)."""
    cfg = Config.fromfile(config_path)
    init_default_scope('mmseg')
    torch.manual_seed(seed)
    model = MODELS.build(cfg.model)  # torch's default init: quiet, enough
    hub = MessageHub(f'tiny-{seed}')
    hub.update_scalar('train/loss', 1.5)
    torch.save(
        dict(
            meta=dict(
                iter=1,
                dataset_meta=dict(classes=CLASSES, palette=PALETTE)),
            state_dict=model.state_dict(),
            message_hub=hub.state_dict()), path)
    return str(path)
