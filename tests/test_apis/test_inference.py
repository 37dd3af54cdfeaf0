"""ibnseg.apis without a model: finding images, output names, label
formats and reading a config's classes (batches: tests/e2e/test_infer.py)."""
import os
import os.path as osp

import numpy as np
import pytest
from mmengine.config import Config
from PIL import Image

from ibnseg.apis import (ImageInputError, check_label_format, find_images,
                         inference_dataset_meta, to_label_format)
from ibnseg.datasets.labels import CLASSES, PALETTE
from tests.helpers.datasets import OFFICIAL_LABEL_IDS


def _make(root, files):
    for rel in files:
        path = root / rel
        os.makedirs(path.parent, exist_ok=True)
        if rel.endswith('.txt'):
            path.write_text('not an image')
        elif rel.startswith('fake'):
            path.write_bytes(b'not a png at all')
        else:  # the format follows the ending
            Image.new('RGB', (8, 6), (10, 20, 30)).save(path)


PHOTOS = ['photos/b/2.png', 'photos/a/1.JPG', 'photos/a/0.jpeg',
          'photos/c.png', 'photos/b/.hidden.png', 'photos/.cache/x.png',
          'photos/notes.txt']
SETS = ['set/a/1.png', 'set/b/2.png', 'set/b/3.jpg', 'other/4.png']


@pytest.mark.parametrize('files, arguments, names', [
    # folders: recursive, sorted, hidden files and other endings skipped
    (PHOTOS, ['photos'], ['a/0', 'a/1', 'b/2', 'c']),
    # files from two folders keep their folders; one file is its stem, once
    (['a/x.png', 'b/x.png'], ['a/x.png', 'b/x.png'], ['a/x', 'b/x']),
    (['a/x.png'], ['a/x.png', 'a/x.png'], ['x']),
    # a pattern mirrors paths below its fixed part; folders it matches
    # give their images
    (SETS, ['set/**/*.png'], ['a/1', 'b/2']),
    (SETS, ['s*'], ['set/a/1', 'set/b/2', 'set/b/3']),
    (['folder/sub/x.png', 'globbed/y.png', 'single/b_leftImg8bit.png'],
     ['folder', 'globbed/*.png', 'single/b_leftImg8bit.png'],
     ['folder/sub/x', 'globbed/y', 'single/b_leftImg8bit']),
    (['imgs/a.png'], ['imgs/*.png', 'imgs'], ['a']),
    # an earlier run's outputs (--out photos/seg) are not taken as inputs
    (['photos/a.png', 'photos/seg/pred/a.png', 'photos/seg/vis/a.png',
      'photos/seg/other.png'], ['photos'], ['a', 'seg/other']),
    (['photos/a.png', 'photos/seg/pred/a.png', 'photos/seg/other.png'],
     ['photos/**/*.png'], ['a', 'seg/other']),
])
def test_images_and_their_output_names(tmp_path, monkeypatch, files,
                                       arguments, names):
    _make(tmp_path, files)
    monkeypatch.chdir(tmp_path)
    absolute = [str(tmp_path / a) for a in arguments]
    for given in (arguments, absolute):
        images = find_images(given, exclude=[
            osp.join('photos', 'seg', d) for d in ('pred', 'vis')])
        assert [i.name for i in images] == [osp.join(*n.split('/'))
                                            for n in names]
        for image in images:
            assert osp.splitext(image.path)[0].endswith(image.name)
            assert osp.isabs(image.path) == (given is absolute)


@pytest.mark.parametrize('files, arguments, message', [
    ([], ['missing.png'], 'missing.png: no such file or folder'),
    (['empty/readme.txt'], ['empty'], 'empty: no image in this folder'),
    ([], ['*.gif'], r'\*.gif: the pattern matches no image'),
    (['fake.png'], ['fake.png'], 'fake.png: not a readable image'),
    (['d/x.png', 'd/x.jpg'], ['d'], r'would both be written as d.x\.png'),
    ([], [], 'no image given'),
])
def test_arguments_naming_no_image_are_errors_naming_them(
        tmp_path, monkeypatch, files, arguments, message):
    _make(tmp_path, ['fine.png', *files])
    monkeypatch.chdir(tmp_path)
    with pytest.raises(ImageInputError, match=message):
        find_images((['fine.png'] if arguments else []) + arguments)


def test_label_formats_against_the_official_table():
    pred = np.array([[*range(19), 255]])
    # the ignore index has no label id: 0 ('unlabeled'), never scored
    for label_format, expected in [('trainid', pred),
                                   ('labelid', [[*OFFICIAL_LABEL_IDS, 0]])]:
        label = to_label_format(pred, label_format)
        assert label.dtype == np.uint8
        np.testing.assert_array_equal(label, expected)
    with pytest.raises(ValueError, match=r"label format 'colour': expected "
                       r"one of \('trainid', 'labelid'\)"):
        to_label_format(pred, 'colour')
    with pytest.raises(ValueError, match=r'holds 0\.\.255; the prediction '
                       r'has values 0\.\.256'):
        to_label_format(np.array([[0, 256]]), 'trainid')


def _write_config(path, body):
    path.write_text(body)
    return Config.fromfile(str(path))


PIPELINE = ("test_pipeline = [dict(type='LoadImageFromFile'), "
            "dict(type='PackSegInputs')]\n")


def test_dataset_meta_comes_from_the_configs_dataset(tmp_path):
    cfg = _write_config(tmp_path / 'cfg.py', PIPELINE + (
        "model = dict(decode_head=dict(num_classes=19))\n"
        "test_dataloader = dict(dataset=dict(type='ConcatDataset', datasets=["
        "dict(type='GTA5Dataset'), dict(type='CityscapesDataset')]))\n"))
    assert inference_dataset_meta(cfg) == dict(classes=CLASSES,
                                               palette=PALETTE)
    # a class subset keeps its classes' colours
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


def test_a_link_to_an_ancestor_folder_is_walked_once(tmp_path):
    _make(tmp_path, ['photos/sub/a.png'])
    os.symlink(tmp_path / 'photos', tmp_path / 'photos' / 'sub' / 'loop')
    assert [i.name for i in find_images([str(tmp_path / 'photos')])] == [
        osp.join('sub', 'a')]
