# As fcn_r50-ibn-a-d8_4xb2-20k_gta5-ft-cityscapes-100pct-512x1024.py, on a seeded 20% of Cityscapes's training set
# (the same files on every machine; tools/make_finetune_subset.py lists them)
_base_ = './fcn_r50-ibn-a-d8_4xb2-20k_gta5-ft-cityscapes-100pct-512x1024.py'
train_dataloader = dict(dataset=dict(subset=dict(fraction=0.2, seed=0)))
