# ResNet-50 (baseline), DeepLabV3+ head at output stride 16 (the
# domain-generalisation setting), trained on GTA5; tested without adaptation on
# Cityscapes, BDD100K and Mapillary, all in one pass (README.md,
# "Domain-generalisation protocol"). RobustNet (CVPR 2021) reports its
# DeepLabV3+ R50 baseline at 28.95 / 25.14 / 28.18 mIoU on C / B / M (quoted
# from memory, NOT checked against the paper).
_base_ = './deeplabv3plus/deeplabv3plus_r50-d16_4xb2-40k_gta5-to-cbm-512x1024.py'
