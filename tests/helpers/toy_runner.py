"""A toy mmengine Runner (a linear model with dropout, so that training
draws from torch's RNG) for the checkpoint hook tests."""
import itertools

import torch
from mmengine.hooks import Hook
from mmengine.model import BaseModel
from mmengine.runner import Runner
from torch.utils.data import Dataset


class ToyModel(BaseModel):
    """A linear layer with dropout: training draws from torch's RNG."""

    def __init__(self):
        super().__init__()
        self.linear = torch.nn.Linear(4, 1)
        self.dropout = torch.nn.Dropout(0.5)

    def forward(self, inputs, targets, mode='tensor'):
        out = self.linear(self.dropout(torch.stack(inputs)))
        if mode == 'loss':
            return dict(loss=((out - torch.stack(targets))**2).mean())
        return out


class ToyDataset(Dataset):

    def __len__(self):
        return 8

    def __getitem__(self, index):
        return dict(inputs=torch.full((4, ), float(index)),
                    targets=torch.tensor([1.0]))


class RecordRNGHook(Hook):
    """Records torch's RNG state when the first training iteration starts."""
    priority = 'LOWEST'

    def before_train_iter(self, runner, batch_idx, data_batch=None):
        if not hasattr(self, 'state'):
            self.state = torch.get_rng_state()


_RUN_IDS = itertools.count()


def toy_runner(work_dir, max_iters, resume=False, load_from=None,
               hook_type='AtomicCheckpointHook', max_keep_ckpts=1,
               custom_hooks=()):
    return Runner(
        model=ToyModel(),
        work_dir=str(work_dir),
        train_dataloader=dict(
            dataset=ToyDataset(), batch_size=2, num_workers=0,
            sampler=dict(type='InfiniteSampler', shuffle=True)),
        optim_wrapper=dict(optimizer=dict(type='SGD', lr=0.01)),
        train_cfg=dict(by_epoch=False, max_iters=max_iters),
        default_hooks=dict(
            checkpoint=dict(type=hook_type, by_epoch=False, interval=1,
                            max_keep_ckpts=max_keep_ckpts),
            logger=dict(type='LoggerHook', interval=100)),
        custom_hooks=list(custom_hooks),
        randomness=dict(seed=0),
        default_scope='mmseg',
        resume=resume,
        load_from=load_from,
        # mmengine keeps loggers and message hubs by experiment name.
        experiment_name=f'toy_{next(_RUN_IDS)}')
