# The GTA5 domain's parts, under names of their own (see domains/cityscapes.py).
# The common train/val/test split is read from <gta5 root>/splits/*.txt, made
# from the dataset's split.mat by tools/gta5_split_from_mat.py. Labels are the
# raw palette PNGs (mapped by LoadLabelIdAnnotations) or, after
# tools/convert_gta5_labels.py, the _labelTrainIds.png files; the converter's
# skip report drops broken pairs. Layout: data/README.md.
gta5_type = 'GTA5Dataset'
# $IBNSEG_GTA5_ROOT moves the domain for every config that uses it
gta5_root = '{{$IBNSEG_GTA5_ROOT:data/gta5/}}'
# relative to gta5_root
gta5_split_dir = 'splits/'
# as in the IBN-Net paper: frames (mostly 1914x1052) resized to 1024x563,
# then random 512x1024 crops
gta5_train_pipeline = [
    dict(type='LoadImageFromFile'),
    dict(type='LoadLabelIdAnnotations'),
    dict(type='Resize', scale=(1024, 563), keep_ratio=True),
    dict(type='RandomCrop', crop_size=(512, 1024), cat_max_ratio=0.75),
    dict(type='RandomFlip', prob=0.5),
    dict(type='PhotoMetricDistortion'),
    dict(type='PackSegInputs')
]


def gta5_test_pipeline_at(scale):
    # The label is loaded after Resize: scores use the original-size labels.
    # Also the configs' inference pipeline (test_pipeline): given an image
    # alone, as mmseg's inference APIs give it, LoadLabelIdAnnotations does
    # nothing.
    return [
        dict(type='LoadImageFromFile'),
        dict(type='Resize', scale=scale, keep_ratio=True),
        dict(type='LoadLabelIdAnnotations'),
        # the cross_domain section tags it with the domain's name
        dict(type='PackSegInputs')
    ]


gta5_test_pipeline = gta5_test_pipeline_at((1914, 1052))
# about half resolution: 1024x563, the scale it is trained at
gta5_half_res_test_pipeline = gta5_test_pipeline_at((1024, 563))

gta5_train_dataloader = dict(
    batch_size=2,
    num_workers=2,
    persistent_workers=True,
    sampler=dict(type='InfiniteSampler', shuffle=True),
    dataset=dict(
        type=gta5_type,
        data_root=gta5_root,
        split=gta5_split_dir + 'train.txt',
        pipeline=gta5_train_pipeline))
gta5_val_dataloader = dict(
    batch_size=1,
    num_workers=2,
    persistent_workers=True,
    sampler=dict(type='DefaultSampler', shuffle=False),
    dataset=dict(
        type=gta5_type,
        data_root=gta5_root,
        split=gta5_split_dir + 'val.txt',
        pipeline=gta5_test_pipeline))
gta5_test_dataloader = dict(
    gta5_val_dataloader,
    dataset=dict(
        gta5_val_dataloader['dataset'], split=gta5_split_dir + 'test.txt'))
gta5_half_res_val_dataloader = dict(
    gta5_val_dataloader,
    dataset=dict(
        gta5_val_dataloader['dataset'], pipeline=gta5_half_res_test_pipeline))
gta5_half_res_test_dataloader = dict(
    gta5_test_dataloader,
    dataset=dict(
        gta5_test_dataloader['dataset'], pipeline=gta5_half_res_test_pipeline))
