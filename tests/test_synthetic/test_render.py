"""Rendering: determinism, image/label agreement, appearance domains."""
import numpy as np
import pytest

from ibnseg.synthetic import (CLASS_LABEL_IDS, generate_sample, render_scene,
                              sample_scene)
from ibnseg.synthetic.materials import MATERIAL_NAMES

SIZE = (64, 128)
NUM = 8


def _render(seed, style, appearance_seed=0):
    scene = sample_scene(SIZE, np.random.default_rng(seed))
    return scene, render_scene(scene, style,
                               np.random.default_rng(appearance_seed))


@pytest.fixture(scope='module')
def samples():
    """NUM paired samples: {domain: [(image, label), ...]}."""
    return {
        domain: [generate_sample(i, domain, SIZE, seed=1) for i in range(NUM)]
        for domain in ('source', 'real', 'dusk', 'fog')
    }


def test_rendering_is_deterministic():
    scene, image = _render(0, 'real', 5)
    again = render_scene(scene, 'real', np.random.default_rng(5))
    other = render_scene(scene, 'real', np.random.default_rng(6))
    assert image.shape == SIZE + (3, ) and image.dtype == np.uint8
    assert image.tobytes() == again.tobytes()
    assert generate_sample(0, 'real', (32, 48))[0].shape == (32, 48, 3)
    assert np.abs(image.astype(int) - other).mean() > 1.0


def _flat_style():
    """One colour per material, no texture, light, haze or camera effects:
    every pixel then shows exactly its material's colour."""
    colors = {
        name: (10 * i + 5, 250 - 10 * i, (37 * i) % 256)
        for i, name in enumerate(MATERIAL_NAMES)
    }
    return dict(
        materials={
            name: dict(colors=[color], jitter=0, texture=(0, 0, 0))
            for name, color in colors.items()
        },
        sky_horizon=[colors['sky']],
        clouds=0.0, haze=0.0, saturation=1.0, contrast=1.0,
        jitter=dict(brightness=0, contrast=0, haze=0, white_balance=0)), \
        colors


@pytest.mark.parametrize('seed', range(5))
def test_every_pixel_shows_its_labelled_material(seed):
    style, colors = _flat_style()
    scene, image = _render(seed, style)
    expected = np.array([colors[name] for name in MATERIAL_NAMES])
    np.testing.assert_allclose(image, expected[scene.material], atol=1)


def _class_pixels(pairs, class_name):
    label_id = CLASS_LABEL_IDS[class_name]
    return np.concatenate([img[lbl == label_id]
                           for img, lbl in pairs]).astype(np.float32)


def test_classes_have_their_own_colour_statistics(samples):
    vegetation, sky, road, sidewalk = (
        _class_pixels(samples['source'], name).mean(0)
        for name in ('vegetation', 'sky', 'road', 'sidewalk'))
    assert vegetation[1] > max(vegetation[0], vegetation[2]) + 20
    assert sky[2] > sky[0] + 20
    assert sidewalk.mean() > road.mean() + 30
    # the road is a near-neutral grey
    assert np.ptp(road) < 20


def _roughness(image, mask):
    """Median brightness step between vertical neighbours inside ``mask``
    (the median ignores the few steps at lane marks and edges)."""
    grey = image.astype(np.float32).mean(2)
    vertical = np.abs(np.diff(grey, axis=0))
    inner = mask[1:] & mask[:-1]
    return np.median(vertical[inner])


def test_classes_have_their_own_texture(samples):
    # vegetation is leafy, the road fine-grained and flatter
    def roughness(name, least=0):
        label_id = CLASS_LABEL_IDS[name]
        return np.mean([_roughness(img, lbl == label_id)
                        for img, lbl in samples['source']
                        if (lbl == label_id).sum() > least])

    assert roughness('vegetation', least=50) > 2 * roughness('road')


def test_domains_share_layouts_and_differ_in_appearance(samples):
    for domain in ('real', 'dusk', 'fog'):
        for (src_img, src_lbl), (img, lbl) in zip(samples['source'],
                                                  samples[domain]):
            np.testing.assert_array_equal(lbl, src_lbl)
            assert np.abs(img.astype(int) - src_img).mean() > 10, domain


def _stack(pairs):
    return np.stack([img for img, _ in pairs]).astype(np.float32)


def _saturation(images):
    return (images.max(-1) - images.min(-1)).mean()


def test_domain_shifts_go_the_documented_way(samples):
    source, real = _stack(samples['source']), _stack(samples['real'])
    dusk, fog = _stack(samples['dusk']), _stack(samples['fog'])
    # synthetic -> real: muted colours, softer contrast
    assert _saturation(real) < 0.8 * _saturation(source)
    assert real.std() < source.std()
    # day -> dusk: darker, lower contrast
    assert dusk.mean() < 0.75 * source.mean()
    assert dusk.std() < source.std()
    # fog: far things fade, so contrast falls
    assert fog.std() < 0.8 * source.std()


def test_camera_blur_and_sensor_noise_act_as_documented():
    scene = sample_scene(SIZE, np.random.default_rng(2))
    road = scene.label_ids == CLASS_LABEL_IDS['road']

    def render(**camera):
        style = dict(base='source', **camera)
        return render_scene(scene, style, np.random.default_rng(0))

    def edges(image):
        return np.abs(np.diff(image.astype(np.float32), axis=1)).mean()

    clean = render()
    assert edges(render(blur=1.5)) < 0.7 * edges(clean)
    assert _roughness(render(sensor_noise=8.0), road) > \
        1.5 * _roughness(clean, road)
