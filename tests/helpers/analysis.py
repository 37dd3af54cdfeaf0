"""Tiny models, configs and image folders for the analysis tests."""
import copy
import os
import os.path as osp

import cv2
import numpy as np
import torch
from mmengine.registry import init_default_scope
from mmseg.registry import MODELS

from tests.helpers.tiny_setup import tiny_model

# The evaluation tests' tiny EncoderDecoder (mmseg ResNet-18 + FCN head),
# 4 channels wide: stages of 4, 8, 16 and 32 channels, milliseconds a pass.
TINY_SEGMENTOR = tiny_model(num_classes=3, base_channels=4)

# Blocks per stage of a ResNet-18.
RESNET18_BLOCKS = (2, 2, 2, 2)


def build_tiny_segmentor(seed: int = 0, **backbone_overrides):
    """The tiny segmentor in eval mode, its random weights fixed by seed.

    Weights keep PyTorch's default initialisation, as ``init_model`` leaves
    them without a checkpoint (mmseg's init_weights would zero every
    block's last norm, making the blocks identities).
    """
    cfg = copy.deepcopy(TINY_SEGMENTOR)
    cfg['backbone'].update(backbone_overrides)
    init_default_scope('mmseg')
    torch.manual_seed(seed)
    return MODELS.build(cfg).eval()


def write_tiny_config(path: str) -> str:
    """An mmseg config file holding :data:`TINY_SEGMENTOR`."""
    with open(path, 'w') as file:
        file.write("default_scope = 'mmseg'\n")
        file.write(f'model = {TINY_SEGMENTOR!r}\n')
    return path


def write_images(folder: str, count: int, size=(56, 40), brightness=0,
                 seed=0, prefix='img') -> list:
    """``count`` random-texture PNGs of (width, height) ``size``."""
    os.makedirs(folder, exist_ok=True)
    rng = np.random.default_rng(seed)
    width, height = size
    paths = []
    for index in range(count):
        base = rng.integers(0, 200, size=(height // 4, width // 4, 3))
        image = cv2.resize(base.astype(np.uint8), (width, height),
                           interpolation=cv2.INTER_LINEAR).astype(np.int32)
        image = np.clip(image + brightness, 0, 255).astype(np.uint8)
        path = osp.join(folder, f'{prefix}_{index:03d}.png')
        assert cv2.imwrite(path, image)
        paths.append(path)
    return paths
