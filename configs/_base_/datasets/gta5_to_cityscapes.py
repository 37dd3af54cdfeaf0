# Train on GTA5; validate on GTA5 and Cityscapes (CrossDomainIoUMetric logs
# gta5/mIoU, cityscapes/mIoU and the drop), test both with tools/test.py and
# tools/cross_domain_eval.py. The cross_domain section is the one place the
# domains are named: MultiDomainValLoop validates them during training (on a
# seeded subset of at most 500 samples each, the full splits after the last
# iteration), MultiDomainTestLoop tests them (configs/_base_/schedules/).
_base_ = ['./domains/cityscapes.py', './domains/gta5.py']
from ibnseg.evaluation import cross_domain_evaluator

crop_size = (512, 1024)
train_dataloader = _base_.gta5_train_dataloader
cross_domain = dict(
    source='gta5',
    domains=dict(
        gta5=dict(
            dataloader=_base_.gta5_test_dataloader,
            val_dataloader=_base_.gta5_val_dataloader),
        cityscapes=dict(dataloader=_base_.cityscapes_test_dataloader)))
# The source domain's plain dataloaders and inference pipeline: mmseg's
# inference APIs read test_pipeline (inference_model) and
# test_dataloader.dataset.pipeline (MMSegInferencer), and the Runner needs
# them; the loops evaluate the cross_domain section instead.
test_pipeline = _base_.gta5_test_pipeline
val_dataloader = _base_.gta5_val_dataloader
test_dataloader = _base_.gta5_test_dataloader
val_evaluator = cross_domain_evaluator(cross_domain)
test_evaluator = val_evaluator
