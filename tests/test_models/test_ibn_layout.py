"""IBNLayout: each variant resolved once into per-stage entries, which the
backbone builds from (every variant's placement in the model:
test_ibn_resnet)."""
import dataclasses

import pytest

from ibnseg.models import IBN, IBNLayout, IBNResNet, StageLayout


def test_explicit_stages_apply_to_every_part_and_fewer_stages():
    layout = IBNLayout.resolve('Owner', 'a&d', 0.5, (False, True, False), 3)
    assert layout.stem == 'IBN' and layout.has_in
    assert layout.stages == (StageLayout(), StageLayout((1, ), 0.5, False,
                                                        0.5), StageLayout())
    assert len(IBNLayout.resolve('Owner', 'b', 0.5, None, 2).stages) == 2
    assert not IBNLayout.resolve('Owner', None, 0.5, None, 4).has_in


def test_the_layout_is_immutable_and_read_by_the_backbone():
    model = IBNResNet(depth=18, ibn='ax2', ibn_stages=(False, True, True,
                                                       False),
                      base_channels=8, stem_channels=8)
    with pytest.raises(dataclasses.FrozenInstanceError):
        model.layout.stages[0].block_norms = (1, )
    for stage, layer in zip(model.layout.stages,
                            (model.layer1, model.layer2, model.layer3,
                             model.layer4)):
        for block in layer:
            assert isinstance(block.bn2, IBN) == bool(stage.block_norms)
