"""IBNLayout: each variant resolved once into per-stage entries, which the
backbone builds from."""
import dataclasses

import pytest

from ibnseg.models import IBN, IBNLayout, IBNResNet, StageLayout


def _resolve(ibn, ratio=0.5, ibn_stages=None, num_stages=4):
    return IBNLayout.resolve('Owner', ibn, ratio, ibn_stages, num_stages)


@pytest.mark.parametrize('ibn,stem,block_norms,parallel,post_add', [
    (None, None, (), False, None),
    ('a', None, (1, ), False, None),
    ('b', 'IN', (), False, 1.0),
    ('c', None, (), True, None),
    ('d', 'IBN', (), False, 0.25),
    ('a&d', 'IBN', (1, ), False, 0.25),
    ('ax2', None, (1, 2), False, None),
])
def test_the_papers_stages_per_variant(ibn, stem, block_norms, parallel,
                                       post_add):
    layout = _resolve(ibn, ratio=0.25)
    assert layout.stem == stem and layout.ratio == 0.25
    in_block = (True, True, True, False)
    after_add = (True, True, False, False)
    assert layout.stages == tuple(
        StageLayout(block_norms=block_norms if in_block[i] else (),
                    ratio=0.25,
                    parallel=parallel and in_block[i],
                    post_add_ratio=post_add if after_add[i] else None)
        for i in range(4))
    assert layout.has_in == (ibn is not None)


def test_explicit_stages_apply_to_every_part_and_fewer_stages():
    layout = _resolve('a&d', ibn_stages=(False, True, False), num_stages=3)
    assert [s.has_in for s in layout.stages] == [False, True, False]
    assert layout.stages[1].block_norms == (1, )
    assert layout.stages[1].post_add_ratio == 0.5
    assert len(_resolve('b', num_stages=2).stages) == 2


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
