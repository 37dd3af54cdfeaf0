# Train on Cityscapes; validate on Cityscapes and GTA5 in one pass (CrossDomainIoUMetric
# logs cityscapes/mIoU, gta5/mIoU and the drop), and evaluate both with
# tools/cross_domain_eval.py (the cross_domain section, test splits).
_base_ = ['./domains/cityscapes.py', './domains/gta5.py']
from ibnseg.evaluation import (cross_domain_val_dataloader,
                               cross_domain_val_evaluator)

crop_size = (512, 1024)
train_dataloader = _base_.cityscapes_train_dataloader
cross_domain = dict(
    source='cityscapes',
    domains=dict(
        cityscapes=dict(dataloader=_base_.cityscapes_test_dataloader),
        gta5=dict(dataloader=_base_.gta5_test_dataloader)))
val_domains = dict(
    source='cityscapes',
    domains=dict(
        cityscapes=dict(dataloader=_base_.cityscapes_test_dataloader),
        gta5=dict(dataloader=_base_.gta5_val_dataloader)))
val_dataloader = cross_domain_val_dataloader(val_domains)
val_evaluator = cross_domain_val_evaluator(val_domains)
test_dataloader = cross_domain_val_dataloader(cross_domain)
test_evaluator = val_evaluator
