"""The datasets' first-pass check: broken pairs found at construction, from
file headers and tails, cached by (path, size, mtime)."""
import json
import os
import os.path as osp
import re
import warnings
from functools import partial

import numpy as np
import pytest
from PIL import Image

from ibnseg.datasets import first_pass
from ibnseg.datasets.layouts import gta5_paths
from ibnseg.datasets.skip_report import read_skip_report
from tests.helpers.data_factory import (claim_png_size, corrupt_file,
                                        make_cityscapes, make_gta5,
                                        truncate_file)
from tests.helpers.datasets import build as build_dataset, gt_of, names


@pytest.fixture(autouse=True)
def cache_home(tmp_path, monkeypatch):
    """The fallback cache folder, inside the test's tmp_path."""
    monkeypatch.setenv('IBNSEG_CACHE', str(tmp_path / 'cache_home'))
    return tmp_path / 'cache_home'


@pytest.fixture
def opened(monkeypatch):
    """The files the first pass opens."""
    opened, real = [], first_pass.inspect_file
    monkeypatch.setattr(first_pass, 'inspect_file',
                        lambda path: opened.append(path) or real(path))
    return opened


build = partial(build_dataset, 'GTA5Dataset')


def test_raw_gta5_broken_pairs_are_skipped_at_construction(tmp_path):
    gta = make_gta5(tmp_path / 'gta5', num_images=6, mismatched=[2])
    img4 = gta5_paths(gta.root, 4)[0]
    label5 = gta5_paths(gta.root, 5)[1]
    truncate_file(img4, 0.6)  # the header still reads
    truncate_file(label5, 0.6)
    with pytest.warns(UserWarning) as record:
        dataset = build(gta.root)
    messages = [str(w.message) for w in record
                if 'skipping' in str(w.message)]
    assert len(messages) == 1
    assert 'skipping 3 of 6 samples' in messages[0]
    assert names(dataset) == ['00001', '00003', '00006']
    for i in range(len(dataset)):
        gt_of(dataset[i])  # nothing left that fails while training
    # the warning names a skip report, in the converter's format
    report_path = re.search(r'report (\S+\.tsv)', messages[0]).group(1)
    report = read_skip_report(report_path)
    assert {k: v.problem for k, v in report.items()} == {
        '00002': 'size_mismatch',
        '00004': 'unreadable_image',
        '00005': 'unreadable_label'
    }
    assert 'image 64x32, label 67x34 (WxH)' in report['00002'].detail
    assert img4 in report['00004'].detail
    assert 'truncated' in report['00005'].detail


@pytest.mark.slow
def test_second_start_reads_the_cache_and_rechecks_changed_files(
        tmp_path, opened):
    gta = make_gta5(tmp_path / 'gta5', num_images=4)
    build(gta.root)
    assert len(opened) == 8  # 4 images, 4 labels
    cache = osp.join(gta.root, first_pass.CACHE_NAME)
    assert osp.isfile(cache)
    assert len(json.load(open(cache))['files']) == 8
    opened.clear()
    with warnings.catch_warnings():
        warnings.simplefilter('error')
        assert len(build(gta.root)) == 4
    assert opened == []  # nothing opened on the second start
    # a file whose size changed is checked again
    label3 = gta5_paths(gta.root, 3)[1]
    truncate_file(label3, 0.5)
    with pytest.warns(UserWarning, match='skipping 1 of 4'):
        assert names(build(gta.root)) == ['00001', '00002', '00004']
    assert opened == [label3]
    # and one whose mtime changed (same size)
    opened.clear()
    img1 = gta5_paths(gta.root, 1)[0]
    stat = os.stat(img1)
    os.utime(img1, ns=(stat.st_atime_ns, stat.st_mtime_ns + 10**9))
    with pytest.warns(UserWarning, match='skipping 1 of 4'):
        build(gta.root)
    assert opened == [img1]


@pytest.mark.slow
def test_cache_goes_to_the_cache_folder_when_the_root_is_not_writable(
        tmp_path, opened, cache_home):
    gta = make_gta5(tmp_path / 'gta5', num_images=2)
    # something that cannot be replaced by a file sits at the cache's path
    os.makedirs(osp.join(gta.root, first_pass.CACHE_NAME))
    build(gta.root)
    cached = [osp.join(parent, n) for parent, _, files in os.walk(cache_home)
              for n in files]
    assert len(cached) == 1 and cached[0].endswith('.json')
    opened.clear()
    build(gta.root)
    assert opened == []


