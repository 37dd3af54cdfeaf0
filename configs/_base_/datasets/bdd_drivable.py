# BDD100K drivable area, trained on every condition (the train split) and
# evaluated on the whole val split and on each condition of it (time of day,
# weather) in one pass: the cross_domain section's rows are the val split
# filtered by BDD's frame attributes (domains/bdd_drivable.py).
# CrossDomainDrivableIoUMetric logs, per row, the plain 3-class mIoU and
# BDD's drivable mIoU (bdd_mIoU: background left out as BDD's evaluation
# does), their mean over the conditions (target/...) and the drop.
_base_ = ['./domains/bdd_drivable.py']
from ibnseg.evaluation import cross_domain_evaluator

crop_size = (512, 1024)
train_dataloader = _base_.bdd_drivable_train_dataloader
cross_domain = dict(
    source='bdd_drivable',
    domains=dict(
        bdd_drivable=dict(dataloader=_base_.bdd_drivable_val_dataloader),
        **{
            name: dict(
                dataloader=dict(
                    _base_.bdd_drivable_val_dataloader,
                    dataset=dict(
                        _base_.bdd_drivable_val_dataloader.dataset,
                        attributes=attributes)))
            for name, attributes in _base_.bdd_drivable_conditions.items()
        }))
# the plain dataloaders the Runner and mmseg's inference APIs read; the
# loops evaluate the cross_domain section instead
test_pipeline = _base_.bdd_drivable_test_pipeline
val_dataloader = _base_.bdd_drivable_val_dataloader
test_dataloader = _base_.bdd_drivable_test_dataloader
val_evaluator = dict(
    cross_domain_evaluator(cross_domain),
    type='CrossDomainDrivableIoUMetric')
test_evaluator = val_evaluator
