# GTA5 with the common train/val/test split (data/splits/gta5/*.txt, made
# from the dataset's split.mat by tools/gta5_split_from_mat.py). Labels are
# the raw palette PNGs (mapped by MapLabelIds) or, after
# tools/convert_gta5_labels.py, the _labelTrainIds.png files; the
# converter's skip report drops broken pairs. Layout: data/README.md.
custom_imports = dict(imports=['ibnseg'], allow_failed_imports=False)
dataset_type = 'GTA5Dataset'
data_root = 'data/gta5/'
split_dir = 'data/splits/gta5/'
crop_size = (512, 1024)
# as in the IBN-Net paper: frames (mostly 1914x1052) resized to 1024x563,
# then random 512x1024 crops
train_pipeline = [
    dict(type='LoadImageFromFile'),
    dict(type='LoadAnnotations'),
    dict(type='MapLabelIds'),
    dict(type='Resize', scale=(1024, 563), keep_ratio=True),
    dict(type='RandomCrop', crop_size=crop_size, cat_max_ratio=0.75),
    dict(type='RandomFlip', prob=0.5),
    dict(type='PhotoMetricDistortion'),
    dict(type='PackSegInputs')
]
# full resolution (scored against the original-size labels)
test_pipeline = [
    dict(type='LoadImageFromFile'),
    dict(type='Resize', scale=(1914, 1052), keep_ratio=True),
    dict(type='LoadAnnotations'),
    dict(type='MapLabelIds'),
    dict(type='PackDomainSegInputs', domain='gta5')
]
train_dataloader = dict(
    batch_size=2,
    num_workers=2,
    persistent_workers=True,
    sampler=dict(type='InfiniteSampler', shuffle=True),
    dataset=dict(
        type=dataset_type,
        data_root=data_root,
        split=split_dir + 'train.txt',
        pipeline=train_pipeline))
val_dataloader = dict(
    batch_size=1,
    num_workers=2,
    persistent_workers=True,
    sampler=dict(type='DefaultSampler', shuffle=False),
    dataset=dict(
        type=dataset_type,
        data_root=data_root,
        split=split_dir + 'val.txt',
        pipeline=test_pipeline))
test_dataloader = dict(
    val_dataloader,
    dataset=dict(val_dataloader['dataset'], split=split_dir + 'test.txt'))

val_evaluator = dict(type='IoUMetric', iou_metrics=['mIoU'])
test_evaluator = val_evaluator
