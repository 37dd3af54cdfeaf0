import os
import warnings
from functools import partial

import numpy as np
import pytest

from ibnseg.datasets.skip_report import SkippedSample, write_skip_report
from tests.helpers.data_factory import make_bdd100k, truncate_file
from tests.helpers.datasets import gt_of
from tests.test_datasets.util import build as build_dataset, names

build = partial(build_dataset, 'BDD100KSegDataset')


@pytest.mark.parametrize('layout', ['10k', 'seg'])
def test_both_layouts_found_and_labels_are_the_train_ids(tmp_path, layout):
    bdd = make_bdd100k(tmp_path / 'bdd', layout, {'train': 2, 'val': 3})
    for split in ('train', 'val'):
        dataset = build(bdd.root, split=split)
        assert dataset.layout == layout
        assert names(dataset) == bdd.names[split]
        assert len(dataset.METAINFO['classes']) == 19
        for i, name in enumerate(bdd.names[split]):
            np.testing.assert_array_equal(
                gt_of(dataset[i]), bdd.labels[f'{split}/{name}'])
    # the other layout, named, is looked for and not found
    other = {'10k': 'seg', 'seg': '10k'}[layout]
    with pytest.raises(FileNotFoundError, match=f"layout '{other}'"):
        build(bdd.root, split='val', layout=other)


def test_broken_pairs_skipped_and_reported(tmp_path):
    bdd = make_bdd100k(tmp_path / 'bdd', '10k', {'train': 4})
    broken, listed = bdd.names['train'][1], bdd.names['train'][2]
    truncate_file(bdd.image_paths[f'train/{broken}'])
    write_skip_report(str(tmp_path / 'bdd' / 'skipped.tsv'),
                      [SkippedSample(listed, 'size_mismatch', 'test')])
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter('always')
        dataset = build(bdd.root, split='train', skip_report='skipped.tsv')
    assert names(dataset) == [
        n for n in bdd.names['train'] if n not in (broken, listed)
    ]
    messages = ' '.join(str(w.message) for w in caught)
    assert 'skip report' in messages and 'first-pass' in messages
    assert dataset.first_pass_skipped[0].sample_id == broken
    assert os.path.isfile(tmp_path / 'bdd' / 'first_pass_skipped.tsv')
