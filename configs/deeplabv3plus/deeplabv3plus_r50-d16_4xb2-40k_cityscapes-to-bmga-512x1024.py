# plain ResNet-50 (torchvision ImageNet weights): the baseline, DeepLabV3+ head
# at output stride 16 (the DG literature's setting); trained on Cityscapes (40k
# iterations, 512x1024 crops, batch 2 x 4 GPUs), tested without adaptation on
# BDD100K, Mapillary, GTA5 and ACDC fog/night/rain/snow, all validated in one
# pass (configs/_base_/datasets/cityscapes_to_bmga.py). Weights:
# checkpoints/README.md.
_base_ = [
    '../_base_/models/deeplabv3plus_ibn-r50-d16.py',
    '../_base_/datasets/cityscapes_to_bmga.py', '../_base_/default_runtime.py',
    '../_base_/schedules/schedule_40k.py'
]
