# The embedded demo's data (tools/demo.py generates it; tools/generate_synthetic.py
# too): procedural street scenes in a GTA5-like "source" style, written in the
# GTA5 layout, and target styles ("real", "dusk", "fog") written in the
# Cityscapes layout, all with Cityscapes label ids. The same dataset classes
# and label mapping as for the real data read them.
synthetic_root = 'data/synthetic/'
crop_size = (128, 256)
# mmseg's usual augmentation minus PhotoMetricDistortion: colour jitter is an
# appearance augmentation of its own, and the demo measures what the
# normalisation layers do about appearance (docs/demo.md).
train_pipeline = [
    dict(type='LoadImageFromFile'),
    dict(type='LoadLabelIdAnnotations'),
    dict(
        type='RandomResize',
        scale=(256, 128),
        ratio_range=(0.75, 1.5),
        keep_ratio=True),
    dict(type='RandomCrop', crop_size=crop_size, cat_max_ratio=0.75),
    dict(type='RandomFlip', prob=0.5),
    dict(type='PackSegInputs')
]


def synthetic_test_dataloader(domain):
    """The val split of one generated domain (source: GTA5 layout)."""
    pipeline = [
        dict(type='LoadImageFromFile'),
        dict(type='LoadLabelIdAnnotations'),
        # the cross_domain section tags it with the domain's name
        dict(type='PackSegInputs')
    ]
    root = synthetic_root + domain + '/'
    if domain == 'source':
        dataset = dict(
            type='GTA5Dataset',
            data_root=root,
            split='splits/val.txt',  # under data_root
            pipeline=pipeline)
    else:
        dataset = dict(
            type='CityscapesLabelIdsDataset',
            data_root=root,
            data_prefix=dict(
                img_path='leftImg8bit/val', seg_map_path='gtFine/val'),
            pipeline=pipeline)
    return dict(
        batch_size=8,
        num_workers=0,
        sampler=dict(type='DefaultSampler', shuffle=False),
        dataset=dataset)


train_dataloader = dict(
    batch_size=8,
    num_workers=0,
    sampler=dict(type='InfiniteSampler', shuffle=True),
    dataset=dict(
        type='GTA5Dataset',
        data_root=synthetic_root + 'source/',
        split='splits/train.txt',  # under data_root
        pipeline=train_pipeline))
cross_domain = dict(
    source='source',
    domains={
        domain: dict(dataloader=synthetic_test_dataloader(domain))
        for domain in ('source', 'real', 'dusk', 'fog')
    })
# The source's plain loaders and pipeline for mmseg's inference APIs and the
# Runner; MultiDomainValLoop/MultiDomainTestLoop evaluate cross_domain
# (tools/test.py reports every style).
val_dataloader = synthetic_test_dataloader('source')
test_dataloader = val_dataloader
test_pipeline = val_dataloader['dataset']['pipeline']
# the loops tell it the domains they evaluate
val_evaluator = dict(
    type='CrossDomainIoUMetric', source_domain=cross_domain['source'])
test_evaluator = val_evaluator
