"""IBNDenseNet: layout, output strides (plain and dilated), options, a
segmentor training step, and the DenseNet configs (bad options:
test_argument_errors)."""
import glob
import os.path as osp

import pytest
import torch
import torch.nn as nn
from mmengine.config import Config
from mmengine.model.utils import revert_sync_batchnorm
from mmengine.optim import OptimWrapper
from mmengine.registry import init_default_scope
from mmengine.structures import PixelData
from mmseg.registry import MODELS
from mmseg.structures import SegDataSample

import ibnseg  # noqa: F401
from ibnseg.models import IBN, IBNDenseNet, InstanceNormSizeError
from tests.helpers.tools import REPO_ROOT

init_default_scope('mmseg')
D8 = dict(strides=(1, 2, 1, 1), dilations=(1, 1, 2, 4))
D16 = dict(strides=(1, 2, 2, 1), dilations=(1, 1, 1, 2))


@pytest.fixture(scope='module')
def densenet121():
    """One DenseNet-121-IBN-a, shared."""
    return IBNDenseNet()


@pytest.mark.parametrize('layout,strides', [
    ({}, (4, 8, 16, 32)),
    (D8, (4, 8, 8, 8)),
    (D16, (4, 8, 16, 16)),
    (dict(out_indices=(1, 3)), (8, 32)),
])
def test_output_strides_and_channels(layout, strides):
    model = IBNDenseNet(**layout).eval()
    with torch.no_grad():
        outs = model(torch.randn(1, 3, 64, 96))
    indices = layout.get('out_indices', range(4))
    assert [o.shape[1] for o in outs] == [(256, 512, 1024, 1024)[i]
                                          for i in indices]
    assert [o.shape[-2:] for o in outs] == [(64 // s, 96 // s)
                                            for s in strides]
    # the last stage's output is norm5 + ReLU, the classifier's features
    assert outs[-1].min() >= 0 and outs[0].min() < 0


@pytest.mark.parametrize('depth,channels', [
    (161, (384, 768, 2112, 2208)), (169, (256, 512, 1280, 1664)),
    (201, (256, 512, 1792, 1920))])
def test_other_depths(depth, channels):
    model = IBNDenseNet(depth=depth, ibn=None)
    assert model.out_channels == channels
    assert not any(isinstance(m, (IBN, nn.InstanceNorm2d))
                   for m in model.modules())


def test_ibn_a_placement_and_stage_override(densenet121):
    def ibn_layers(model):
        return sorted(name for name, m in model.named_modules()
                      if isinstance(m, IBN))

    names = ibn_layers(densenet121)
    expected = [f'features.denseblock{b}.denselayer{j}.norm1'
                for b, count in ((1, 6), (2, 12), (3, 24))
                for j in range(1, count + 1, 3)]
    assert names == sorted(expected)
    layer = densenet121.features.denseblock1.denselayer4.norm1
    assert (layer.order, layer.BN.num_features, layer.IN.num_features) == (
        'BN-IN', 96, 64)  # 160 channels: int(160 * 0.6) BN
    override = IBNDenseNet(ibn_stages=(False, False, False, True),
                           ibn_ratio=0.5)
    assert ibn_layers(override) == sorted(
        f'features.denseblock4.denselayer{j}.norm1'
        for j in (1, 4, 7, 10, 13, 16))
    assert override.features.denseblock4.denselayer1.norm1.num_in == 256


def test_train_step_of_an_fcn_segmentor_on_the_config_model():
    cfg = Config.fromfile(
        osp.join(REPO_ROOT, 'configs/_base_/models/fcn_ibn-densenet121-d8.py'))
    cfg.model.backbone.update(ibn='a', init_cfg=None)
    cfg.model.data_preprocessor.size = (64, 64)
    cfg.model.decode_head.update(channels=16, num_convs=1)
    cfg.model.auxiliary_head.channels = 16
    model = revert_sync_batchnorm(MODELS.build(cfg.model))
    model.init_weights()
    gen = torch.Generator().manual_seed(0)
    data = dict(
        inputs=[torch.randint(0, 256, (3, 64, 64), generator=gen,
                              dtype=torch.uint8) for _ in range(2)],
        data_samples=[
            SegDataSample(gt_sem_seg=PixelData(data=torch.randint(
                0, 19, (1, 64, 64), generator=gen)),
                          metainfo=dict(img_shape=(64, 64),
                                        pad_shape=(64, 64)))
            for _ in range(2)])
    ibn = model.backbone.features.denseblock3.denselayer22.norm1
    before = (ibn.IN.weight.detach().clone(), ibn.BN.running_mean.clone(),
              model.backbone.features.conv0.weight.detach().clone())
    optim = OptimWrapper(torch.optim.SGD(model.parameters(), lr=0.1))
    log_vars = model.train_step(data, optim)
    assert {'decode.loss_ce', 'aux.loss_ce', 'loss'} <= set(log_vars)
    assert torch.isfinite(log_vars['loss'])
    after = (ibn.IN.weight, ibn.BN.running_mean,
             model.backbone.features.conv0.weight)
    for old, new in zip(before, after):
        assert not torch.equal(old, new)


def test_frozen_stages_and_norm_eval():
    model = IBNDenseNet(frozen_stages=2, norm_eval=True).train()
    f = model.features
    frozen = [f.conv0, f.norm0, f.denseblock1, f.transition1, f.denseblock2]
    assert all(not p.requires_grad for m in frozen for p in m.parameters())
    assert all(p.requires_grad for m in (f.transition2, f.denseblock3, f.norm5)
               for p in m.parameters())
    assert not f.denseblock3.denselayer1.norm1.BN.training  # norm_eval
    assert f.denseblock3.denselayer1.norm1.training  # only BN parts
    assert not IBNDenseNet(frozen_stages=4).train().features.norm5.training


def test_too_small_input_names_block_and_size(densenet121):
    with pytest.raises(InstanceNormSizeError,
                       match=r'denseblock3 would normalise a 1x1 feature map '
                       r'for a 16x16 input; use an input of at least 29x29'):
        densenet121(torch.randn(1, 3, 16, 16))
    # 29 -> 8 after the stem -> 4 -> 2 at block 3; 28 -> 7 -> 3 -> 1
    densenet121.eval()(torch.randn(1, 3, 29, 29))  # the size it suggests
    with pytest.raises(InstanceNormSizeError, match='28x28 input'):
        densenet121(torch.randn(1, 3, 28, 28))
    # dilated, block 3 keeps block 2's size
    IBNDenseNet(**D8).eval()(torch.randn(1, 3, 16, 16))


DENSENET_CONFIGS = sorted(
    osp.relpath(p, REPO_ROOT)
    for p in glob.glob(osp.join(REPO_ROOT, 'configs', '**', '*densenet*.py'),
                       recursive=True) if '_base_' not in p)


def test_densenet_configs_found():
    assert len(DENSENET_CONFIGS) == 4


@pytest.mark.slow
@pytest.mark.parametrize('config', DENSENET_CONFIGS)
def test_densenet_config_is_its_resnet_counterpart_but_the_model(config):
    """Everything but the model as the ResNet-50 config of the same
    direction (the model: tests/test_configs)."""
    cfg = Config.fromfile(osp.join(REPO_ROOT, config))
    resnet = Config.fromfile(osp.join(REPO_ROOT, config.replace(
        'densenet121-ibn-a', 'r50').replace('densenet121', 'r50')))
    for key in ('train_dataloader', 'val_dataloader', 'test_dataloader',
                'train_cfg', 'optim_wrapper', 'param_scheduler'):
        assert cfg[key] == resnet[key], key
    assert cfg.get('cross_domain') == resnet.get('cross_domain')
    assert cfg.model.data_preprocessor == resnet.model.data_preprocessor
