"""ibnseg.apis without a model: finding images, output names, label
formats, reading a config's classes and grouping images into batches."""
import os
import os.path as osp

import numpy as np
import pytest
from mmengine.config import Config
from PIL import Image

from ibnseg.apis import (ImageInputError, InputImage, check_label_format,
                         find_images, inference_dataset_meta,
                         to_label_format)
from ibnseg.apis.inference import _batches, _glob_root

#: Cityscapes label id of each trainId, typed in from the official table
#: (cityscapesscripts' labels.py), not taken from ibnseg.
OFFICIAL_LABEL_IDS = (7, 8, 11, 12, 13, 17, 19, 20, 21, 22, 23, 24, 25, 26,
                      27, 28, 31, 32, 33)


def _png(path, size=(8, 6)):
    """A ``size`` = (width, height) RGB PNG at ``path``."""
    os.makedirs(osp.dirname(path), exist_ok=True)
    Image.new('RGB', size, (10, 20, 30)).save(path)
    return str(path)


def _names(images):
    return [image.name for image in images]


def test_a_folder_is_searched_recursively_and_sorted(tmp_path):
    root = tmp_path / 'photos'
    for rel in ['b/2.png', 'a/1.JPG', 'a/0.jpeg', 'c.png', 'b/.hidden.png',
                '.cache/x.png', 'notes.txt']:
        if rel.endswith('.txt'):
            (root / rel).write_text('not an image')
        elif rel.endswith('.JPG') or rel.endswith('.jpeg'):
            os.makedirs(osp.dirname(root / rel), exist_ok=True)
            Image.new('RGB', (4, 4)).save(root / rel, format='JPEG')
        else:
            _png(root / rel)
    images = find_images([str(root)])
    assert _names(images) == [
        osp.join('a', '0'), osp.join('a', '1'), osp.join('b', '2'), 'c']
    assert images[0].path == osp.join(str(root), 'a', '0.jpeg')


def test_files_from_two_folders_keep_their_folders(tmp_path):
    first = _png(tmp_path / 'a' / 'x.png')
    second = _png(tmp_path / 'b' / 'x.png')
    assert _names(find_images([first, second])) == [
        osp.join('a', 'x'), osp.join('b', 'x')]
    # one file alone is just its stem; given twice it is segmented once
    assert find_images([first, first]) == [InputImage(first, 'x')]


def test_a_glob_expands_below_its_fixed_part(tmp_path):
    for rel in ['set/a/1.png', 'set/b/2.png', 'set/b/3.jpg', 'other/4.png']:
        _png(tmp_path / rel)
    pattern = str(tmp_path / 'set' / '**' / '*.png')
    assert _glob_root(pattern) == str(tmp_path / 'set')
    assert _names(find_images([pattern])) == [
        osp.join('a', '1'), osp.join('b', '2')]
    # a pattern matching folders takes their images
    assert _names(find_images([str(tmp_path / 's*')])) == [
        osp.join('set', 'a', '1'), osp.join('set', 'b', '2'),
        osp.join('set', 'b', '3')]


def test_mixed_arguments_mirror_paths_below_their_common_folder(tmp_path):
    _png(tmp_path / 'folder' / 'sub' / 'x.png')
    _png(tmp_path / 'globbed' / 'y.png')
    single = _png(tmp_path / 'single' / 'berlin_000000_000019_leftImg8bit.png')
    images = find_images([
        str(tmp_path / 'folder'), str(tmp_path / 'globbed' / '*.png'), single
    ])
    assert _names(images) == [
        osp.join('folder', 'sub', 'x'), osp.join('globbed', 'y'),
        osp.join('single', 'berlin_000000_000019_leftImg8bit')]


def test_relative_arguments_work_from_the_current_folder(tmp_path,
                                                         monkeypatch):
    _png(tmp_path / 'imgs' / 'a.png')
    monkeypatch.chdir(tmp_path)
    images = find_images(['imgs/*.png', 'imgs'])
    assert images == [InputImage(osp.join('imgs', 'a.png'), 'a')]


@pytest.mark.parametrize('argument, message', [
    ('missing.png', 'missing.png: no such file or folder'),
    ('empty', 'empty: no image in this folder'),
    ('*.gif', '*.gif: the pattern matches no image'),
])
def test_an_argument_naming_no_image_is_an_error_naming_it(
        tmp_path, monkeypatch, argument, message):
    monkeypatch.chdir(tmp_path)
    _png(tmp_path / 'fine.png')
    (tmp_path / 'empty').mkdir()
    (tmp_path / 'empty' / 'readme.txt').write_text('no images here')
    with pytest.raises(ImageInputError, match=message.replace('*', r'\*')):
        find_images(['fine.png', argument])


def test_a_file_that_is_no_image_fails_before_any_model(tmp_path):
    fake = tmp_path / 'fake.png'
    fake.write_bytes(b'not a png at all')
    with pytest.raises(ImageInputError, match='fake.png: not a readable'):
        find_images([str(fake)])


def test_two_images_with_one_output_name_are_refused(tmp_path):
    _png(tmp_path / 'x.png')
    Image.new('RGB', (4, 4)).save(tmp_path / 'x.jpg')
    with pytest.raises(ImageInputError, match=r'would both be written as '
                       r'x\.png'):
        find_images([str(tmp_path)])


