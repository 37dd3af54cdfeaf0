# mmseg's 80k-iteration schedule (SGD lr 0.01, poly decay), with checkpoints
# written atomically so that a killed run always resumes (--resume).
_base_ = ['mmseg::_base_/schedules/schedule_80k.py']
default_hooks = dict(checkpoint=dict(type='AtomicCheckpointHook'))
# Every domain of a config's cross_domain section (mmengine's loops
# otherwise): ibnseg.evaluation.loops.
val_cfg = dict(type='MultiDomainValLoop')
test_cfg = dict(type='MultiDomainTestLoop')
