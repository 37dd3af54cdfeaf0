import numpy as np
import pytest
import torch
from mmseg.registry import MODELS

from ibnseg.analysis import (ImageSet, ImageSetPair, ModelSpec,
                             collect_set_stats, compute_model_divergence,
                             find_residual_layers, iter_image_batches,
                             preprocess_images)
from tests.helpers.analysis import build_tiny_segmentor, write_images


@pytest.fixture(scope='module')
def image_folders(tmp_path_factory):
    root = tmp_path_factory.mktemp('images')
    plain = tuple(write_images(str(root / 'plain'), 6, seed=0))
    bright = tuple(write_images(str(root / 'bright'), 6, seed=1,
                                brightness=60))
    return plain, bright


@pytest.mark.parametrize('text, expected', [
    ('configs/fcn_r50.py', ('fcn_r50', 'configs/fcn_r50.py', None)),
    ('configs/fcn_r50.py:work/iter_40.pth',
     ('fcn_r50', 'configs/fcn_r50.py', 'work/iter_40.pth')),
    ('IBN-a=c/x.py:/abs/c:weird.pth', ('IBN-a', 'c/x.py', '/abs/c:weird.pth')),
    ('plain=c/model.yaml', ('plain', 'c/model.yaml', None)),
])
def test_model_spec_parse(text, expected):
    spec = ModelSpec.parse(text)
    assert (spec.label, spec.config, spec.checkpoint) == expected


def test_preprocess_normalises_as_the_config_and_refuses_padding():
    model = build_tiny_segmentor()
    image = torch.randint(0, 256, (3, 8, 10), dtype=torch.uint8)
    inputs = preprocess_images(model, [image, image])
    mean = torch.tensor([123.675, 116.28, 103.53]).view(3, 1, 1)
    std = torch.tensor([58.395, 57.12, 57.375]).view(3, 1, 1)
    expected = (image.flip(0).float() - mean) / std  # BGR -> RGB
    assert inputs.shape == (2, 3, 8, 10)
    torch.testing.assert_close(inputs[1], expected)
    # one that pads would bias the channel means
    model.data_preprocessor = MODELS.build(dict(
        type='SegDataPreProcessor', test_cfg=dict(size_divisor=32)))
    image = torch.zeros(3, 40, 56, dtype=torch.uint8)
    with pytest.raises(ValueError, match=r'pads images.*\(40, 56\) to '
                       r'\(64, 64\).*--size'):
        preprocess_images(model, [image])


@torch.no_grad()
def test_set_statistics_equal_a_whole_batch_forward(image_folders):
    plain, _ = image_folders
    model = build_tiny_segmentor()
    layers = find_residual_layers(model, 'stage')
    image_set = ImageSet('plain', plain)

    outputs = {}
    handles = [module.register_forward_hook(
        lambda m, i, o, name=name: outputs.__setitem__(name, o))
        for name, module in layers.items()]
    images = next(iter_image_batches(image_set, batch_size=len(plain)))
    model.backbone(preprocess_images(model, images))
    for handle in handles:
        handle.remove()

    stats = collect_set_stats(model, layers, image_set, batch_size=4)
    assert all(not module._forward_hooks for module in layers.values())
    for name, output in outputs.items():
        per_image = output.mean(dim=(2, 3)).double().numpy()
        np.testing.assert_allclose(stats[name].mean, per_image.mean(0),
                                   rtol=1e-5, atol=1e-7)
        np.testing.assert_allclose(stats[name].variance, per_image.var(0),
                                   rtol=1e-4, atol=1e-9)


def test_divergence_rows_per_pair_and_layer(image_folders):
    """(Batching cannot change them: the set statistics above equal one
    whole-batch forward.)"""
    plain, bright = image_folders
    pairs = [
        ImageSetPair('domain', 'domain', ImageSet('plain', plain),
                     ImageSet('bright', bright)),
        ImageSetPair('same', 'domain', ImageSet('plain', plain),
                     ImageSet('plain again', plain)),
    ]
    rows = compute_model_divergence(build_tiny_segmentor(), 'tiny', pairs,
                                    level='block', batch_size=4)
    assert len(rows) == 2 * 8
    assert [row.depth for row in rows[:8]] == list(range(1, 9))
    assert rows[0].layer == 'layer1.0' and rows[7].layer == 'layer4.1'
    assert [row.channels for row in rows[:8]] == [4, 4, 8, 8, 16, 16, 32, 32]
    assert all(row.images_a == row.images_b == 6 for row in rows)
    different, same = rows[:8], rows[8:]
    assert all(row.divergence == 0.0 for row in same)
    assert all(np.isfinite(row.divergence) and row.divergence > 0
               for row in different)
