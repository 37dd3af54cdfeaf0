# GTA5 alone, under mmseg's usual names: train, validate and
# test on GTA5 (the parts are in domains/gta5.py).
_base_ = ['./domains/gta5.py']
crop_size = (512, 1024)
# read by mmseg's inference_model
test_pipeline = _base_.gta5_test_pipeline
train_dataloader = _base_.gta5_train_dataloader
val_dataloader = _base_.gta5_val_dataloader
test_dataloader = _base_.gta5_test_dataloader
val_evaluator = dict(type='IoUMetric', iou_metrics=['mIoU'])
test_evaluator = val_evaluator
