# DeepLabV3+ on a ResNet-50 at output stride 16, the setting of the
# domain-generalisation literature (RobustNet, SAN-SAW, WildNet, ...): the
# last stage dilated instead of strided (dilations (1, 1, 1, 2), strides
# (1, 2, 2, 1), its first block undilated as in torchvision's
# replace_stride_with_dilation), and the ASPP rates of the DeepLabV3+ paper at
# stride 16, (1, 6, 12, 18) (twice those at stride 8). The decoder's low-level
# features are stage 1's (c1, stride 4, 256 channels) as in mmseg's
# deeplabv3plus; the auxiliary FCN head reads stage 3. On IBNResNet (plain
# 7x7 stem, torchvision/IBN-Net ImageNet weights); configs choose `ibn`
# (None, the default: the plain ResNet-50 baseline) and the weights
# (checkpoints/README.md).
_base_ = ['./deeplabv3plus_ibn-r50-d8.py']
model = dict(
    backbone=dict(dilations=(1, 1, 1, 2), strides=(1, 2, 2, 1)),
    decode_head=dict(dilations=(1, 6, 12, 18)))
