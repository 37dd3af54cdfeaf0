# The SYNTHIA (RAND-CITYSCAPES) domain's parts, under names of their own (see
# domains/cityscapes.py). Raw 16-bit labels are mapped by
# LoadLabelIdAnnotations with SYNTHIA's table (or DAFormer-style
# _labelTrainIds.png are read). SYNTHIA has no terrain, truck or train:
# results are read over ibnseg.datasets.SYNTHIA_16_CLASSES / _13_.
# Layout: data/README.md.
synthia_type = 'SynthiaDataset'
# $IBNSEG_SYNTHIA_ROOT moves the domain for every config that uses it
synthia_root = '{{$IBNSEG_SYNTHIA_ROOT:data/synthia/}}'
# relative to synthia_root
synthia_split_dir = 'splits/'
# as for GTA5: frames (1280x760) resized to 1024 wide, then random 512x1024
# crops
synthia_train_pipeline = [
    dict(type='LoadImageFromFile'),
    dict(type='LoadLabelIdAnnotations'),
    dict(type='Resize', scale=(1024, 608), keep_ratio=True),
    dict(type='RandomCrop', crop_size=(512, 1024), cat_max_ratio=0.75),
    dict(type='RandomFlip', prob=0.5),
    dict(type='PhotoMetricDistortion'),
    dict(type='PackSegInputs')
]
synthia_test_pipeline = [
    dict(type='LoadImageFromFile'),
    dict(type='Resize', scale=(1280, 760), keep_ratio=True),
    dict(type='LoadLabelIdAnnotations'),
    # the cross_domain section tags it with the domain's name
    dict(type='PackSegInputs')
]
# SYNTHIA has no official split: the DG/UDA literature trains on all 9,400
# frames (split=None); splits/val.txt (one frame id per line) names the
# frames validated on when SYNTHIA is a target (data/README.md).
synthia_train_dataloader = dict(
    batch_size=2,
    num_workers=2,
    persistent_workers=True,
    sampler=dict(type='InfiniteSampler', shuffle=True),
    dataset=dict(
        type=synthia_type,
        data_root=synthia_root,
        split=None,
        pipeline=synthia_train_pipeline))
synthia_val_dataloader = dict(
    batch_size=1,
    num_workers=2,
    persistent_workers=True,
    sampler=dict(type='DefaultSampler', shuffle=False),
    dataset=dict(
        type=synthia_type,
        data_root=synthia_root,
        split=synthia_split_dir + 'val.txt',
        pipeline=synthia_test_pipeline))
synthia_test_dataloader = synthia_val_dataloader
