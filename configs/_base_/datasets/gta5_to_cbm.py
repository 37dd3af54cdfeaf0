# The domain-generalisation protocol "G -> C, B, M": train on GTA5 and test,
# without adaptation, on Cityscapes, BDD100K and Mapillary Vistas at once
# (RobustNet, SAN-SAW, WildNet, SHADE, ...). The cross_domain section is the
# one place the domains are named: MultiDomainValLoop validates all four in
# one pass during training (a seeded subset of at most 500 samples each, the
# full splits after the last iteration), MultiDomainTestLoop and
# tools/cross_domain_eval.py test them; CrossDomainIoUMetric logs
# gta5/mIoU, cityscapes/mIoU, bdd100k/mIoU, mapillary/mIoU, target/mIoU
# (the mean of the three targets) and drop/mIoU. Each domain runs at its own
# resolution, its test pipeline's (domains/<name>.py): GTA5 at 1914x1052,
# Cityscapes at 2048x1024, BDD100K at 1280x720, Mapillary (sizes vary) with
# its short side at 1536 as RobustNet evaluates it. Layouts and downloads:
# data/README.md.
_base_ = [
    './domains/gta5.py', './domains/cityscapes.py', './domains/bdd100k.py',
    './domains/mapillary.py'
]
from ibnseg.evaluation import cross_domain_evaluator

crop_size = (512, 1024)
train_dataloader = _base_.gta5_train_dataloader
cross_domain = dict(
    source='gta5',
    domains=dict(
        # the source: tested on its test split, validated on its val split
        gta5=dict(
            dataloader=_base_.gta5_test_dataloader,
            val_dataloader=_base_.gta5_val_dataloader),
        cityscapes=dict(dataloader=_base_.cityscapes_test_dataloader),
        bdd100k=dict(dataloader=_base_.bdd100k_test_dataloader),
        mapillary=dict(dataloader=_base_.mapillary_test_dataloader)))
# The source domain's plain dataloaders and inference pipeline: mmseg's
# inference APIs read test_pipeline (inference_model) and
# test_dataloader.dataset.pipeline (MMSegInferencer), and the Runner needs
# them; the loops evaluate the cross_domain section instead.
test_pipeline = _base_.gta5_test_pipeline
val_dataloader = _base_.gta5_val_dataloader
test_dataloader = _base_.gta5_test_dataloader
val_evaluator = cross_domain_evaluator(cross_domain)
test_evaluator = val_evaluator
