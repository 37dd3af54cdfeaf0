# plain DenseNet-121 (torchvision ImageNet weights): the DenseNet baseline,
# dilated (output stride 8), FCN head; trained on Cityscapes (40k iterations,
# 512x1024 crops, batch 2 x 4 GPUs), validated on Cityscapes and GTA5.
# Weights: checkpoints/README.md.
_base_ = [
    '../_base_/models/fcn_ibn-densenet121-d8.py',
    '../_base_/datasets/cityscapes_to_gta5.py', '../_base_/default_runtime.py',
    '../_base_/schedules/schedule_40k.py'
]
