# The Cityscapes domain's parts, under names of their own so that a config
# can combine several domains (a `_base_` list rejects repeated names):
# cityscapes.py uses them alone, cityscapes_to_gta5.py / gta5_to_cityscapes.py
# together with GTA5's. Trained from _gtFine_labelTrainIds.png where they
# exist and from the official _gtFine_labelIds.png otherwise
# (LoadLabelIdAnnotations maps them). Layout and download: data/README.md.
cityscapes_type = 'CityscapesLabelIdsDataset'
# $IBNSEG_CITYSCAPES_ROOT moves the domain for every config that uses it
cityscapes_root = '{{$IBNSEG_CITYSCAPES_ROOT:data/cityscapes/}}'
cityscapes_train_pipeline = [
    dict(type='LoadImageFromFile'),
    dict(type='LoadLabelIdAnnotations'),
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


def cityscapes_test_pipeline_at(scale):
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


cityscapes_test_pipeline = cityscapes_test_pipeline_at((2048, 1024))
# half resolution, as some cross-domain peers report
cityscapes_half_res_test_pipeline = cityscapes_test_pipeline_at((1024, 512))

cityscapes_train_dataloader = dict(
    batch_size=2,
    num_workers=2,
    persistent_workers=True,
    sampler=dict(type='InfiniteSampler', shuffle=True),
    dataset=dict(
        type=cityscapes_type,
        data_root=cityscapes_root,
        data_prefix=dict(
            img_path='leftImg8bit/train', seg_map_path='gtFine/train'),
        pipeline=cityscapes_train_pipeline))
# the test split's labels are not public: val doubles as test
cityscapes_test_dataloader = dict(
    batch_size=1,
    num_workers=2,
    persistent_workers=True,
    sampler=dict(type='DefaultSampler', shuffle=False),
    dataset=dict(
        type=cityscapes_type,
        data_root=cityscapes_root,
        data_prefix=dict(
            img_path='leftImg8bit/val', seg_map_path='gtFine/val'),
        pipeline=cityscapes_test_pipeline))
cityscapes_half_res_test_dataloader = dict(
    cityscapes_test_dataloader,
    dataset=dict(
        cityscapes_test_dataloader['dataset'],
        pipeline=cityscapes_half_res_test_pipeline))
