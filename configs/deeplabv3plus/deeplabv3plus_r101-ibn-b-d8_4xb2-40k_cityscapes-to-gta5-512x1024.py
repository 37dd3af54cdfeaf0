# IBN-Net101-b; otherwise as deeplabv3plus_r50-d8_4xb2-40k_cityscapes-to-gta5-512x1024.py
_base_ = './deeplabv3plus_r50-d8_4xb2-40k_cityscapes-to-gta5-512x1024.py'
model = dict(
    backbone=dict(
        depth=101,
        ibn='b',
        init_cfg=dict(checkpoint='checkpoints/resnet101_ibn_b-c55f6dba.pth')))
