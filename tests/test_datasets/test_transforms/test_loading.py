import re
import warnings

import numpy as np
import pytest
from mmseg.registry import TRANSFORMS

import ibnseg  # noqa: F401
from ibnseg.datasets.layouts import save_png_atomic
from tests.helpers.datasets import official_lut

ALL_IDS = np.arange(256, dtype=np.uint8).reshape(16, 16)


def results(seg_map, **extra):
    return dict(
        gt_seg_map=seg_map.copy(),
        seg_map_path='labels/00001.png',
        img_path='images/00001.png',
        ori_shape=seg_map.shape[:2],
        **extra)


def test_maps_label_ids_per_official_table():
    out = TRANSFORMS.build(dict(type='MapLabelIds'))(
        results(ALL_IDS, seg_map_format='label_ids'))
    np.testing.assert_array_equal(out['gt_seg_map'],
                                  official_lut()[ALL_IDS])


@pytest.mark.parametrize('extra', [dict(seg_map_format='train_ids'), {}])
def test_train_ids_pass_through(extra):
    train_ids = np.where(ALL_IDS < 19, ALL_IDS, 255).astype(np.uint8)
    out = TRANSFORMS.build(dict(type='MapLabelIds'))(
        results(train_ids, **extra))
    np.testing.assert_array_equal(out['gt_seg_map'], train_ids)


def test_size_mismatch_names_both_files():
    res = results(ALL_IDS, seg_map_format='label_ids')
    res['ori_shape'] = (16, 20)
    with pytest.raises(ValueError,
                       match=r'labels/00001.png.*16x16.*00001.png is 20x16'):
        TRANSFORMS.build(dict(type='MapLabelIds'))(res)
    out = TRANSFORMS.build(dict(type='MapLabelIds', check_size=False))(res)
    assert out['gt_seg_map'].shape == (16, 16)


def test_bad_inputs():
    transform = TRANSFORMS.build(dict(type='MapLabelIds'))
    with pytest.raises(KeyError, match='after LoadAnnotations'):
        transform(dict(seg_map_path='a.png'))
    with pytest.raises(ValueError, match='single-channel'):
        transform(results(np.zeros((4, 4, 3), np.uint8)))
    with pytest.raises(ValueError, match="'rgb'"):
        transform(results(ALL_IDS, seg_map_format='rgb'))


def test_train_ids_outside_0_18_fail_naming_file_and_values():
    seg = np.zeros((4, 4), np.uint8)
    seg[0, :2] = 30
    seg[1, 0] = 19
    seg[2, :] = 255
    transform = TRANSFORMS.build(dict(type='MapLabelIds'))
    # declared trainIds, and samples of datasets that only know trainIds
    for extra in (dict(seg_map_format='train_ids'), {}):
        with pytest.raises(ValueError,
                           match=r'labels/00001.png.*19 \(1 px\), 30 \(2 px\)'
                           r'.*0\.\.18 or 255'):
            transform(results(seg, **extra))


def test_train_ids_after_a_class_subset_map():
    # LoadAnnotations has applied mmseg's label_map (old -> new trainId)
    transform = TRANSFORMS.build(dict(type='MapLabelIds'))
    label_map = {i: 255 for i in range(19)}
    label_map.update({0: 0, 13: 1})
    good = np.array([[0, 1, 255]], np.uint8)
    out = transform(results(good, label_map=label_map))
    np.testing.assert_array_equal(out['gt_seg_map'], good)
    with pytest.raises(ValueError, match=r'labels/00001.png.*30 \(1 px\)'):
        transform(results(np.array([[0, 30]], np.uint8), label_map=label_map))


def test_rejected_label_ids_fail_naming_the_file():
    # a Cityscapes _labelIds.png that holds trainIds (255 is no label id)
    seg = np.array([[0, 13, 255, 255]], np.uint8)
    transform = TRANSFORMS.build(dict(type='MapLabelIds'))
    with pytest.raises(ValueError,
                       match=r'labels/00001.png.*255 \(2 px\).*trainId'):
        transform(results(seg, seg_map_format='label_ids',
                          reject_label_ids=(255, )))


