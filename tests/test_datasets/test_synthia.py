import warnings
from functools import partial

import numpy as np
import pytest

from ibnseg.datasets import CLASSES, SYNTHIA_13_CLASSES, SYNTHIA_16_CLASSES
from ibnseg.datasets.layouts import save_png_atomic
from tests.helpers.data_factory import (make_synthia, truncate_file,
                                        write_split_file)
from tests.helpers.datasets import build as build_dataset, gt_of, names

build = partial(build_dataset, 'SynthiaDataset')
# SYNTHIA's README class ids with a Cityscapes class, typed in from the
# README and DAFormer's converter (not from ibnseg's table)
SYNTHIA_CLASS = {
    1: 'sky', 2: 'building', 3: 'road', 4: 'sidewalk', 5: 'fence',
    6: 'vegetation', 7: 'pole', 8: 'car', 9: 'traffic sign', 10: 'person',
    11: 'bicycle', 12: 'motorcycle', 15: 'traffic light', 16: 'terrain',
    17: 'rider', 18: 'truck', 19: 'bus', 20: 'train', 21: 'wall'
}


def expected(class_ids):
    out = np.full(class_ids.shape, 255, np.uint8)
    for synthia_id, name in SYNTHIA_CLASS.items():
        out[class_ids == synthia_id] = CLASSES.index(name)
    return out


def test_16_bit_labels_map_from_the_class_channel(tmp_path):
    syn = make_synthia(tmp_path / 'syn', num_images=2)
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter('always')
        dataset = build(syn.root)
        assert names(dataset) == syn.ids
        for i, stem in enumerate(syn.ids):
            np.testing.assert_array_equal(
                gt_of(dataset[i]), expected(syn.class_ids[stem]))
    # 23, 40 and the 16-bit 300 are no SYNTHIA class: ignored, warned about
    # once per dataset and counted
    assert sum('SYNTHIA label table' in str(w.message) for w in caught) == 1
    assert '2 label file(s)' in dataset.unknown_label_ids_summary()
    with pytest.warns(UserWarning, match='SYNTHIA label table'):
        build(syn.root)[0]


def test_split_file_and_converted_labels(tmp_path):
    syn = make_synthia(tmp_path / 'syn', num_images=3)
    write_split_file(tmp_path / 'syn' / 'splits' / 'val.txt', ['2', '0'])
    converted = np.full(syn.class_ids['0000002'].shape, 7, np.uint8)
    save_png_atomic(
        str(tmp_path / 'syn' / 'GT' / 'LABELS' / '0000002_labelTrainIds.png'),
        converted)
    dataset = build(syn.root, split='splits/val.txt')
    assert names(dataset) == ['0000002', '0000000']
    assert 'label_id_table' not in dataset.get_data_info(0)
    np.testing.assert_array_equal(gt_of(dataset[0]), converted)
    with pytest.raises(FileNotFoundError, match=r'/splits/train.txt not '
                       r"found \(split='splits/train.txt' is taken from "
                       'data_root'):
        build(syn.root, split='splits/train.txt')


def test_broken_pairs_skipped(tmp_path):
    syn = make_synthia(tmp_path / 'syn', num_images=3)
    truncate_file(syn.label_path('0000001'))
    with pytest.warns(UserWarning, match='first-pass check'):
        dataset = build(syn.root)
    assert [i.sample_id for i in dataset.first_pass_skipped] == ['0000001']
    assert len(dataset) == 2


def test_evaluated_class_subsets():
    assert len(SYNTHIA_16_CLASSES) == 16 and len(SYNTHIA_13_CLASSES) == 13
    assert set(CLASSES) - set(SYNTHIA_16_CLASSES) == {
        'terrain', 'truck', 'train'
    }
    assert set(SYNTHIA_16_CLASSES) - set(SYNTHIA_13_CLASSES) == {
        'wall', 'fence', 'pole'
    }
