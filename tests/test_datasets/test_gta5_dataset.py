import os
import warnings
from functools import partial

import numpy as np
import pytest

from ibnseg.datasets.label_conversion import convert_label_file
from ibnseg.datasets.layouts import gta5_paths, save_png_atomic
from ibnseg.datasets.skip_report import SkippedSample, write_skip_report
from ibnseg.datasets.subsets import read_id_list
from tests.helpers.data_factory import (gta5_label_path, make_gta5,
                                        truncate_file, write_split_file)
from tests.helpers.datasets import build as build_dataset, gt_of, names

build = partial(build_dataset, 'GTA5Dataset')


def test_raw_label_ids_are_mapped_where_no_converted_file_exists(tmp_path):
    gta = make_gta5(tmp_path / 'gta5', num_images=3)
    # frame 2's converted file deliberately differs from its raw labels, so
    # the test sees which file was read
    convert_label_file(
        gta5_label_path(gta.root, 1), gta5_label_path(gta.root, 1, True))
    marker = gta5_label_path(gta.root, 2, True)
    save_png_atomic(marker, np.full((32, 64), 5, np.uint8))
    dataset = build(gta.root)
    assert names(dataset) == gta.ids
    raw = ['label_id_table' in dataset.get_data_info(i) for i in range(3)]
    assert raw == [False, False, True]
    assert dataset.get_data_info(2)['label_id_table'].reject == ()
    for i, stem in enumerate(gta.ids):
        expected = np.full((32, 64), 5) if stem == '00002' \
            else gta.train_ids(stem)
        np.testing.assert_array_equal(gt_of(dataset[i]), expected)
        assert dataset[i]['data_samples'].metainfo['domain'] == 'test'
    forced_raw = build(gta.root, label_format='label_ids')
    np.testing.assert_array_equal(gt_of(forced_raw[1]),
                                  gta.train_ids('00002'))
    with pytest.raises(FileNotFoundError,
                       match=r'1 label file.*00003_labelTrainIds.png'):
        build(gta.root, label_format='train_ids')


@pytest.mark.slow
def test_raw_labels_need_the_label_id_loader_in_pipeline(tmp_path):
    # mmseg's plain LoadAnnotations would train on raw ids: refused as soon
    # as any frame of the dataset has only label ids
    gta = make_gta5(tmp_path / 'gta5', num_images=2)
    convert_label_file(
        gta5_label_path(gta.root, 1), gta5_label_path(gta.root, 1, True))
    plain = [
        dict(type='LoadImageFromFile'),
        dict(type='LoadAnnotations'),
        dict(type='PackSegInputs')
    ]
    with pytest.raises(ValueError,
                       match=r'^GTA5Dataset: 1 of 2 samples have only '
                       r'label-id files \("\*\.png"\).*'
                       r"dict\(type='LoadLabelIdAnnotations'\)"):
        build(gta.root, pipeline=plain)
    # also inside TestTimeAug
    with pytest.raises(ValueError, match='1 of 2 samples'):
        build(gta.root, pipeline=[
            dict(type='LoadImageFromFile'),
            dict(type='TestTimeAug', transforms=[[
                dict(type='LoadAnnotations')], [dict(type='PackSegInputs')]])
        ])
    # converted files alone are mmseg's own route
    convert_label_file(
        gta5_label_path(gta.root, 2), gta5_label_path(gta.root, 2, True))
    converted = build(gta.root, pipeline=plain)
    for i, stem in enumerate(gta.ids):
        np.testing.assert_array_equal(gt_of(converted[i]),
                                      gta.train_ids(stem))


def test_split_file_selects_frames_that_exist(tmp_path):
    gta = make_gta5(tmp_path / 'gta5', num_images=5)
    split = write_split_file(tmp_path / 'train.txt', ['4', '00002'])
    assert names(build(gta.root, split=split)) == ['00004', '00002']
    split = write_split_file(tmp_path / 'train.txt', ['1', '77'])
    with pytest.raises(FileNotFoundError,
                       match=r'1 image file.*images/00077.png'):
        build(gta.root, split=split)
    with pytest.raises(FileNotFoundError,
                       match='nope.txt.*tools/gta5_split_from_mat.py'):
        build(gta.root, split=str(tmp_path / 'nope.txt'))
    dup = write_split_file(tmp_path / 'dup.txt', ['1', '00001'])
    with pytest.raises(ValueError, match='names a frame twice.*as numbers'):
        build(gta.root, split=dup)
    # entries are joined to images/ and labels/: '../' or an absolute path
    # would read another folder's files (here a complete pair)
    make_gta5(tmp_path / 'elsewhere', num_images=2)
    outside = str(tmp_path / 'elsewhere' / 'images' / '00002')
    for entry in ('../../elsewhere/images/00002', outside, '1/../../x'):
        split = write_split_file(os.path.join(gta.root, 'splits', 't.txt'),
                                 ['# train frames', '1', '', entry])
        with pytest.raises(ValueError) as error:
            build(gta.root, split='splits/t.txt')
        assert str(error.value).startswith(
            f'GTA5Dataset split file {split}, line 4: {entry!r} leads '
            "outside the dataset's folders")


def test_unlisted_broken_pairs_fail_with_file_names(tmp_path):
    # what the first pass (test_first_pass.py) finds at construction also
    # fails, naming the files, when loaded without it
    gta = make_gta5(
        tmp_path / 'gta5', num_images=5, mismatched=[2], corrupt_images=[3],
        missing_labels=[4], corrupt_labels=[5])
    truncate_file(gta5_paths(gta.root, 1)[1], 0.3)
    with pytest.raises(FileNotFoundError, match=r'labels/00004'):
        build(gta.root)
    dataset = build(gta.root, first_pass=False, split=write_split_file(
        tmp_path / 's.txt', ['1', '2', '3', '5']))
    with pytest.raises(RuntimeError,
                       match=r'images/00002.png.*67x34.*expected the same'):
        dataset[1]
    with pytest.raises(RuntimeError,
                       match=r'cannot load sample 2 \(image .*00003.png'):
        dataset[2]
    for i, frame in ((0, 1), (3, 5)):  # a truncated and a corrupt label
        with pytest.raises(RuntimeError,
                           match=rf'labels/0000{frame}.png.*Expected'):
            dataset[i]


@pytest.mark.slow
def test_subset_is_seeded_saved_and_chosen_before_the_skip_report(
        tmp_path):
    gta = make_gta5(tmp_path / 'gta5', num_images=10, size=(8, 8))
    out = str(tmp_path / 'subset.txt')
    dataset = build(gta.root, subset=dict(fraction=0.3, seed=1, save_to=out))
    chosen = names(dataset)
    assert len(chosen) == 3
    assert read_id_list(out) == chosen
    assert names(build(gta.root, subset=dict(count=3, seed=1))) == chosen
    assert names(build(gta.root, subset=dict(count=3, seed=2))) != chosen
    write_skip_report(
        os.path.join(gta.root, 'skipped_pairs.tsv'),
        [SkippedSample(chosen[0], 'missing_label')])
    with pytest.warns(UserWarning, match='skipping 1 of 3 samples listed '
                      'as broken in the skip report .*skipped_pairs.tsv'):
        assert names(build(gta.root, subset=dict(count=3,
                                                 seed=1))) == chosen[1:]
    with warnings.catch_warnings():
        warnings.simplefilter('error')  # None: no report is read
        assert len(build(gta.root, skip_report=None)) == 10
