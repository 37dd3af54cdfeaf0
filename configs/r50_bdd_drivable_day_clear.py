# BDD100K drivable area trained on clear daytime frames only, tested without
# adaptation on night, dawn/dusk and bad weather in one pass
# (configs/_base_/datasets/bdd_drivable_day_clear.py): plain ResNet-50,
# DeepLabV3+ at output stride 8, 40k iterations, 512x1024 crops, batch
# 2 x 4 GPUs; the model as in r50_bdd_drivable.py.
_base_ = [
    './_base_/models/deeplabv3plus_ibn-r50-d8.py',
    './_base_/datasets/bdd_drivable_day_clear.py',
    './_base_/default_runtime.py', './_base_/schedules/schedule_40k.py'
]
# direct, alternative, background
model = dict(
    decode_head=dict(num_classes=3), auxiliary_head=dict(num_classes=3))
