# IBN-Net50-a, DeepLabV3+ head at output stride 16 (the domain-generalisation
# setting), trained on SYNTHIA; tested without adaptation on Cityscapes,
# BDD100K and Mapillary (mIoU16 / mIoU13 too), all in one pass (README.md,
# "Domain-generalisation protocol").
_base_ = './deeplabv3plus/deeplabv3plus_r50-ibn-a-d16_4xb2-40k_synthia-to-cbm-512x1024.py'
