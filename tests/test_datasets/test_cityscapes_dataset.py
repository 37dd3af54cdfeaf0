import os
import re

import numpy as np
import pytest
from mmseg.registry import DATASETS

from tests.helpers.data_factory import make_cityscapes, write_split_file
from tests.helpers.datasets import (TEST_PIPELINE, build as build_dataset,
                                    gt_of, names)


def build(root, split='train', **kwargs):
    return build_dataset(
        'CityscapesLabelIdsDataset', root,
        data_prefix=dict(img_path=f'leftImg8bit/{split}',
                         seg_map_path=f'gtFine/{split}'),
        **kwargs)


def test_label_ids_and_converted_files_give_mmseg_dataset_results(tmp_path):
    cs = make_cityscapes(
        tmp_path / 'cs', splits={'val': 2}, with_train_ids=True)
    ours = build(cs.root, split='val')
    assert 'label_id_table' not in ours.get_data_info(0)
    mmseg_pipeline = [
        dict(t, type='LoadAnnotations')
        if t['type'] == 'LoadLabelIdAnnotations' else t for t in TEST_PIPELINE
    ]
    theirs = DATASETS.build(
        dict(
            type='CityscapesDataset',
            data_root=cs.root,
            data_prefix=dict(img_path='leftImg8bit/val',
                             seg_map_path='gtFine/val'),
            pipeline=mmseg_pipeline))
    raw = build(cs.root, split='val', label_format='label_ids')
    assert names(raw) == cs.names['val']
    # Cityscapes' table: a label-id file holding 255 (a trainId map under
    # the label-id name) is refused (test_loading.py)
    assert raw.get_data_info(0)['label_id_table'].reject == (255, )
    for i in range(2):
        np.testing.assert_array_equal(gt_of(ours[i]), gt_of(theirs[i]))
        np.testing.assert_array_equal(gt_of(raw[i]), gt_of(theirs[i]))
    assert ours.metainfo['classes'] == theirs.metainfo['classes']


def test_ann_file_lists_the_samples_within_the_folders(tmp_path):
    """mmseg joins each ann_file line to leftImg8bit/<split>/ and
    gtFine/<split>/: '../val/...' would train on a validation frame."""
    cs = make_cityscapes(tmp_path / 'cs', splits={'train': 3, 'val': 1})
    ann = write_split_file(tmp_path / 'ann.txt', cs.names['train'][:2])
    assert names(build(cs.root, ann_file=ann)) == cs.names['train'][:2]
    entry = '../val/' + cs.names['val'][0]
    ann = write_split_file(tmp_path / 'ann.txt',
                           [cs.names['train'][0], entry])
    with pytest.raises(ValueError, match=re.escape(
            f'CityscapesLabelIdsDataset ann_file {ann}, line 2: {entry!r} '
            "leads outside the dataset's folders")):
        build(cs.root, ann_file=ann)


def test_a_missing_label_is_named(tmp_path):
    cs = make_cityscapes(tmp_path / 'cs', splits={'train': 2})
    os.remove(cs.label_path('train', cs.names['train'][1]))
    with pytest.raises(FileNotFoundError,
                       match=r'1 label file.*_gtFine_labelTrainIds.png or '
                       r'.*_gtFine_labelIds.png'):
        build(cs.root)


def test_class_subset_applies_to_train_ids_in_both_layouts(tmp_path):
    cs = make_cityscapes(tmp_path / 'cs', splits={'val': 1})
    name = cs.names['val'][0]
    train_ids = cs.train_ids('val', name)
    expected = np.full_like(train_ids, 255)
    expected[train_ids == 0] = 0  # road
    expected[train_ids == 13] = 1  # car
    metainfo = dict(classes=('road', 'car'))
    raw = build(cs.root, split='val', metainfo=metainfo)
    assert 'label_id_table' in raw.get_data_info(0)
    np.testing.assert_array_equal(gt_of(raw[0]), expected)
    make_cityscapes(tmp_path / 'cs', splits={'val': 1}, with_train_ids=True)
    converted = build(cs.root, split='val', metainfo=metainfo)
    assert 'label_id_table' not in converted.get_data_info(0)
    np.testing.assert_array_equal(gt_of(converted[0]), expected)
