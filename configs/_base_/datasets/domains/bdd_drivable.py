# BDD100K's drivable-area task as a domain (see domains/cityscapes.py for the
# naming): the 100K images with 3 classes (direct, alternative, background),
# in either release (BDD100KDrivableDataset finds which and refuses a root
# holding both); layouts and downloads: data/README.md, docs/bdd_drivable.md.
# Conditions are BDD's own frame attributes, read from the release's
# image-level label JSON: each evaluation row below is the val split
# filtered by them (attributes=...).
bdd_drivable_type = 'BDD100KDrivableDataset'
# the BDD100K root, shared with the semantic-segmentation domain
bdd_drivable_root = '{{$IBNSEG_BDD100K_ROOT:data/bdd100k/}}'
# Training as BDD100K's model zoo trains its drivable-area models
# (SysCV/bdd100k-models, drivable/configs/_base_/datasets/bdd100k.py: resize
# about 1280x720 by 0.5-2.0, crop with cat_max_ratio 0.75, flip, photometric
# distortion).
bdd_drivable_train_pipeline = [
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
# at the images' own 1280x720, the size BDD's evaluation scores
bdd_drivable_test_pipeline = [
    dict(type='LoadImageFromFile'),
    dict(type='Resize', scale=(1280, 720), keep_ratio=True),
    dict(type='LoadLabelIdAnnotations'),
    # the cross_domain section tags it with the domain's name
    dict(type='PackSegInputs')
]
bdd_drivable_train_dataloader = dict(
    batch_size=2,
    num_workers=2,
    persistent_workers=True,
    sampler=dict(type='InfiniteSampler', shuffle=True),
    dataset=dict(
        type=bdd_drivable_type,
        data_root=bdd_drivable_root,
        split='train',
        pipeline=bdd_drivable_train_pipeline))
bdd_drivable_val_dataloader = dict(
    batch_size=1,
    num_workers=2,
    persistent_workers=True,
    sampler=dict(type='DefaultSampler', shuffle=False),
    dataset=dict(
        type=bdd_drivable_type,
        data_root=bdd_drivable_root,
        split='val',
        pipeline=bdd_drivable_test_pipeline))
# the test split's labels are not published: val doubles as test
bdd_drivable_test_dataloader = bdd_drivable_val_dataloader
# The training condition of the day-trained configs.
bdd_drivable_day_clear = dict(timeofday=['daytime'], weather=['clear'])
# Evaluation rows by condition: row name -> BDD frame attributes (names and
# values as BDD100K's format docs list them; 'undefined' is left out).
bdd_drivable_conditions = dict(
    daytime=dict(timeofday=['daytime']),
    night=dict(timeofday=['night']),
    dawn_dusk=dict(timeofday=['dawn/dusk']),
    clear=dict(weather=['clear']),
    overcast=dict(weather=['overcast']),
    partly_cloudy=dict(weather=['partly cloudy']),
    rainy=dict(weather=['rainy']),
    snowy=dict(weather=['snowy']),
    foggy=dict(weather=['foggy']))
