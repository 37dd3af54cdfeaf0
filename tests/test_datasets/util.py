"""What the dataset tests share: the mmseg scope, building a dataset on
generated data with the test pipeline, and its sample names."""
from mmengine.registry import init_default_scope
from mmseg.registry import DATASETS

import ibnseg  # noqa: F401
from tests.helpers.datasets import TEST_PIPELINE

init_default_scope('mmseg')


def build(type, root, **kwargs):
    # mmengine's serialization runs a full gc.collect per dataset
    kwargs.setdefault('serialize_data', False)
    kwargs.setdefault('pipeline', TEST_PIPELINE)
    return DATASETS.build(dict(type=type, data_root=str(root), **kwargs))


def names(dataset):
    return [
        dataset.get_data_info(i)['sample_name'] for i in range(len(dataset))
    ]