def test_label_formats_against_the_official_table():
    pred = np.arange(19, dtype=np.int64).reshape(1, 19).repeat(3, axis=0)
    assert to_label_format(pred, 'trainid').dtype == np.uint8
    np.testing.assert_array_equal(to_label_format(pred, 'trainid'), pred)
    label_ids = to_label_format(pred, 'labelid')
    assert label_ids.dtype == np.uint8
    np.testing.assert_array_equal(
        label_ids, np.array(OFFICIAL_LABEL_IDS)[pred])
    # the ignore index has no label id: 0 ('unlabeled'), never scored
    assert to_label_format(np.array([[255]]), 'labelid')[0, 0] == 0
    with pytest.raises(ValueError, match='label format'):
        to_label_format(pred, 'colour')


def _write_config(path, body):
    path.write_text(body)
    return Config.fromfile(str(path))


PIPELINE = ("test_pipeline = [dict(type='LoadImageFromFile'), "
            "dict(type='PackSegInputs')]\n")


def test_dataset_meta_comes_from_the_configs_dataset(tmp_path):
    from ibnseg.datasets.labels import CLASSES, PALETTE
    cfg = _write_config(tmp_path / 'cfg.py', PIPELINE + (
        "model = dict(decode_head=dict(num_classes=19))\n"
        "test_dataloader = dict(dataset=dict(type='ConcatDataset', datasets=["
        "dict(type='GTA5Dataset'), dict(type='CityscapesDataset')]))\n"))
    meta = inference_dataset_meta(cfg)
    assert meta['classes'] == CLASSES
    assert meta['palette'] == PALETTE


def test_a_class_subset_keeps_its_classes_colours(tmp_path):
    from ibnseg.datasets.labels import PALETTE
    cfg = _write_config(tmp_path / 'cfg.py', PIPELINE + (
        "model = dict(decode_head=dict(num_classes=2))\n"
        "test_dataloader = dict(dataset=dict(type='CityscapesDataset', "
        "metainfo=dict(classes=('car', 'road'))))\n"))
    meta = inference_dataset_meta(cfg)
    assert meta == dict(classes=('car', 'road'),
                        palette=[PALETTE[13], PALETTE[0]])
    with pytest.raises(ValueError, match='labelid .* 19 Cityscapes classes'):
        check_label_format('labelid', meta['classes'])
    check_label_format('trainid', meta['classes'])


@pytest.mark.parametrize('body, message', [
    ("model = dict(decode_head=dict(num_classes=19))\n"
     "test_dataloader = dict(dataset=dict(type='CityscapesDataset'))\n",
     "no test_pipeline. mmseg's inference_model reads a top-level "
     'test_pipeline'),
    (PIPELINE + "model = dict(decode_head=dict(num_classes=7))\n"
     "test_dataloader = dict(dataset=dict(type='CityscapesDataset'))\n",
     r'the model predicts 7 classes \(decode_head.num_classes\) but its '
     'dataset CityscapesDataset has 19'),
    ("test_pipeline = [dict(type='PackSegInputs')]\n"
     "model = dict(decode_head=dict(num_classes=19))\n",
     'test_pipeline has no LoadImageFromFile'),
])
def test_a_config_that_cannot_serve_inference_is_named(tmp_path, body,
                                                       message):
    cfg = _write_config(tmp_path / 'my_cfg.py', body)
    with pytest.raises(ValueError, match=r'config \S*my_cfg.py: ' + message):
        inference_dataset_meta(cfg)


def test_batches_hold_consecutive_images_of_one_size(tmp_path):
    sizes = [(8, 6), (8, 6), (8, 6), (6, 6), (8, 6)]
    images = [
        InputImage(_png(tmp_path / f'{i}.png', size), str(i))
        for i, size in enumerate(sizes)
    ]
    batches = [[image.name for image, _ in batch]
               for batch in _batches(images, batch_size=2)]
    assert batches == [['0', '1'], ['2'], ['3'], ['4']]
    first = next(_batches(images, batch_size=1))
    assert first[0][1].shape == (6, 8, 3)  # decoded RGB, HxWx3


def test_output_folders_are_not_taken_as_inputs(tmp_path):
    """``photos/ --out photos/seg`` run twice: the second run must not
    segment the first run's label maps and overlays."""
    _png(tmp_path / 'photos' / 'a.png')
    _png(tmp_path / 'photos' / 'seg' / 'pred' / 'a.png')
    _png(tmp_path / 'photos' / 'seg' / 'vis' / 'a.png')
    _png(tmp_path / 'photos' / 'seg' / 'other.png')
    out = tmp_path / 'photos' / 'seg'
    exclude = [str(out / 'pred'), str(out / 'vis')]
    assert _names(find_images([str(tmp_path / 'photos')],
                              exclude=exclude)) == [
        'a', osp.join('seg', 'other')]
    pattern = str(tmp_path / 'photos' / '**' / '*.png')
    assert _names(find_images([pattern], exclude=exclude)) == [
        'a', osp.join('seg', 'other')]


def test_a_link_to_an_ancestor_folder_is_walked_once(tmp_path):
    _png(tmp_path / 'photos' / 'sub' / 'a.png')
    os.symlink(tmp_path / 'photos', tmp_path / 'photos' / 'sub' / 'loop')
    assert _names(find_images([str(tmp_path / 'photos')])) == [
        osp.join('sub', 'a')]
