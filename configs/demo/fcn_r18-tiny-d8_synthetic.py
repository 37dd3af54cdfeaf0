# The demo's plain baseline: a quarter-width ResNet-18 layout, dilated to
# output stride 8, FCN head, trained from scratch on the synthetic source
# style and evaluated on every style (tools/demo.py runs all three models).
_base_ = [
    '../_base_/models/fcn_ibn-r18-tiny-d8.py',
    '../_base_/datasets/synthetic.py', '../_base_/default_runtime.py'
]
crop_size = (128, 256)
model = dict(data_preprocessor=dict(size=crop_size))
# from scratch, so a higher learning rate than mmseg's fine-tuning 0.01
max_iters = 600
optim_wrapper = dict(
    type='OptimWrapper',
    optimizer=dict(type='SGD', lr=0.05, momentum=0.9, weight_decay=5e-4))
param_scheduler = [
    dict(type='PolyLR', eta_min=1e-4, power=0.9, begin=0, end=max_iters,
         by_epoch=False)
]
train_cfg = dict(
    type='IterBasedTrainLoop', max_iters=max_iters, val_interval=max_iters)
# every generated style (ibnseg.evaluation.loops)
val_cfg = dict(type='MultiDomainValLoop')
test_cfg = dict(type='MultiDomainTestLoop')
default_hooks = dict(
    timer=dict(type='IterTimerHook'),
    logger=dict(type='LoggerHook', interval=50, log_metric_by_epoch=False),
    param_scheduler=dict(type='ParamSchedulerHook'),
    checkpoint=dict(
        type='AtomicCheckpointHook', by_epoch=False, interval=max_iters),
    sampler_seed=dict(type='DistSamplerSeedHook'),
    visualization=dict(type='SegVisualizationHook'))
# CPU training on a laptop that is doing other things too: torch gets the
# cores the other processes leave free (docs/demo.md, Time).
custom_hooks = [dict(type='AdaptiveThreadsHook')]
env_cfg = dict(cudnn_benchmark=False)
randomness = dict(seed=0)
