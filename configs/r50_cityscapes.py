# ResNet-50 (baseline), FCN head at output stride 8, trained on Cityscapes; tested on Cityscapes
# and GTA5 without fine-tuning. The paper's Table 4: 64.5 mIoU on Cityscapes,
# 29.4 on GTA5.
_base_ = './fcn/fcn_r50-d8_4xb2-40k_cityscapes-to-gta5-512x1024.py'
