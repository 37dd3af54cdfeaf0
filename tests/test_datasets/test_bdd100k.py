from functools import partial

import numpy as np
import pytest

from tests.helpers.data_factory import make_bdd100k
from tests.helpers.datasets import build as build_dataset, gt_of, names

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
