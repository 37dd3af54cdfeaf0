# plain DenseNet-121 (torchvision ImageNet weights): the DenseNet baseline,
# dilated (output stride 8), FCN head; trained on GTA5 (40k iterations,
# 512x1024 crops, batch 2 x 4 GPUs), validated on GTA5 and Cityscapes.
# Weights: checkpoints/README.md.
_base_ = [
    '../_base_/models/fcn_ibn-densenet121-d8.py',
    '../_base_/datasets/gta5_to_cityscapes.py', '../_base_/default_runtime.py',
    '../_base_/schedules/schedule_40k.py'
]
