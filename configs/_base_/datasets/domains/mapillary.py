# The Mapillary Vistas domain's parts, under names of their own (see
# domains/cityscapes.py). v1.2's 66 classes mapped to the 19 Cityscapes ones
# by class name from the dataset's config.json: on the fly, or from the
# _trainIds.png files of tools/convert_mapillary_labels.py. Layout and
# download: data/README.md.
mapillary_type = 'MapillaryToCityscapesDataset'
# $IBNSEG_MAPILLARY_ROOT moves the domain for every config that uses it
mapillary_root = '{{$IBNSEG_MAPILLARY_ROOT:data/mapillary/}}'
mapillary_train_pipeline = [
    dict(type='LoadImageFromFile'),
    dict(type='LoadLabelIdAnnotations'),
    # the images' sizes vary (many 4000x3000): a common scale first
    dict(
        type='RandomResize',
        scale=(2048, 1024),
        ratio_range=(0.5, 2.0),
        keep_ratio=True),
    dict(type='RandomCrop', crop_size=(512, 1024), cat_max_ratio=0.75),
    dict(type='RandomFlip', prob=0.5),
    dict(type='PhotoMetricDistortion'),
    dict(type='PackSegInputs')
]
# The images differ widely in size. RobustNet (datasets/__init__.py,
# create_extra_val_loader; also WildNet, SAN-SAW which reuse it) evaluates
# Mapillary with eval_size = 1536: ResizeHeight(1536) then a 1536x1536
# CenterCropPad. Here: the same resize (short side 1536, keep_ratio; the
# long side capped at 4096 for panoramas), but the whole image is scored at
# its label's original size, not a centre crop.
mapillary_test_pipeline = [
    dict(type='LoadImageFromFile'),
    dict(type='Resize', scale=(4096, 1536), keep_ratio=True),
    dict(type='LoadLabelIdAnnotations'),
    # the cross_domain section tags it with the domain's name
    dict(type='PackSegInputs')
]
mapillary_train_dataloader = dict(
    batch_size=2,
    num_workers=2,
    persistent_workers=True,
    sampler=dict(type='InfiniteSampler', shuffle=True),
    dataset=dict(
        type=mapillary_type,
        data_root=mapillary_root,
        split='training',
        pipeline=mapillary_train_pipeline))
mapillary_val_dataloader = dict(
    batch_size=1,
    num_workers=2,
    persistent_workers=True,
    sampler=dict(type='DefaultSampler', shuffle=False),
    dataset=dict(
        type=mapillary_type,
        data_root=mapillary_root,
        split='validation',
        pipeline=mapillary_test_pipeline))
# the test split's labels are not public: validation doubles as test
mapillary_test_dataloader = mapillary_val_dataloader
