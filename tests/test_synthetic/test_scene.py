"""Layouts: determinism, label ids, geometry and content statistics."""
import numpy as np
import pytest
from cityscapesscripts.helpers.labels import name2label

from ibnseg.datasets.labels import LABEL_ID_TO_TRAIN_ID, TRAIN_ID_LABEL_IDS
from ibnseg.synthetic import (CLASS_LABEL_IDS, MATERIAL_LABEL_IDS, MATERIALS,
                              sample_scene)
from ibnseg.synthetic.materials import MATERIAL_INDEX

SIZE = (64, 128)


def _scene(seed, size=SIZE):
    return sample_scene(size, np.random.default_rng(seed))


@pytest.fixture(scope='module')
def scenes():
    return [_scene(seed) for seed in range(40)]


def test_class_ids_are_the_official_cityscapes_label_ids():
    for name, label_id in CLASS_LABEL_IDS.items():
        assert name2label[name.replace('_', ' ')].id == label_id
    # every class is one of the 19 evaluated ones, so no pixel is ignored
    assert set(CLASS_LABEL_IDS.values()) <= set(TRAIN_ID_LABEL_IDS)
    assert [MATERIAL_LABEL_IDS[i] for i in range(len(MATERIALS))
            ] == [CLASS_LABEL_IDS[cls] for _, cls in MATERIALS]


def test_labels_are_the_materials_and_regions_belong_to_one_class(scenes):
    for scene in scenes:
        label = scene.label_ids
        assert label.shape == SIZE and label.dtype == np.uint8
        assert scene.material.shape == scene.region.shape == SIZE
        np.testing.assert_array_equal(label,
                                      MATERIAL_LABEL_IDS[scene.material])
        assert (LABEL_ID_TO_TRAIN_ID[label] != 255).all()
        # a region (one car, one building) may hold details of its own
        # class (windows, wheels) but never pixels of another class
        np.testing.assert_array_equal(
            MATERIAL_LABEL_IDS[scene.region_material][scene.region], label)


def test_perspective_geometry(scenes):
    rows = np.arange(SIZE[0])[:, None]
    for scene in scenes:
        material = scene.material
        sky = material == MATERIAL_INDEX['sky']
        ground = np.isin(material, [
            MATERIAL_INDEX[m]
            for m in ('road', 'road_marking', 'sidewalk', 'curb')
        ])
        # the sky is above the horizon, the ground below it
        assert (np.broadcast_to(rows, SIZE)[sky] < scene.horizon).all()
        assert (np.broadcast_to(rows, SIZE)[ground] > scene.horizon).all()
        assert np.isinf(scene.depth[sky]).all()
        assert np.isfinite(scene.depth[~sky]).all()
        assert (scene.depth[~sky] > 0).all()
        # the ground comes nearer towards the bottom of the image
        road = material == MATERIAL_INDEX['road']
        for column in range(0, SIZE[1], 16):
            depth = scene.depth[:, column][road[:, column]]
            ground_rows = np.nonzero(road[:, column])[0]
            if len(depth) > 1:
                order = np.argsort(ground_rows)
                assert (np.diff(depth[order]) <= 1e-4).all()


def test_content_statistics(scenes):
    ids = CLASS_LABEL_IDS
    present = {
        name: sum(bool((s.label_ids == i).any()) for s in scenes)
        for name, i in ids.items()
    }
    # the large classes are in (nearly) every scene, objects in most
    for name in ('road', 'building', 'sky'):
        assert present[name] == len(scenes), present
    for name in ('sidewalk', 'vegetation', 'car', 'person', 'pole'):
        assert present[name] >= 0.6 * len(scenes), present
    assert present['traffic_sign'] >= 0.3 * len(scenes), present
    labels = np.stack([s.label_ids for s in scenes])
    share = {name: (labels == i).mean() for name, i in ids.items()}
    assert 0.2 < share['road'] < 0.6, share
    assert 0.05 < share['sky'] < 0.4, share
    assert share['building'] > 0.1, share
    # the layout varies: horizons and label maps differ between scenes
    assert np.std([s.horizon for s in scenes]) > 1.0
    assert len({s.label_ids.tobytes() for s in scenes}) == len(scenes)
    # and the details within objects are drawn
    materials = np.concatenate([s.material.ravel() for s in scenes])
    for name in ('building_window', 'road_marking', 'curb', 'car_window',
                 'car_wheel', 'person_skin', 'tree_trunk', 'sign_border'):
        assert (materials == MATERIAL_INDEX[name]).any(), name


def test_any_size_of_16_or_more_pixels():
    for size in [(16, 16), (48, 200), (257, 129)]:
        assert _scene(0, size).label_ids.shape == size
    for size in [(8, 64), (64, ), 'ab', (32.5, 64)]:
        with pytest.raises(ValueError, match='size'):
            _scene(0, size)
