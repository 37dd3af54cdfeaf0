# IBN-Net101-a; otherwise as deeplabv3_r50-d8_4xb2-40k_cityscapes-to-gta5-512x1024.py
_base_ = './deeplabv3_r50-d8_4xb2-40k_cityscapes-to-gta5-512x1024.py'
model = dict(
    backbone=dict(
        depth=101,
        ibn='a',
        init_cfg=dict(checkpoint='checkpoints/resnet101_ibn_a-59ea0ac6.pth')))
