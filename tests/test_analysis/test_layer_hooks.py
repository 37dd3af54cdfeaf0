import pytest
import torch
from mmseg.models.backbones import ResNet
from mmseg.registry import MODELS
from torch import nn

import ibnseg  # noqa: F401  (registers IBNResNet)
from ibnseg.analysis import ChannelStatsRecorder, find_residual_layers
from tests.helpers.analysis import RESNET18_BLOCKS, build_tiny_segmentor


def expected_block_names(blocks_per_stage):
    return [f'layer{stage}.{block}'
            for stage, count in enumerate(blocks_per_stage, start=1)
            for block in range(count)]


STAGES = ['layer1', 'layer2', 'layer3', 'layer4']


class NumberedStages(nn.Module):
    """No res_layers; stages registered out of numeric order."""

    def __init__(self):
        super().__init__()
        self.layer10 = nn.Sequential(nn.Identity())
        self.layer2 = nn.Sequential(nn.Identity(), nn.Identity())
        self.layer1 = nn.Sequential(nn.Identity())
        self.layer_extra = nn.Sequential(nn.Identity())
        self.head = nn.Identity()


def _resnet50_deep_stem():
    return ResNet(depth=50, stem_channels=8, base_channels=2, deep_stem=True)


@pytest.mark.parametrize('build, level, expected', [
    (build_tiny_segmentor, 'block', expected_block_names(RESNET18_BLOCKS)),
    # the deep stem's convs are not residual blocks
    (_resnet50_deep_stem, 'block', expected_block_names((3, 4, 6, 3))),
    (_resnet50_deep_stem, 'stage', STAGES),
    (lambda: ResNet(depth=18, stem_channels=8, base_channels=4, num_stages=2,
                    strides=(1, 2), dilations=(1, 1), out_indices=(1, )),
     'stage', STAGES[:2]),
    (NumberedStages, 'stage', ['layer1', 'layer2', 'layer10']),
    (NumberedStages, 'block', ['layer1.0', 'layer2.0', 'layer2.1',
                               'layer10.0']),
    (lambda: MODELS.build(dict(type='IBNResNet', depth=50, ibn='b',
                               stem_channels=8, base_channels=4)),
     'block', expected_block_names((3, 4, 6, 3))),
])
def test_residual_layers_in_forward_order(build, level, expected):
    model = build()
    layers = find_residual_layers(model, level)
    assert list(layers) == expected
    backbone = getattr(model, 'backbone', model)
    assert all(module is backbone.get_submodule(name)
               for name, module in layers.items())


def test_bad_models_levels_and_layers_are_refused():
    with pytest.raises(ValueError, match='Conv2d has no residual stages'):
        find_residual_layers(nn.Conv2d(3, 3, 1))
    with pytest.raises(ValueError, match="level must be one of"):
        find_residual_layers(build_tiny_segmentor(), 'layer')
    layers = {'pair': nn.Sequential()}
    layers['pair'].forward = lambda x: (x, x)
    with ChannelStatsRecorder(layers):
        with pytest.raises(TypeError, match='layer pair returned tuple'):
            layers['pair'](torch.ones(2, 3, 4, 4))
