# Train on GTA5; validate on GTA5 and Cityscapes in one pass (CrossDomainIoUMetric
# logs gta5/mIoU, cityscapes/mIoU and the drop), and evaluate both with
# tools/cross_domain_eval.py (the cross_domain section, test splits).
_base_ = ['./domains/cityscapes.py', './domains/gta5.py']
from ibnseg.evaluation import (cross_domain_val_dataloader,
                               cross_domain_val_evaluator)

crop_size = (512, 1024)
train_dataloader = _base_.gta5_train_dataloader
cross_domain = dict(
    source='gta5',
    domains=dict(
        gta5=dict(dataloader=_base_.gta5_test_dataloader),
        cityscapes=dict(dataloader=_base_.cityscapes_test_dataloader)))
val_domains = dict(
    source='gta5',
    domains=dict(
        gta5=dict(dataloader=_base_.gta5_val_dataloader),
        cityscapes=dict(dataloader=_base_.cityscapes_test_dataloader)))
val_dataloader = cross_domain_val_dataloader(val_domains)
val_evaluator = cross_domain_val_evaluator(val_domains)
test_dataloader = cross_domain_val_dataloader(cross_domain)
test_evaluator = val_evaluator
