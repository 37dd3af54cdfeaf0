# plain ResNet-50 (torchvision ImageNet weights): the baseline, FCN head at
# output stride 8 (the IBN-Net paper's setting); trained on Cityscapes (40k
# iterations, 512x1024 crops, batch 2 x 4 GPUs), tested without adaptation on
# BDD100K, Mapillary, GTA5 and ACDC fog/night/rain/snow, all validated in one
# pass (configs/_base_/datasets/cityscapes_to_bmga.py). Weights:
# checkpoints/README.md.
_base_ = [
    '../_base_/models/fcn_ibn-r50-d8.py',
    '../_base_/datasets/cityscapes_to_bmga.py', '../_base_/default_runtime.py',
    '../_base_/schedules/schedule_40k.py'
]
