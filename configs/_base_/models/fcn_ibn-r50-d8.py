# mmseg's dilated ResNet-50 (output stride 8) with the FCN head (the IBN-Net paper's segmentation setting),
# on IBNResNet: the plain 7x7 stem of the published IBN-Net and torchvision
# ImageNet weights instead of mmseg's deep-stem V1c. Configs choose `ibn`
# (None, the default, is the plain ResNet-50 baseline with torchvision's
# ImageNet weights) and the backbone's weights (checkpoints/README.md).
_base_ = ['mmseg::_base_/models/fcn_r50-d8.py']
model = dict(
    pretrained=None,  # mmseg's open-mmlab://resnet50_v1c does not fit this stem
    data_preprocessor=dict(size=(512, 1024)),  # pad to the training crop
    backbone=dict(
        type='IBNResNet',
        ibn=None,
        init_cfg=dict(
            type='Pretrained', checkpoint='checkpoints/resnet50-0676ba61.pth')))
