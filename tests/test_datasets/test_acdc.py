from functools import partial

import numpy as np
import pytest

from tests.helpers.data_factory import make_acdc
from tests.helpers.datasets import (build as build_dataset, gt_of, names,
                                    official_lut)

build = partial(build_dataset, 'ACDCDataset')


@pytest.mark.slow
@pytest.mark.parametrize('label_format', ['train_ids', 'label_ids'])
def test_conditions_load_labels_as_cityscapes_train_ids(tmp_path,
                                                        label_format):
    acdc = make_acdc(tmp_path / 'acdc', {'val': 2, 'train': 1})
    lut = official_lut()  # cityscapesscripts' table, not ibnseg's
    for condition in ('fog', 'snow'):
        dataset = build(acdc.root, condition=condition,
                        label_format=label_format)
        group = f'{condition}/val'
        assert names(dataset) == acdc.names[group]
        for i, name in enumerate(acdc.names[group]):
            table = dataset.get_data_info(i).get('label_id_table')
            assert (table is not None) == (label_format == 'label_ids')
            # Cityscapes' table: a label-id file holding 255 is refused
            assert table is None or table.reject == (255, )
            np.testing.assert_array_equal(
                gt_of(dataset[i]), lut[acdc.labels[f'{group}/{name}']])
