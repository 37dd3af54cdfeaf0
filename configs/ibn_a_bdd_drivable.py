# IBN-Net50-a; otherwise as r50_bdd_drivable.py (BDD100K drivable area, every
# condition, DeepLabV3+ at output stride 8).
_base_ = './r50_bdd_drivable.py'
model = dict(
    backbone=dict(
        ibn='a',
        init_cfg=dict(checkpoint='checkpoints/resnet50_ibn_a-d9d0bb7b.pth')))
