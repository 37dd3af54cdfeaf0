import os

import numpy as np
import pytest
from PIL import Image

from ibnseg.datasets import layouts
from ibnseg.datasets.labels import (CLASSES, LABEL_ID_COLORS,
                                    LABEL_ID_TO_TRAIN_ID, PALETTE,
                                    label_ids_to_train_ids)
from tests.helpers.datasets import official_labels, official_lut


def test_table_names_and_colours_match_cityscapesscripts():
    assert LABEL_ID_TO_TRAIN_ID.dtype == np.uint8
    np.testing.assert_array_equal(LABEL_ID_TO_TRAIN_ID, official_lut())
    with pytest.raises(ValueError):
        LABEL_ID_TO_TRAIN_ID[0] = 1  # shared table is read-only
    for label in official_labels:
        if 0 <= label.trainId < 255:
            assert CLASSES[label.trainId] == label.name
            assert PALETTE[label.trainId] == list(label.color)
        if label.id >= 0:
            assert tuple(LABEL_ID_COLORS[label.id]) == label.color


def test_label_ids_to_train_ids_rejects_out_of_range():
    np.testing.assert_array_equal(
        label_ids_to_train_ids(np.array([[7, 33, 34, 0]])),
        [[0, 18, 255, 255]])
    with pytest.raises(ValueError, match='0..255'):
        label_ids_to_train_ids(np.array([300]))
    with pytest.raises(TypeError):
        label_ids_to_train_ids(np.array([1.5]))


def test_writers_store_the_downloads_layouts(tmp_path):
    """GTA5: palette PNGs of label ids; Cityscapes: grayscale ones."""
    rng = np.random.default_rng(0)
    image = rng.integers(0, 256, (5, 7, 3), dtype=np.uint8)
    ids = rng.integers(0, 256, (5, 7)).astype(np.uint8)
    img_path, label_path = layouts.write_gta5_sample(tmp_path, 12, image, ids)
    assert img_path == str(tmp_path / 'images' / '00012.png')
    assert label_path == str(tmp_path / 'labels' / '00012.png')
    np.testing.assert_array_equal(np.array(Image.open(img_path)), image)
    label = Image.open(label_path)
    assert label.mode == 'P'
    np.testing.assert_array_equal(np.array(label), ids)
    palette = np.array(label.getpalette()).reshape(-1, 3)
    assert tuple(palette[26]) == (0, 0, 142)  # car
    # no temporary files are left behind
    assert sorted(os.listdir(tmp_path / 'labels')) == ['00012.png']
    # split-file entries name the same stems
    assert layouts.gta5_id(' 24966\n') == '24966'
    assert layouts.gta5_id('frame_a') == 'frame_a'
    image = np.zeros((4, 6, 3), np.uint8)
    ids = np.full((4, 6), 26, np.uint8)
    img_path, label_path = layouts.write_cityscapes_sample(
        tmp_path, 'val', 'lindau', 3, 19, image, ids)
    assert img_path.endswith(
        'leftImg8bit/val/lindau/lindau_000003_000019_leftImg8bit.png')
    assert label_path.endswith(
        'gtFine/val/lindau/lindau_000003_000019_gtFine_labelIds.png')
    assert Image.open(label_path).mode == 'L'
    np.testing.assert_array_equal(layouts.read_label_ids(label_path), ids)


def test_writers_and_readers_refuse_bad_data_naming_it(tmp_path):
    with pytest.raises(ValueError, match='image_rgb'):
        layouts.write_gta5_sample(tmp_path, 1, np.zeros((4, 4), np.uint8),
                                  np.zeros((4, 4), np.uint8))
    with pytest.raises(ValueError, match='label_ids'):
        layouts.write_gta5_sample(tmp_path, 1, np.zeros((4, 4, 3), np.uint8),
                                  np.full((4, 4), 300))
    missing = str(tmp_path / 'nope.png')
    with pytest.raises(FileNotFoundError, match='nope.png'):
        layouts.read_label_ids(missing)
    garbage = tmp_path / 'bad.png'
    garbage.write_bytes(b'not a png')
    with pytest.raises(ValueError, match='bad.png.*expected'):
        layouts.read_label_ids(str(garbage))
    rgb = layouts.save_png_atomic(
        str(tmp_path / 'rgb.png'), np.zeros((2, 2, 3), np.uint8))
    with pytest.raises(ValueError, match="rgb.png.*mode 'RGB'"):
        layouts.read_label_ids(rgb)
