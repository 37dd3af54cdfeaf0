# The demo's IBN-a model; otherwise as fcn_r18-tiny-d8_synthetic.py
_base_ = './fcn_r18-tiny-d8_synthetic.py'
model = dict(backbone=dict(ibn='a'))
