# IBN-Net50-b; otherwise as r50_bdd_drivable.py (BDD100K drivable area, every
# condition, DeepLabV3+ at output stride 8).
_base_ = './r50_bdd_drivable.py'
model = dict(
    backbone=dict(
        ibn='b',
        init_cfg=dict(checkpoint='checkpoints/resnet50_ibn_b-9ca61e85.pth')))
