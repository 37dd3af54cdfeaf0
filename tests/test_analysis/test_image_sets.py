import os.path as osp

import cv2
import numpy as np
import pytest
import torch

import ibnseg  # noqa: F401  (registers the appearance shifts)
from ibnseg.analysis import (ImageSet, iter_image_batches, list_images,
                             resolve_appearance_shift, split_in_halves)
from tests.helpers.analysis import write_images


def test_list_images_is_recursive_and_names_bad_folders(tmp_path):
    write_images(str(tmp_path / 'b'), 2, prefix='x')
    write_images(str(tmp_path / 'a' / 'deep'), 1, prefix='y')
    (tmp_path / 'notes.txt').write_text('not an image')
    paths = list_images(str(tmp_path))
    assert [osp.relpath(p, tmp_path) for p in paths] == [
        osp.join('a', 'deep', 'y_000.png'), osp.join('b', 'x_000.png'),
        osp.join('b', 'x_001.png')]
    with pytest.raises(FileNotFoundError, match='missing.*does not exist'):
        list_images(str(tmp_path / 'missing'))
    (tmp_path / 'empty').mkdir()
    with pytest.raises(ValueError, match='empty: no image in this folder'):
        list_images(str(tmp_path / 'empty'))


def test_halves_are_disjoint_equal_and_seeded():
    paths = [f'img{i}.png' for i in range(11)]
    first, second = split_in_halves(paths, seed=3)
    assert len(first) == len(second) == 5
    assert not set(first) & set(second)
    assert set(first) | set(second) <= set(paths)
    assert split_in_halves(paths, seed=3) == (first, second)
    assert split_in_halves(paths, seed=4) != (first, second)
    with pytest.raises(ValueError, match='at least 4 images'):
        split_in_halves(paths[:3], seed=0)


def test_resolve_appearance_shift_copies_and_rejects_unknown_names():
    shift = resolve_appearance_shift('night0.5')
    shift['strength'] = 0.0
    assert resolve_appearance_shift('night0.5')['strength'] == 0.5
    with pytest.raises(ValueError, match="unknown appearance shift 'fog'.*"
                       'rgb\\+50'):
        resolve_appearance_shift('fog')


def test_batches_are_bgr_chw_uint8_resized(tmp_path):
    paths = write_images(str(tmp_path), 5, size=(56, 40))
    image_set = ImageSet('five', tuple(paths))
    batches = list(iter_image_batches(image_set, batch_size=2))
    assert [len(batch) for batch in batches] == [2, 2, 1]
    first = batches[0][0]
    assert first.dtype == torch.uint8 and first.shape == (3, 40, 56)
    np.testing.assert_array_equal(first.permute(1, 2, 0).numpy(),
                                  cv2.imread(paths[0]))
    resized = next(iter_image_batches(image_set, 2, size=(32, 24)))
    assert resized[0].shape == (3, 24, 32)


def test_shift_is_applied_and_reproducible(tmp_path):
    paths = tuple(write_images(str(tmp_path), 3))
    plain = next(iter_image_batches(ImageSet('plain', paths), 3))
    shifted_set = ImageSet('noisy', paths, shift=resolve_appearance_shift(
        'noise25'))
    shifted = next(iter_image_batches(shifted_set, 3))
    again = next(iter_image_batches(shifted_set, 1))
    assert not torch.equal(shifted[0], plain[0])
    assert torch.equal(shifted[0], again[0])

    # a transform drawing from numpy's global generator is seeded per pass
    distort = ImageSet('distort', paths, shift=dict(
        type='PhotoMetricDistortion'))
    first = next(iter_image_batches(distort, 3, seed=1))
    second = next(iter_image_batches(distort, 3, seed=1))
    other = next(iter_image_batches(distort, 3, seed=2))
    assert all(torch.equal(a, b) for a, b in zip(first, second))
    assert not all(torch.equal(a, b) for a, b in zip(first, other))


def test_bad_images_and_sizes_are_named(tmp_path):
    small = write_images(str(tmp_path), 1, size=(32, 24), prefix='small')
    large = write_images(str(tmp_path), 1, size=(56, 40), prefix='large')
    mixed = ImageSet('mixed', tuple(small + large))
    with pytest.raises(ValueError, match='differ in size.*--size'):
        next(iter_image_batches(mixed, 2))
    assert len(list(iter_image_batches(mixed, 1))) == 2
    assert len(list(iter_image_batches(mixed, 2, size=(16, 16)))) == 1

    broken = tmp_path / 'broken.png'
    broken.write_bytes(b'not a png')
    with pytest.raises(ValueError, match='broken.png'):
        next(iter_image_batches(ImageSet('broken', (str(broken), )), 1))
    with pytest.raises(ValueError, match='batch_size must be >= 1'):
        next(iter_image_batches(mixed, 0))
