# IBN-Net50-b; otherwise as deeplabv3plus_r50-d16_4xb2-40k_gta5-to-cbm-512x1024.py
_base_ = './deeplabv3plus_r50-d16_4xb2-40k_gta5-to-cbm-512x1024.py'
model = dict(
    backbone=dict(
        ibn='b',
        init_cfg=dict(checkpoint='checkpoints/resnet50_ibn_b-9ca61e85.pth')))
