from functools import partial

import numpy as np
import pytest

from ibnseg.datasets.layouts import save_png_atomic
from tests.helpers.data_factory import make_acdc
from tests.helpers.datasets import gt_of, official_lut
from tests.test_datasets.util import build as build_dataset

build = partial(build_dataset, 'ACDCDataset')


@pytest.mark.slow
@pytest.mark.parametrize('label_format', ['train_ids', 'label_ids'])
def test_conditions_load_labels_as_cityscapes_train_ids(tmp_path,
                                                        label_format):
    acdc = make_acdc(tmp_path / 'acdc', ('fog', 'snow'), {'val': 2,
                                                          'train': 1})
    lut = official_lut()  # cityscapesscripts' table, not ibnseg's
    for condition in ('fog', 'snow'):
        dataset = build(acdc.root, condition=condition,
                        label_format=label_format)
        group = f'{condition}/val'
        assert [dataset.get_data_info(i)['sample_name']
                for i in range(len(dataset))] == acdc.names[group]
        for i, name in enumerate(acdc.names[group]):
            raw = 'label_id_table' in dataset.get_data_info(i)
            assert raw == (label_format == 'label_ids')
            np.testing.assert_array_equal(
                gt_of(dataset[i]), lut[acdc.labels[f'{group}/{name}']])


def test_label_ids_holding_255_are_refused(tmp_path):
    acdc = make_acdc(tmp_path / 'acdc', ('rain', ), with_train_ids=False)
    name = acdc.names['rain/val'][0]
    save_png_atomic(acdc.label_paths[f'rain/val/{name}'],
                    np.full((27, 48), 255, np.uint8))
    with pytest.raises(RuntimeError, match='trainId map'):
        build(acdc.root, condition='rain')[0]
