# IBN-Net50-a; otherwise as r50_bdd_drivable_day_clear.py (trained on clear
# daytime, tested on the other conditions).
_base_ = './r50_bdd_drivable_day_clear.py'
model = dict(
    backbone=dict(
        ibn='a',
        init_cfg=dict(checkpoint='checkpoints/resnet50_ibn_a-d9d0bb7b.pth')))
