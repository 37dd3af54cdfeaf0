import numpy as np
import pytest
from mmseg.registry import TRANSFORMS

import ibnseg  # noqa: F401
from tests.test_datasets.helpers import official_lut

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
    out = TRANSFORMS.build(dict(type='MapLabelIds'))(results(ALL_IDS, **extra))
    np.testing.assert_array_equal(out['gt_seg_map'], ALL_IDS)


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
