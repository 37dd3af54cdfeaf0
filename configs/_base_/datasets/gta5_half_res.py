# GTA5 tested at about half resolution: 1024x563, the scale it is trained
# at (scored against the full-resolution labels).
_base_ = ['./gta5.py']
test_pipeline = [
    dict(type='LoadImageFromFile'),
    dict(type='Resize', scale=(1024, 563), keep_ratio=True),
    dict(type='LoadAnnotations'),
    dict(type='MapLabelIds'),
    dict(type='PackDomainSegInputs', domain='gta5')
]
val_dataloader = dict(dataset=dict(pipeline=test_pipeline))
test_dataloader = dict(dataset=dict(pipeline=test_pipeline))
