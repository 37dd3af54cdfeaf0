# As fcn_r50-ibn-b-d8_4xb2-20k_cityscapes-ft-gta5-100pct-512x1024.py, on a seeded 50% of GTA5's training set
# (the same files on every machine; tools/make_finetune_subset.py lists them)
_base_ = './fcn_r50-ibn-b-d8_4xb2-20k_cityscapes-ft-gta5-100pct-512x1024.py'
train_dataloader = dict(dataset=dict(subset=dict(fraction=0.5, seed=0)))
