# Fine-tuning (plain ResNet-50 (torchvision ImageNet weights): the baseline):
# the model trained on Cityscapes by `python tools/train.py configs/r50_cityscapes.py`
# continues on GTA5's training set (all of it; the -10pct/-20pct/-50pct
# siblings take a seeded subset), validated on GTA5 and Cityscapes.
_base_ = '../fcn/fcn_r50-d8_4xb2-40k_gta5-to-cityscapes-512x1024.py'
# the source model's weights replace the ImageNet ones: don't load those
model = dict(backbone=dict(init_cfg=None))
# 20k iterations instead of 40k
train_cfg = dict(max_iters=20000, val_interval=2000)
param_scheduler = [
    dict(type='PolyLR', eta_min=1e-4, power=0.9, begin=0, end=20000,
         by_epoch=False)
]
default_hooks = dict(checkpoint=dict(interval=2000))
# Start from the source run's final checkpoint, the one
# `python tools/train.py configs/r50_cityscapes.py` saves at its 40k iterations
# (tools/train.py names that command when the file is missing). For another
# run, e.g. the same model trained with the long-name config:
#   --cfg-options load_from=work_dirs/fcn_r50-d8_4xb2-40k_cityscapes-to-gta5-512x1024/iter_40000.pth
load_from = 'work_dirs/r50_cityscapes/iter_40000.pth'
# the command a missing source's error names
source_config = 'configs/r50_cityscapes.py'