def test_unknown_label_ids_warn_once_and_are_counted():
    transform = TRANSFORMS.build(dict(type='MapLabelIds'))
    clean = np.array([[7, 26, 0, 33]], np.uint8)
    with warnings.catch_warnings():
        warnings.simplefilter('error')
        transform(results(clean, seg_map_format='label_ids'))
    unknown = np.array([[7, 34, 34, 200]], np.uint8)
    with pytest.warns(UserWarning) as record:
        for i in range(3):
            res = results(unknown, seg_map_format='label_ids')
            res['seg_map_path'] = f'labels/0000{i + 1}.png'
            out = transform(res)
            np.testing.assert_array_equal(out['gt_seg_map'],
                                          [[0, 255, 255, 255]])
    messages = [str(w.message) for w in record]
    assert len(messages) == 1
    assert re.search(r'labels/00001.png.*34 \(2 px\), 200 \(1 px\)',
                     messages[0])
    assert 'counted' in messages[0]
    stats = transform.unknown_label_ids
    assert stats['files'] == 3 and stats['pixels'] == {34: 6, 200: 3}
    assert stats['examples'][0] == 'labels/00001.png'
    assert '3 label file(s)' in transform.unknown_label_ids_summary()


def label_file(tmp_path, seg_map, **extra):
    """A sample as a dataset lists it, its label saved as a PNG."""
    path = str(tmp_path / 'label.png')
    save_png_atomic(path, seg_map)
    return dict(seg_map_path=path, reduce_zero_label=False, seg_fields=[],
                ori_shape=seg_map.shape, **extra)


def test_loader_reads_maps_and_reports_label_ids(tmp_path):
    loader = TRANSFORMS.build(dict(type='LoadLabelIdAnnotations'))
    ids = np.array([[7, 26, 34, 34], [0, 33, 200, 7]], np.uint8)
    with pytest.warns(UserWarning, match=r'34 \(2 px\), 200 \(1 px\)'):
        out = loader(label_file(tmp_path, ids, seg_map_format='label_ids'))
    np.testing.assert_array_equal(out['gt_seg_map'], official_lut()[ids])
    # what gt_seg_map now holds, and this file's unknown ids, for the
    # dataset to read after its pipeline ran
    assert out['seg_map_format'] == 'train_ids'
    assert out['unknown_label_ids'] == {34: 2, 200: 1}
    assert out['seg_fields'] == ['gt_seg_map']
    assert '1 label file(s)' in loader.unknown_label_ids_summary()
    # a trainId file is only checked, and reports nothing unknown
    train_ids = official_lut()[ids]
    out = loader(label_file(tmp_path, train_ids, seg_map_format='train_ids'))
    np.testing.assert_array_equal(out['gt_seg_map'], train_ids)
    assert out['unknown_label_ids'] == {}
    with pytest.raises(ValueError, match=r'label.png.*26 \(1 px\)'):
        loader(label_file(tmp_path, ids))


def test_loader_applies_a_class_subset_after_mapping(tmp_path):
    # the dataset declares the class subset in trainIds for label-id files
    subset = {i: 255 for i in range(19)}
    subset.update({0: 0, 13: 1})
    # road, car, person, unlabelled (two rows: mmseg squeezes the label)
    ids = np.array([[7, 26, 24, 0]] * 2, np.uint8)
    out = TRANSFORMS.build(dict(type='LoadLabelIdAnnotations'))(label_file(
        tmp_path, ids, seg_map_format='label_ids', label_map=None,
        train_id_label_map=subset))
    np.testing.assert_array_equal(out['gt_seg_map'], [[0, 1, 255, 255]] * 2)


def test_loader_passes_an_image_without_label_file_through():
    # mmseg's inference APIs keep this step (they drop only a step named
    # LoadAnnotations) and give it an image alone
    loader = TRANSFORMS.build(dict(type='LoadLabelIdAnnotations'))
    sample = dict(img=np.zeros((4, 4, 3), np.uint8), ori_shape=(4, 4))
    out = loader(dict(sample))
    assert out.keys() == sample.keys() and out['img'] is sample['img']
