# Cityscapes alone tested at half resolution, under mmseg's usual names: train, validate and
# test on Cityscapes (the parts are in domains/cityscapes.py).
_base_ = ['./domains/cityscapes.py']
crop_size = (512, 1024)
# read by mmseg's inference_model
test_pipeline = _base_.cityscapes_half_res_test_pipeline
train_dataloader = _base_.cityscapes_train_dataloader
val_dataloader = _base_.cityscapes_half_res_test_dataloader
test_dataloader = _base_.cityscapes_half_res_test_dataloader
val_evaluator = dict(type='IoUMetric', iou_metrics=['mIoU'])
test_evaluator = val_evaluator
