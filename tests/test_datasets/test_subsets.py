import numpy as np
import pytest

from ibnseg.datasets.subsets import (read_id_list, select_subset,
                                     subset_size, write_id_list)

NAMES = [f'{i:05d}' for i in range(1, 101)]


def test_subset_is_the_documented_permutation_prefix_of_the_sorted_names():
    order = np.random.default_rng(7).permutation(len(NAMES))[:20]
    expected = sorted(NAMES[i] for i in order)
    shuffled = list(np.random.default_rng(5).permutation(NAMES))
    assert select_subset(shuffled, count=20, seed=7) == expected
    assert select_subset(NAMES, count=20, seed=8) != expected


def test_smaller_fractions_nest_in_larger_ones():
    small = set(select_subset(NAMES, fraction=0.1, seed=3))
    large = set(select_subset(NAMES, fraction=0.5, seed=3))
    assert small < large
    assert select_subset(NAMES, fraction=1.0, seed=3) == NAMES


@pytest.mark.parametrize('total,fraction,expected', [(100, 0.1, 10),
                                                     (5, 0.5, 3), (5, 0.01, 1),
                                                     (3, 1.0, 3)])
def test_subset_size_rounding(total, fraction, expected):
    assert subset_size(total, fraction=fraction) == expected


@pytest.mark.parametrize('kwargs,match', [
    (dict(), 'exactly one'),
    (dict(fraction=0.5, count=2), 'exactly one'),
    (dict(fraction=0), 'fraction'),
    (dict(fraction=1.5), 'fraction'),
    (dict(count=0), 'count'),
    (dict(count=11), r'1\.\.10'),
    (dict(count=2.5), 'count'),
])
def test_bad_subset_options(kwargs, match):
    with pytest.raises(ValueError, match=match):
        subset_size(10, **kwargs)


def test_id_list_round_trip_and_errors(tmp_path):
    path = write_id_list(str(tmp_path / 'ids.txt'), ['b', 'a'])
    assert read_id_list(path) == ['b', 'a']
    (tmp_path / 'c.txt').write_text('# comment\n\n00001\n 00002 \n')
    assert read_id_list(str(tmp_path / 'c.txt')) == ['00001', '00002']
    with pytest.raises(FileNotFoundError, match='split file .*nope.txt'):
        read_id_list(str(tmp_path / 'nope.txt'), what='split file')
    (tmp_path / 'empty.txt').write_text('\n# nothing\n')
    with pytest.raises(ValueError, match='empty.txt is empty'):
        read_id_list(str(tmp_path / 'empty.txt'))
    (tmp_path / 'dup.txt').write_text('1\n2\n1\n')
    with pytest.raises(ValueError, match="dup.txt.*twice.*'1'"):
        read_id_list(str(tmp_path / 'dup.txt'))
