# A laptop-sized member of the paper's setting for the embedded demo: a
# ResNet-18 layout at a quarter of the width (base 16 channels), dilated to
# output stride 8, with a one-conv FCN head, trained from scratch. Configs
# choose `ibn` (None: the plain baseline).
norm_cfg = dict(type='BN', requires_grad=True)
model = dict(
    type='EncoderDecoder',
    data_preprocessor=dict(
        type='SegDataPreProcessor',
        mean=[123.675, 116.28, 103.53],
        std=[58.395, 57.12, 57.375],
        bgr_to_rgb=True,
        pad_val=0,
        seg_pad_val=255),
    backbone=dict(
        type='IBNResNet',
        depth=18,
        ibn=None,
        stem_channels=16,
        base_channels=16,
        out_indices=(3, ),
        dilations=(1, 1, 2, 4),
        strides=(1, 2, 1, 1),
        contract_dilation=True,
        norm_cfg=norm_cfg,
        style='pytorch'),
    decode_head=dict(
        type='FCNHead',
        in_channels=128,
        in_index=0,
        channels=64,
        num_convs=1,
        concat_input=False,
        dropout_ratio=0.1,
        num_classes=19,
        norm_cfg=norm_cfg,
        align_corners=False,
        loss_decode=dict(
            type='CrossEntropyLoss', use_sigmoid=False, loss_weight=1.0)),
    train_cfg=dict(),
    test_cfg=dict(mode='whole'))
