# IBN-Net50-a, FCN head at output stride 8, trained on GTA5; tested on GTA5
# and Cityscapes without fine-tuning. The paper's Table 4: 64.8 mIoU on GTA5,
# 28.1 on Cityscapes.
_base_ = './fcn/fcn_r50-ibn-a-d8_4xb2-40k_gta5-to-cityscapes-512x1024.py'
