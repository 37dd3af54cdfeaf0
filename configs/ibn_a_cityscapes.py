# IBN-Net50-a, FCN head at output stride 8, trained on Cityscapes; tested on Cityscapes
# and GTA5 without fine-tuning. The paper's Table 4: 69.1 mIoU on Cityscapes,
# 34.1 on GTA5.
_base_ = './fcn/fcn_r50-ibn-a-d8_4xb2-40k_cityscapes-to-gta5-512x1024.py'
