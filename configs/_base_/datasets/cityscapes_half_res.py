# Cityscapes tested at half resolution (1024x512 input, scored against the
# full-resolution labels), as some cross-domain peers report.
_base_ = ['./cityscapes.py']
test_pipeline = [
    dict(type='LoadImageFromFile'),
    dict(type='Resize', scale=(1024, 512), keep_ratio=True),
    dict(type='LoadAnnotations'),
    dict(type='MapLabelIds'),
    dict(type='PackDomainSegInputs', domain='cityscapes')
]
val_dataloader = dict(dataset=dict(pipeline=test_pipeline))
test_dataloader = val_dataloader
