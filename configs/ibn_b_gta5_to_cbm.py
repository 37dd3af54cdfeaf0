# IBN-Net50-b, DeepLabV3+ head at output stride 16 (the domain-generalisation
# setting), trained on GTA5; tested without adaptation on Cityscapes, BDD100K
# and Mapillary, all in one pass (README.md, "Domain-generalisation protocol").
# RobustNet reports its IBN-Net row (built as the IBN-b layout by its scripts)
# at 33.85 / 32.30 / 37.75 mIoU on C / B / M (quoted from memory, NOT checked
# against the paper).
_base_ = './deeplabv3plus/deeplabv3plus_r50-ibn-b-d16_4xb2-40k_gta5-to-cbm-512x1024.py'
