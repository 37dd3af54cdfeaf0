# IBN-Net50-b; otherwise as fcn_r50-d8_4xb2-40k_cityscapes-to-bmga-512x1024.py
_base_ = './fcn_r50-d8_4xb2-40k_cityscapes-to-bmga-512x1024.py'
model = dict(
    backbone=dict(
        ibn='b',
        init_cfg=dict(checkpoint='checkpoints/resnet50_ibn_b-9ca61e85.pth')))
