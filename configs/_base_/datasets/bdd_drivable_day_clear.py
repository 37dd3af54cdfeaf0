# BDD100K drivable area, trained on clear daytime frames only and tested on
# the other conditions without adaptation: the source row is val's clear
# daytime frames, the targets are val's night and dawn/dusk frames and its
# overcast, partly cloudy, rainy, snowy and foggy ones (any time of day),
# all in one pass. The log shows <row>/mIoU and <row>/bdd_mIoU, target/...
# (their mean over the targets) and drop/... (source minus that mean).
_base_ = ['./domains/bdd_drivable.py']
from ibnseg.evaluation import cross_domain_evaluator

crop_size = (512, 1024)
train_dataloader = dict(
    _base_.bdd_drivable_train_dataloader,
    dataset=dict(
        _base_.bdd_drivable_train_dataloader.dataset,
        attributes=_base_.bdd_drivable_day_clear))
val_dataloader = dict(
    _base_.bdd_drivable_val_dataloader,
    dataset=dict(
        _base_.bdd_drivable_val_dataloader.dataset,
        attributes=_base_.bdd_drivable_day_clear))
cross_domain = dict(
    source='day_clear',
    domains=dict(
        day_clear=dict(dataloader=val_dataloader),
        **{
            name: dict(
                dataloader=dict(
                    _base_.bdd_drivable_val_dataloader,
                    dataset=dict(
                        _base_.bdd_drivable_val_dataloader.dataset,
                        attributes=_base_.bdd_drivable_conditions[name])))
            for name in ('night', 'dawn_dusk', 'overcast', 'partly_cloudy',
                         'rainy', 'snowy', 'foggy')
        }))
test_pipeline = _base_.bdd_drivable_test_pipeline
test_dataloader = val_dataloader
val_evaluator = dict(
    cross_domain_evaluator(cross_domain),
    type='CrossDomainDrivableIoUMetric')
test_evaluator = val_evaluator
