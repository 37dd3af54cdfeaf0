# DenseNet-121-IBN-a; otherwise as
# fcn_densenet121-d8_4xb2-40k_cityscapes-to-gta5-512x1024.py
_base_ = './fcn_densenet121-d8_4xb2-40k_cityscapes-to-gta5-512x1024.py'
model = dict(
    backbone=dict(
        ibn='a',
        init_cfg=dict(
            checkpoint='checkpoints/densenet121_ibn_a-e4af5cc1.pth')))
