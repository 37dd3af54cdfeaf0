# The ACDC domain's parts, under names of their own (see
# domains/cityscapes.py): one dataloader per condition, the domains
# 'acdc_fog', 'acdc_night', 'acdc_rain', 'acdc_snow' of a cross_domain
# section. The test labels are withheld, so the val split (about 100
# frames per condition) is what the DG literature reports. Layout and
# download: data/README.md.
acdc_type = 'ACDCDataset'
# $IBNSEG_ACDC_ROOT moves the domain for every config that uses it
acdc_root = '{{$IBNSEG_ACDC_ROOT:data/acdc/}}'
acdc_train_pipeline = [
    dict(type='LoadImageFromFile'),
    dict(type='LoadLabelIdAnnotations'),
    dict(
        type='RandomResize',
        scale=(1920, 1080),
        ratio_range=(0.5, 2.0),
        keep_ratio=True),
    dict(type='RandomCrop', crop_size=(512, 1024), cat_max_ratio=0.75),
    dict(type='RandomFlip', prob=0.5),
    dict(type='PhotoMetricDistortion'),
    dict(type='PackSegInputs')
]
# at the frames' own 1920x1080
acdc_test_pipeline = [
    dict(type='LoadImageFromFile'),
    dict(type='Resize', scale=(1920, 1080), keep_ratio=True),
    dict(type='LoadLabelIdAnnotations'),
    # the cross_domain section tags it with the domain's name
    dict(type='PackSegInputs')
]


def acdc_test_dataloader_of(condition):
    return dict(
        batch_size=1,
        num_workers=2,
        persistent_workers=True,
        sampler=dict(type='DefaultSampler', shuffle=False),
        dataset=dict(
            type=acdc_type,
            data_root=acdc_root,
            condition=condition,
            split='val',
            pipeline=acdc_test_pipeline))


acdc_fog_test_dataloader = acdc_test_dataloader_of('fog')
acdc_night_test_dataloader = acdc_test_dataloader_of('night')
acdc_rain_test_dataloader = acdc_test_dataloader_of('rain')
acdc_snow_test_dataloader = acdc_test_dataloader_of('snow')
