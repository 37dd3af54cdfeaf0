# mmseg's runtime, with ibnseg's modules registered.
_base_ = ['mmseg::_base_/default_runtime.py']
custom_imports = dict(imports=['ibnseg'], allow_failed_imports=False)
# tools/test.py --tta: mmseg's multi-scale + flip test-time augmentation,
# merged by mmseg's SegTTAModel (tta_model, from mmseg's runtime). Each
# evaluated domain keeps its own loading, resize and labels: its images are
# resized to its test scale first, then to these ratios of it, each also
# flipped (ibnseg.engine.tta.tta_pipeline_for).
tta_ratios = [0.5, 0.75, 1.0, 1.25, 1.5, 1.75]
tta_pipeline = [
    dict(type='LoadImageFromFile'),
    dict(
        type='TestTimeAug',
        transforms=[
            [dict(type='Resize', scale_factor=r, keep_ratio=True)
             for r in tta_ratios],
            [
                dict(type='RandomFlip', prob=0., direction='horizontal'),
                dict(type='RandomFlip', prob=1., direction='horizontal')
            ],
            [dict(type='LoadLabelIdAnnotations')],
            [dict(type='PackSegInputs')]
        ])
]
