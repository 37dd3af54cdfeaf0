# The BDD100K domain's parts, under names of their own (see
# domains/cityscapes.py). BDD100K 10K semantic segmentation: labels are
# published as trainIds, in either layout (images/10k + labels/sem_seg/masks,
# or the older seg/); BDD100KSegDataset finds which. Layout and download:
# data/README.md.
bdd100k_type = 'BDD100KSegDataset'
# $IBNSEG_BDD100K_ROOT moves the domain for every config that uses it
bdd100k_root = '{{$IBNSEG_BDD100K_ROOT:data/bdd100k/}}'
bdd100k_train_pipeline = [
    dict(type='LoadImageFromFile'),
    dict(type='LoadLabelIdAnnotations'),
    dict(
        type='RandomResize',
        scale=(1280, 720),
        ratio_range=(0.5, 2.0),
        keep_ratio=True),
    dict(type='RandomCrop', crop_size=(512, 1024), cat_max_ratio=0.75),
    dict(type='RandomFlip', prob=0.5),
    dict(type='PhotoMetricDistortion'),
    dict(type='PackSegInputs')
]
# at the images' own 1280x720, as RobustNet evaluates BDD100K
bdd100k_test_pipeline = [
    dict(type='LoadImageFromFile'),
    dict(type='Resize', scale=(1280, 720), keep_ratio=True),
    dict(type='LoadLabelIdAnnotations'),
    # the cross_domain section tags it with the domain's name
    dict(type='PackSegInputs')
]
bdd100k_train_dataloader = dict(
    batch_size=2,
    num_workers=2,
    persistent_workers=True,
    sampler=dict(type='InfiniteSampler', shuffle=True),
    dataset=dict(
        type=bdd100k_type,
        data_root=bdd100k_root,
        split='train',
        pipeline=bdd100k_train_pipeline))
bdd100k_val_dataloader = dict(
    batch_size=1,
    num_workers=2,
    persistent_workers=True,
    sampler=dict(type='DefaultSampler', shuffle=False),
    dataset=dict(
        type=bdd100k_type,
        data_root=bdd100k_root,
        split='val',
        pipeline=bdd100k_test_pipeline))
# the test split's labels are not published: val doubles as test
bdd100k_test_dataloader = bdd100k_val_dataloader
