"""Shrinking a shipped config of configs/ for a short run on generated
data, with ``--cfg-options`` as a user would."""
from mmengine.config import Config


def pipeline_steps(pipeline, kind):
    """Indices of the ``kind`` steps (any scope) of ``pipeline``."""
    return [i for i, step in enumerate(pipeline)
            if str(step['type']).split('.')[-1] == kind]


#: ``--cfg-options`` making a shipped DeepLabV3+ ResNet-50 a ResNet-18 of 8
#: base channels
TINY_MODEL = [
    'model.backbone.depth=18', 'model.backbone.stem_channels=8',
    'model.backbone.base_channels=8', 'model.decode_head.in_channels=64',
    'model.decode_head.channels=16', 'model.decode_head.c1_in_channels=8',
    'model.decode_head.c1_channels=8', 'model.auxiliary_head.in_channels=32',
    'model.auxiliary_head.channels=16'
]


def small_options(config):
    """``--cfg-options`` that shrink every pipeline of ``config``.

    The Resize/RandomCrop steps are looked up in the loaded config rather
    than spelled by index, so a domain config that adds a step does not
    silently leave a full-size resize in place.
    """
    cfg = Config.fromfile(config)
    # no ImageNet weights (not downloadable here); pad to the small crop
    options = ['model.backbone.init_cfg=None',
               'model.data_preprocessor.size=(64,128)',
               'default_hooks.logger.interval=1']
    train = cfg.train_dataloader.dataset.pipeline
    for i in pipeline_steps(train, 'Resize'):
        options.append(f'train_dataloader.dataset.pipeline.{i}.scale=(128,70)')
    for i in pipeline_steps(train, 'RandomCrop'):
        options.append(
            f'train_dataloader.dataset.pipeline.{i}.crop_size=(64,128)')
    options += ['train_dataloader.num_workers=0',
                'train_dataloader.persistent_workers=False']
    loaders = {'val_dataloader': cfg.val_dataloader,
               'test_dataloader': cfg.test_dataloader}
    for name, spec in cfg.cross_domain.domains.items():
        for key in ('dataloader', 'val_dataloader'):
            if key in spec:
                loaders[f'cross_domain.domains.{name}.{key}'] = spec[key]
    for prefix, loader in loaders.items():
        options += [f'{prefix}.num_workers=0',
                    f'{prefix}.persistent_workers=False']
        resizes = pipeline_steps(loader.dataset.pipeline, 'Resize')
        assert resizes, f'{prefix} has no Resize step to shrink'
        options += [f'{prefix}.dataset.pipeline.{i}.scale=(128,64)'
                    for i in resizes]
    return options
