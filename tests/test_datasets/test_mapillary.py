import json
import os.path as osp
from functools import partial

import numpy as np
import pytest
from PIL import Image

from ibnseg.datasets import CLASSES
from ibnseg.datasets.skip_report import read_skip_report
from tests.helpers.data_factory import make_mapillary
from tests.helpers.datasets import build as build_dataset, gt_of, names
from tests.helpers.tools import load_tool

build = partial(build_dataset, 'MapillaryToCityscapesDataset')


# Mapillary "readable" class name -> Cityscapes class, typed from
# RobustNet's datasets/mapillary.py; every other class is ignored.
EXPECTED = {
    'Road': 'road', 'Lane Marking - General': 'road', 'Manhole': 'road',
    'Curb': 'sidewalk', 'Sidewalk': 'sidewalk', 'Building': 'building',
    'Wall': 'wall', 'Fence': 'fence', 'Pole': 'pole', 'Utility Pole': 'pole',
    'Traffic Light': 'traffic light',
    'Traffic Sign (Front)': 'traffic sign', 'Vegetation': 'vegetation',
    'Terrain': 'terrain', 'Sky': 'sky', 'Person': 'person',
    'Bicyclist': 'rider', 'Motorcyclist': 'rider', 'Other Rider': 'rider',
    'Car': 'car', 'Truck': 'truck', 'Bus': 'bus', 'On Rails': 'train',
    'Motorcycle': 'motorcycle', 'Bicycle': 'bicycle'
}


def expected_train_ids(root, label_ids):
    """trainIds of ``label_ids`` from the data root's own config.json,
    by class name."""
    with open(osp.join(root, 'config.json')) as f:
        labels = json.load(f)['labels']
    lut = np.full(256, 255, np.uint8)
    for label_id, label in enumerate(labels):
        if label['readable'] in EXPECTED:
            lut[label_id] = CLASSES.index(EXPECTED[label['readable']])
    return lut[label_ids]


def test_raw_labels_mapped_by_the_config_files_class_names(tmp_path):
    mv = make_mapillary(tmp_path / 'mv', {'training': 2},
                        sizes=[(40, 56), (48, 40)])
    path = osp.join(mv.root, 'config.json')
    with open(path) as f:
        config = json.load(f)
    labels = config['labels']
    # swap Road (13) and Sky (27): the same files now mean the other class
    labels[13], labels[27] = labels[27], labels[13]
    with open(path, 'w') as f:
        json.dump(config, f)
    dataset = build(mv.root, split='training')
    assert names(dataset) == mv.names['training']
    for i, name in enumerate(mv.names['training']):
        assert 'label_id_table' in dataset.get_data_info(i)
        gt, ids = gt_of(dataset[i]), mv.labels[f'training/{name}']
        np.testing.assert_array_equal(gt, expected_train_ids(mv.root, ids))
        assert (gt[ids == 13] == CLASSES.index('sky')).all()


def test_config_errors_name_the_file(tmp_path):
    mv = make_mapillary(tmp_path / 'mv', {'validation': 1},
                        with_config=False)
    with pytest.raises(FileNotFoundError,
                       match=r'config.json.*convert_mapillary_labels'):
        build(mv.root)
    with open(osp.join(mv.root, 'config.json'), 'w') as f:
        json.dump(dict(labels=[dict(name=f'c{i}') for i in range(124)]), f)
    with pytest.raises(ValueError, match=r'124 entries.*v1.2'):
        build(mv.root)


def test_converter_maps_by_name_and_reports_broken_pairs(tmp_path, capsys):
    """What every converter shares (atomic writes, re-runs, leftovers) is
    tested on GTA5's in test_label_conversion.py."""
    mv = make_mapillary(tmp_path / 'mv', {'training': 3, 'validation': 2},
                        sizes=[(40, 56), (40, 56), (40, 56), (30, 50)])
    # a pair of different sizes: listed in the report, not converted
    bad = mv.names['validation'][0]
    other = mv.names['validation'][1]
    bad_key = f'validation/{bad}'
    with Image.open(mv.label_paths[bad_key]) as label:
        label.resize((33, 21)).save(mv.label_paths[bad_key])
    tool = load_tool('convert_mapillary_labels')
    assert tool.main([mv.root, '--nproc', '2']) == 0
    out = capsys.readouterr().out
    assert 'converted: 4' in out and 'skipped: 1' in out
    report = read_skip_report(osp.join(mv.root, 'skipped_pairs.tsv'))
    assert report[bad].problem == 'size_mismatch'
    for key, path in mv.label_paths.items():
        dst = path[:-len('.png')] + '_trainIds.png'
        if key == bad_key:
            assert not osp.exists(dst)
            continue
        with Image.open(dst) as image:
            np.testing.assert_array_equal(
                np.array(image), expected_train_ids(mv.root, mv.labels[key]))
    # the dataset prefers the converted files and honours the report
    dataset = build(mv.root, split='validation')
    assert names(dataset) == [other]
    assert 'label_id_table' not in dataset.get_data_info(0)
    np.testing.assert_array_equal(
        gt_of(dataset[0]),
        expected_train_ids(mv.root, mv.labels[f'validation/{other}']))
