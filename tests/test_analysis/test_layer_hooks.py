import numpy as np
import pytest
import torch
from mmseg.models.backbones import ResNet
from mmseg.registry import MODELS
from torch import nn

import ibnseg  # noqa: F401  (registers IBNResNet)
from ibnseg.analysis import (ChannelMeanStats, ChannelStatsRecorder,
                             find_residual_layers)
from tests.helpers.analysis import RESNET18_BLOCKS, build_tiny_segmentor


def expected_block_names(blocks_per_stage):
    return [f'layer{stage}.{block}'
            for stage, count in enumerate(blocks_per_stage, start=1)
            for block in range(count)]


def test_blocks_of_mmseg_resnet_segmentor():
    model = build_tiny_segmentor()
    layers = find_residual_layers(model, 'block')
    assert list(layers) == expected_block_names(RESNET18_BLOCKS)
    for name, module in layers.items():
        stage, index = name.split('.')
        assert module is getattr(model.backbone, stage)[int(index)]


def test_stages_and_deep_stem_resnet50_backbone():
    backbone = ResNet(depth=50, stem_channels=8, base_channels=2,
                      deep_stem=True)
    stages = find_residual_layers(backbone, 'stage')
    assert list(stages) == ['layer1', 'layer2', 'layer3', 'layer4']
    assert all(stages[name] is getattr(backbone, name) for name in stages)
    blocks = find_residual_layers(backbone, 'block')
    assert list(blocks) == expected_block_names((3, 4, 6, 3))
    # the deep stem's convs are not residual blocks
    assert not any(name.startswith('stem') for name in blocks)


def test_fewer_stages_follow_res_layers():
    backbone = ResNet(depth=18, stem_channels=8, base_channels=4,
                      num_stages=2, strides=(1, 2), dilations=(1, 1),
                      out_indices=(1, ))
    assert list(find_residual_layers(backbone, 'stage')) == [
        'layer1', 'layer2']


class NumberedStages(nn.Module):
    """No res_layers; stages registered out of numeric order."""

    def __init__(self):
        super().__init__()
        self.layer10 = nn.Sequential(nn.Identity())
        self.layer2 = nn.Sequential(nn.Identity(), nn.Identity())
        self.layer1 = nn.Sequential(nn.Identity())
        self.layer_extra = nn.Sequential(nn.Identity())
        self.head = nn.Identity()


def test_children_named_layer_n_in_numeric_order():
    model = NumberedStages()
    assert list(find_residual_layers(model, 'stage')) == [
        'layer1', 'layer2', 'layer10']
    assert list(find_residual_layers(model, 'block')) == [
        'layer1.0', 'layer2.0', 'layer2.1', 'layer10.0']


def test_model_without_stages_or_with_bad_level_is_refused():
    with pytest.raises(ValueError, match='Conv2d has no residual stages'):
        find_residual_layers(nn.Conv2d(3, 3, 1))
    with pytest.raises(ValueError, match="level must be one of"):
        find_residual_layers(build_tiny_segmentor(), 'layer')


@torch.no_grad()
def test_recorder_statistics_equal_direct_outputs_and_hooks_go_away():
    model = build_tiny_segmentor()
    layers = find_residual_layers(model, 'block')
    images = torch.randn(5, 3, 40, 56)

    outputs = {}
    handles = [module.register_forward_hook(
        lambda m, i, o, name=name: outputs.__setitem__(name, o.clone()))
        for name, module in layers.items()]
    model.backbone(images)
    for handle in handles:
        handle.remove()

    stats = {name: ChannelMeanStats() for name in layers}
    with ChannelStatsRecorder(layers, stats):
        model.backbone(images[:2])
        model.backbone(images[2:])
    assert all(not module._forward_hooks for module in layers.values())
    model.backbone(images)  # after exit: nothing recorded

    for name, output in outputs.items():
        per_image = output.mean(dim=(2, 3)).double().numpy()
        assert stats[name].count == 5
        np.testing.assert_allclose(stats[name].mean, per_image.mean(0),
                                   rtol=1e-5, atol=1e-7)
        np.testing.assert_allclose(stats[name].variance, per_image.var(0),
                                   rtol=1e-4, atol=1e-8)


def test_recorder_needs_stats_for_every_layer_and_tensor_outputs():
    layers = {'pair': nn.Sequential()}
    layers['pair'].forward = lambda x: (x, x)
    with pytest.raises(KeyError, match='pair'):
        ChannelStatsRecorder(layers, {})
    with ChannelStatsRecorder(layers, {'pair': ChannelMeanStats()}):
        with pytest.raises(TypeError, match='layer pair returned tuple'):
            layers['pair'](torch.ones(2, 3, 4, 4))


@pytest.mark.parametrize('ibn', [None, 'a', 'b'])
def test_blocks_of_ibnseg_ibn_resnet(ibn):
    backbone = MODELS.build(dict(type='IBNResNet', depth=50, ibn=ibn,
                                 stem_channels=8, base_channels=4))
    blocks = find_residual_layers(backbone, 'block')
    assert list(blocks) == expected_block_names((3, 4, 6, 3))
    assert blocks['layer2.3'] is backbone.layer2[3]
    if ibn == 'b':
        # IBN-b's IN after the addition lives inside the stage's last
        # block, so the hooked block output is measured after it.
        assert isinstance(blocks['layer1.2'].IN, nn.Module)
        assert isinstance(blocks['layer2.3'].IN, nn.Module)


@torch.no_grad()
def test_a_stage_records_what_its_last_block_records():
    backbone = MODELS.build(dict(type='IBNResNet', depth=18, ibn='b',
                                 stem_channels=8, base_channels=4))
    backbone.eval()
    blocks = find_residual_layers(backbone, 'block')
    stages = find_residual_layers(backbone, 'stage')
    layers = {'layer1.1': blocks['layer1.1'], 'layer1': stages['layer1']}
    stats = {name: ChannelMeanStats() for name in layers}
    with ChannelStatsRecorder(layers, stats):
        backbone(torch.randn(4, 3, 64, 64))
    np.testing.assert_array_equal(stats['layer1'].mean,
                                  stats['layer1.1'].mean)
    np.testing.assert_array_equal(stats['layer1'].variance,
                                  stats['layer1.1'].variance)
