# Train on Cityscapes; test, without adaptation, on BDD100K, Mapillary
# Vistas, GTA5 and the four ACDC conditions (fog, night, rain, snow: four
# domains, the adverse-weather robustness the DG literature reports) at
# once. As gta5_to_cbm.py otherwise: the cross_domain section names the
# domains, each at its own resolution (its test pipeline), all validated in
# one pass during training and tested by tools/cross_domain_eval.py;
# target/mIoU is the mean over the seven targets. Layouts and downloads:
# data/README.md.
_base_ = [
    './domains/cityscapes.py', './domains/bdd100k.py',
    './domains/mapillary.py', './domains/gta5.py', './domains/acdc.py'
]
from ibnseg.evaluation import cross_domain_evaluator

crop_size = (512, 1024)
train_dataloader = _base_.cityscapes_train_dataloader
cross_domain = dict(
    source='cityscapes',
    domains=dict(
        cityscapes=dict(dataloader=_base_.cityscapes_test_dataloader),
        bdd100k=dict(dataloader=_base_.bdd100k_test_dataloader),
        mapillary=dict(dataloader=_base_.mapillary_test_dataloader),
        # tested on GTA5's test split, validated on its val split
        gta5=dict(
            dataloader=_base_.gta5_test_dataloader,
            val_dataloader=_base_.gta5_val_dataloader),
        # ACDC's test labels are withheld: each condition's val split
        acdc_fog=dict(dataloader=_base_.acdc_fog_test_dataloader),
        acdc_night=dict(dataloader=_base_.acdc_night_test_dataloader),
        acdc_rain=dict(dataloader=_base_.acdc_rain_test_dataloader),
        acdc_snow=dict(dataloader=_base_.acdc_snow_test_dataloader)))
# The source domain's plain dataloaders and inference pipeline (see
# gta5_to_cbm.py).
test_pipeline = _base_.cityscapes_test_pipeline
val_dataloader = _base_.cityscapes_test_dataloader
test_dataloader = _base_.cityscapes_test_dataloader
val_evaluator = cross_domain_evaluator(cross_domain)
test_evaluator = val_evaluator
