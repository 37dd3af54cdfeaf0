import re
import warnings

import numpy as np
import pytest
from mmseg.registry import TRANSFORMS

import ibnseg  # noqa: F401
from ibnseg.datasets.labels import (CITYSCAPES_LABEL_ID_TABLE,
                                    GTA5_LABEL_ID_TABLE)
from ibnseg.datasets.layouts import save_png_atomic
from tests.helpers.datasets import official_lut

ALL_IDS = np.arange(256, dtype=np.uint8).reshape(16, 16)


@pytest.fixture
def sample(tmp_path):
    """A sample as a dataset lists it, its label ``seg_map`` saved as
    ``labels/<name>``."""

    def make(seg_map, name='00001.png', **extra):
        path = str(tmp_path / 'labels' / name)
        save_png_atomic(path, seg_map)
        return dict(seg_map_path=path, img_path='images/00001.png',
                    reduce_zero_label=False, seg_fields=[],
                    ori_shape=seg_map.shape[:2], **extra)

    return make


def load(results, **options):
    return TRANSFORMS.build(dict(type='LoadLabelIdAnnotations',
                                 **options))(results)


def test_maps_label_ids_per_official_table_and_passes_train_ids(sample):
    out = load(sample(ALL_IDS, label_id_table=GTA5_LABEL_ID_TABLE))
    np.testing.assert_array_equal(out['gt_seg_map'], official_lut()[ALL_IDS])
    assert out['seg_fields'] == ['gt_seg_map']
    train_ids = np.where(ALL_IDS < 19, ALL_IDS, 255).astype(np.uint8)
    out = load(sample(train_ids))
    np.testing.assert_array_equal(out['gt_seg_map'], train_ids)


SUBSET = {**{i: 255 for i in range(19)}, 0: 0, 13: 1}  # road, car kept


@pytest.mark.parametrize('seg_map,extra,match', [
    (np.zeros((4, 4, 3), np.uint8), {}, '00001.png.*single-channel'),
    # trainIds outside 0..18 would fail in the loss
    (np.array([[0, 30, 30, 19]] * 2, np.uint8), {},
     r'labels/00001.png.*19 \(2 px\), 30 \(4 px\).*0\.\.18 or 255'),
    (np.array([[0, 30]] * 2, np.uint8), dict(label_map=SUBSET),
     r'labels/00001.png.*30 \(2 px\).*subset'),
    # a Cityscapes _labelIds.png that holds trainIds (255 is no label id)
    (np.array([[0, 13, 255, 255]] * 2, np.uint8),
     dict(label_id_table=CITYSCAPES_LABEL_ID_TABLE),
     r'labels/00001.png.*255 \(4 px\).*Cityscapes has \(stored ids are '
     r'0\.\.33\): it looks like a trainId map'),
])
def test_unusable_labels_fail_naming_the_file(sample, seg_map, extra, match):
    with pytest.raises(ValueError, match=match):
        load(sample(seg_map, **extra))


def test_size_mismatch_names_both_files(sample):
    res = sample(ALL_IDS, label_id_table=GTA5_LABEL_ID_TABLE)
    res['ori_shape'] = (16, 20)
    with pytest.raises(ValueError,
                       match=r'labels/00001.png.*16x16.*00001.png is 20x16'):
        load(dict(res, seg_fields=[]))
    assert load(res, check_size=False)['gt_seg_map'].shape == (16, 16)


def test_a_class_subset_maps_train_ids_and_mapped_label_ids(sample):
    # mmseg's label_map (old -> new trainId)
    good = np.array([[0, 13, 255]] * 2, np.uint8)
    out = load(sample(good, label_map=SUBSET))
    np.testing.assert_array_equal(out['gt_seg_map'], [[0, 1, 255]] * 2)
    # label ids: the table first, then the subset (road, car, person, void)
    ids = np.array([[7, 26, 24, 0]] * 2, np.uint8)
    out = load(sample(ids, label_id_table=GTA5_LABEL_ID_TABLE,
                      label_map=SUBSET))
    np.testing.assert_array_equal(out['gt_seg_map'], [[0, 1, 255, 255]] * 2)
    assert out['label_map'] is SUBSET


def test_unknown_label_ids_warn_once_and_are_counted(sample):
    transform = TRANSFORMS.build(dict(type='LoadLabelIdAnnotations'))
    clean = np.array([[7, 26, 0, 33]] * 2, np.uint8)
    with warnings.catch_warnings():
        warnings.simplefilter('error')
        transform(sample(clean, label_id_table=GTA5_LABEL_ID_TABLE))
    unknown = np.array([[7, 34, 34, 200]] * 2, np.uint8)
    with pytest.warns(UserWarning) as record:
        for i in range(3):
            out = transform(sample(unknown, f'0000{i + 1}.png',
                                   label_id_table=GTA5_LABEL_ID_TABLE))
            np.testing.assert_array_equal(out['gt_seg_map'],
                                          [[0, 255, 255, 255]] * 2)
    messages = [str(w.message) for w in record]
    assert len(messages) == 1
    assert re.search(r'labels/00001.png: label id\(s\) 34 \(4 px\), 200 '
                     r'\(2 px\) are not in the Cityscapes label table.*'
                     'counted', messages[0])
    stats = transform.unknown_label_ids
    assert stats['files'] == 3 and stats['pixels'] == {34: 12, 200: 6}
    assert stats['examples'][0].endswith('labels/00001.png')
    assert transform.unknown_label_ids_summary().startswith(
        "3 label file(s) held label ids outside their dataset's label table "
        '(mapped to 255): 34 (12 px), 200 (6 px); e.g. ')


def test_loader_passes_an_image_without_label_file_through():
    # mmseg's inference APIs keep this step (they drop only a step named
    # LoadAnnotations) and give it an image alone
    sample = dict(img=np.zeros((4, 4, 3), np.uint8), ori_shape=(4, 4))
    out = load(dict(sample))
    assert out.keys() == sample.keys() and out['img'] is sample['img']
