# IBN-Net50-b; otherwise as r50_bdd_drivable_day_clear.py (trained on clear
# daytime, tested on the other conditions).
_base_ = './r50_bdd_drivable_day_clear.py'
model = dict(
    backbone=dict(
        ibn='b',
        init_cfg=dict(checkpoint='checkpoints/resnet50_ibn_b-9ca61e85.pth')))
