# The domain-generalisation protocol "S -> C, B, M": train on SYNTHIA
# (RAND-CITYSCAPES) and test, without adaptation, on Cityscapes, BDD100K and
# Mapillary Vistas at once; as gta5_to_cbm.py otherwise. SYNTHIA has 16 of
# the 19 Cityscapes classes (no terrain, truck, train), so the literature
# reports the mean IoU over those 16 ("mIoU16") and over 13 of them (also
# without wall, fence, pole: "mIoU13"). The model still predicts 19 classes;
# CrossDomainIoUMetric's class_subsets adds <domain>/mIoU16 and
# <domain>/mIoU13 (with their target mean and drop) beside the 19-class
# mIoU, and the report of tools/cross_domain_eval.py gives them their own
# columns and tables. Layouts and downloads: data/README.md.
_base_ = [
    './domains/synthia.py', './domains/cityscapes.py',
    './domains/bdd100k.py', './domains/mapillary.py'
]
from ibnseg.datasets import labels
from ibnseg.evaluation import cross_domain_evaluator

crop_size = (512, 1024)
train_dataloader = _base_.synthia_train_dataloader
cross_domain = dict(
    source='synthia',
    domains=dict(
        # SYNTHIA has no official split: the model trains on every frame
        # (as the literature does) and the source is scored on the frames
        # of <synthia root>/splits/val.txt (domains/synthia.py)
        synthia=dict(dataloader=_base_.synthia_test_dataloader),
        cityscapes=dict(dataloader=_base_.cityscapes_test_dataloader),
        bdd100k=dict(dataloader=_base_.bdd100k_test_dataloader),
        mapillary=dict(dataloader=_base_.mapillary_test_dataloader)))
# The source domain's plain dataloaders and inference pipeline (see
# gta5_to_cbm.py).
test_pipeline = _base_.synthia_test_pipeline
val_dataloader = _base_.synthia_val_dataloader
test_dataloader = _base_.synthia_test_dataloader
val_evaluator = cross_domain_evaluator(
    cross_domain,
    class_subsets=dict(
        mIoU16=list(labels.SYNTHIA_16_CLASSES),
        mIoU13=list(labels.SYNTHIA_13_CLASSES)))
test_evaluator = val_evaluator
