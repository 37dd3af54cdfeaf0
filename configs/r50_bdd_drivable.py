# BDD100K drivable area (the WAD 2018 track IBN-Net won), plain ResNet-50
# (torchvision ImageNet weights), DeepLabV3+ at output stride 8 (the setting
# of BDD100K's model zoo, whose DeepLabV3+ R-50-D8 40K 512x1024 model scores
# 84.12 mIoU on val: SysCV/bdd100k-models, drivable/README.md); trained on
# every condition (70k train frames), 40k iterations, 512x1024 crops, batch
# 2 x 4 GPUs (the zoo: 2 x 8); evaluated on the whole val split and on each
# time of day and weather of it in one pass
# (configs/_base_/datasets/bdd_drivable.py), with the plain 3-class mIoU and
# BDD's drivable mIoU (bdd_mIoU). Weights: checkpoints/README.md; data:
# docs/bdd_drivable.md.
_base_ = [
    './_base_/models/deeplabv3plus_ibn-r50-d8.py',
    './_base_/datasets/bdd_drivable.py', './_base_/default_runtime.py',
    './_base_/schedules/schedule_40k.py'
]
# direct, alternative, background
model = dict(
    decode_head=dict(num_classes=3), auxiliary_head=dict(num_classes=3))
