# mmseg's dilated ResNet-50 (output stride 8) with the DeepLabV3 ASPP head,
# on IBNResNet: the plain 7x7 stem of the published IBN-Net and torchvision
# ImageNet weights instead of mmseg's deep-stem V1c. Configs choose `ibn`
# (None is the plain ResNet-50 baseline) and the backbone's init_cfg.
_base_ = ['mmseg::_base_/models/deeplabv3_r50-d8.py']
model = dict(
    pretrained=None,  # mmseg's open-mmlab://resnet50_v1c does not fit this stem
    backbone=dict(type='IBNResNet', ibn=None))
