"""``--crop-size`` / ``--scale``: one setting reaching every pipeline."""
import os.path as osp

import pytest

from ibnseg.engine.runner_setup import load_config
from ibnseg.engine.sizes import apply_sizes, pipelines
from tests.helpers.tiny_experiment import write_tiny_config
from tests.helpers.tools import REPO_ROOT, run_in_process


def _resize_scales(cfg):
    return {key: [tuple(step['scale']) for step in pipeline
                  if step['type'] in ('Resize', 'RandomResize')]
            for key, pipeline, _ in pipelines(cfg)}


@pytest.mark.slow
# (configs/ibn_b_cityscapes.py: the README recipe's run, tests/e2e)
@pytest.mark.parametrize('config', [
    'configs/ibn_b_gta5_to_cbm.py',
    'configs/demo/fcn_r18-tiny-ibn-b-d8_synthetic.py'
])
def test_sizes_reach_every_domain_and_loader(config):
    cfg = load_config(osp.join(REPO_ROOT, config))
    size = cfg.model.data_preprocessor.size
    apply_sizes(cfg, scale=[512, 256])  # the scale alone leaves crops alone
    assert cfg.model.data_preprocessor.size == size
    apply_sizes(cfg, crop_size=[64, 128], scale=[256, 128])
    scales = _resize_scales(cfg)
    domains = [f'cross_domain.domains.{name}.dataloader.dataset.pipeline'
               for name in cfg.cross_domain.domains]
    assert {'train_dataloader.dataset.pipeline',
            'val_dataloader.dataset.pipeline',
            'test_dataloader.dataset.pipeline', 'test_pipeline',
            *domains} <= set(scales)
    # one resize each (the demo's test pipelines had none: one added)
    assert all(found == [(256, 128)] for found in scales.values()), scales
    crops = [step['crop_size'] for step in
             cfg.train_dataloader.dataset.pipeline
             if step['type'] == 'RandomCrop']
    assert crops == [(64, 128)]
    assert cfg.model.data_preprocessor.size == (64, 128)
    # the resize added to a pipeline without one comes before its labels
    for _, pipeline, train in pipelines(cfg):
        types = [step['type'] for step in pipeline]
        if not train and 'LoadLabelIdAnnotations' in types:
            assert types.index('Resize') < types.index(
                'LoadLabelIdAnnotations'), types


NO_CROP = ("train_dataloader['dataset']['pipeline'] = "
           "[dict(type='LoadImageFromFile'), dict(type='PackSegInputs')]\n")


@pytest.mark.parametrize('args,extra,message', [
    (['--crop-size', '0', '128'], '',
     "argument --crop-size: '0' is not a positive whole number"),
    (['--scale', '256', 'x'], '',
     "argument --scale: 'x' is not a positive whole number"),
    (['--scale', '256'], '', 'argument --scale: expected 2 arguments'),
    (['--crop-size', '32', '32'], NO_CROP, "--crop-size: the config's "
     'training pipeline has no RandomCrop step to set'),
])
def test_bad_sizes_are_usage_errors(args, extra, message, tmp_path,
                                    monkeypatch, capsys):
    config = write_tiny_config(tmp_path / 'tiny.py', tmp_path / 'no_data',
                               extra=extra)
    status, err = run_in_process('train.py', [config, *args], monkeypatch,
                                 capsys)
    assert status == 2
    assert err.strip().splitlines()[-1] == f'train.py: error: {message}'
