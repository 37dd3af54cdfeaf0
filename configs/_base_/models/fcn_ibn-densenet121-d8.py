# mmseg's FCN head (the IBN-Net paper's segmentation setting) on a dilated
# DenseNet-121 at output stride 8: transitions 2 and 3 keep their norm and
# 1x1 conv but not their average pool, blocks 3 and 4 are dilated 2 and 4
# (the counterpart of ResNet-D8's dilations (1, 1, 2, 4)). The decode head
# takes block 4 (relu(norm5(...)), 1024 channels), the auxiliary head block 3
# (1024 channels). Configs choose `ibn` (None, the default, is the plain
# DenseNet-121 baseline with torchvision's ImageNet weights; 'a' is
# DenseNet-121-IBN-a) and the weights (checkpoints/README.md).
_base_ = ['mmseg::_base_/models/fcn_r50-d8.py']
norm_cfg = dict(type='SyncBN', requires_grad=True)
model = dict(
    pretrained=None,  # mmseg's open-mmlab://resnet50_v1c is a ResNet
    data_preprocessor=dict(size=(512, 1024)),  # pad to the training crop
    backbone=dict(
        _delete_=True,  # none of mmseg's ResNet options apply
        type='IBNDenseNet',
        depth=121,
        ibn=None,
        strides=(1, 2, 1, 1),
        dilations=(1, 1, 2, 4),
        out_indices=(0, 1, 2, 3),
        norm_cfg=norm_cfg,
        norm_eval=False,
        init_cfg=dict(
            type='Pretrained',
            checkpoint='checkpoints/densenet121-a639ec97.pth')),
    decode_head=dict(in_channels=1024),
    auxiliary_head=dict(in_channels=1024))