def test_every_pair_broken_is_an_error_unless_turned_off(tmp_path, opened):
    gta = make_gta5(tmp_path / 'gta5', num_images=1, mismatched=[1])
    with pytest.raises(ValueError, match='every sample.*first-pass'):
        build(gta.root)
    os.remove(osp.join(gta.root, first_pass.CACHE_NAME))
    opened.clear()
    with warnings.catch_warnings():
        warnings.simplefilter('error')
        assert len(build(gta.root, first_pass=False)) == 1
    assert opened == []
    assert not osp.exists(osp.join(gta.root, first_pass.CACHE_NAME))


@pytest.mark.parametrize('kind', ['png', 'jpg'])
def test_inspect_file_finds_truncation_from_the_tail(tmp_path, kind):
    path = str(tmp_path / f'a.{kind}')
    rng = np.random.default_rng(0)
    Image.fromarray(rng.integers(0, 256, (40, 30, 3), np.uint8)).save(path)
    # a PNG's bit depth and colour type (8-bit RGB: 2) come with its size
    assert first_pass.inspect_file(path) == (
        (30, 40, '', 8, 2) if kind == 'png' else (30, 40, '', 0, 0))
    truncate_file(path, 0.7)
    width, height, problem = first_pass.inspect_file(path)[:3]
    assert (width, height) == (30, 40) and 'truncated' in problem
    corrupt_file(path)
    assert 'cannot read' in first_pass.inspect_file(path)[2]


def test_images_beyond_the_pixel_budget_are_refused_naming_them(tmp_path):
    """Headers can claim 30000x30000 in a few hundred bytes; decoding such a
    file exhausts the memory. first_pass_max_pixels moves the budget."""
    gta = make_gta5(tmp_path / 'gta5', num_images=3)
    img2, label2, _ = gta5_paths(gta.root, 2)
    for path in (img2, label2):
        claim_png_size(path, 30000, 30000)
    with pytest.raises(ValueError) as error:
        build(gta.root)
    assert str(error.value).startswith(
        f'GTA5Dataset: {img2} is 30000x30000 pixels (WxH, 900.0 megapixels),'
        f' beyond the first-pass budget of {first_pass.DEFAULT_MAX_PIXELS} '
        'pixels')
    assert f'1 more file(s) like it, e.g. {label2}' in str(error.value)
    assert 'first_pass_max_pixels' in str(error.value)
    assert len(build(gta.root, first_pass_max_pixels=None)) == 3
    # the budget is the dataset's option; the cached facts serve it too
    with pytest.raises(ValueError, match=re.escape(
            f'{gta5_paths(gta.root, 1)[0]} is 64x32 pixels')):
        build(gta.root, first_pass_max_pixels=64 * 32 - 1)


@pytest.mark.parametrize('bits', [16, 4])
def test_a_label_of_another_bit_depth_is_refused_naming_it(tmp_path, bits):
    """mmseg's LoadAnnotations casts a 16-bit label to 8 bits and PIL scales
    a 4-bit one (1 becomes 17): the classes would be silently wrong."""
    cs = make_cityscapes(tmp_path / 'cs', splits={'train': 2},
                         with_train_ids=True)
    path = cs.label_path('train', cs.names['train'][1], train_ids=True)
    train_ids = np.array(Image.open(path))
    if bits == 16:
        Image.fromarray(train_ids.astype(np.uint16)).save(path)
    else:
        Image.fromarray(np.minimum(train_ids, 15)).save(path, bits=4)
    with open(path, 'rb') as f:
        assert f.read(25)[24] == bits
    with pytest.raises(ValueError, match=re.escape(
            f'CityscapesLabelIdsDataset: label {path} is a {bits}-bit '
            'grayscale PNG; expected 8 bits per sample')):
        build_dataset('CityscapesLabelIdsDataset', cs.root,
                      data_prefix=dict(img_path='leftImg8bit/train',
                                       seg_map_path='gtFine/train'))
