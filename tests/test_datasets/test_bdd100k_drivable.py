"""BDD100K drivable area: both releases in their real layouts, the value
tables as BDD documents them, attribute filters and the construction-time
errors."""
import json
import os.path as osp

import numpy as np
import pytest

from ibnseg.datasets import DatasetError
from ibnseg.datasets.bdd100k_drivable import ATTRIBUTE_VALUES
from ibnseg.datasets.layouts import save_png_atomic
from tests.helpers.data_factory import make_bdd100k_drivable
from tests.helpers.datasets import build as build_dataset

#: Typed from BDD's documentation, not from the code under test:
#: doc.bdd100k.com/format.html, "Drivable Area" (current release) ...
CURRENT_DOC = {0: 'direct', 1: 'alternative', 2: 'background'}
#: ... and the ucbdrive/bdd100k README (2018 drivable_maps): "0 for
#: background, 1 for direct drivable area and 2 for alternative".
RELEASE_2018_DOC = {0: 'background', 1: 'direct', 2: 'alternative'}
#: doc.bdd100k.com/format.html and ucbdrive/bdd100k doc/format.md, "Frame
#: attributes".
DOC_ATTRIBUTES = {
    'weather': {'rainy', 'snowy', 'clear', 'overcast', 'undefined',
                'partly cloudy', 'foggy'},
    'scene': {'tunnel', 'residential', 'parking lot', 'undefined',
              'city street', 'gas stations', 'highway'},
    'timeofday': {'daytime', 'night', 'dawn/dusk', 'undefined'},
}


def build(root, **kwargs):
    kwargs.setdefault('split', 'val')
    return build_dataset('BDD100KDrivableDataset', root, **kwargs)


def test_attribute_values_are_the_documented_ones():
    assert {k: set(v) for k, v in ATTRIBUTE_VALUES.items()} == DOC_ATTRIBUTES


@pytest.mark.parametrize('release,doc', [('current', CURRENT_DOC),
                                         ('2018', RELEASE_2018_DOC)])
def test_each_release_loads_with_its_documented_values(tmp_path, release,
                                                       doc):
    data = make_bdd100k_drivable(tmp_path, release=release,
                                 splits={'val': 2})
    dataset = build(tmp_path)
    assert dataset.release == release  # detected from the layout
    assert dataset.metainfo['classes'] == ('direct', 'alternative',
                                           'background')
    assert len(dataset) == 2
    classes = dataset.metainfo['classes']
    label_file = {'current': 'labels/drivable/masks/val/{}.png',
                  '2018': 'drivable_maps/labels/val/{}_drivable_id.png'}
    for index in range(len(dataset)):
        sample = dataset[index]['data_samples']
        name = osp.basename(sample.img_path)[:-len('.jpg')]
        assert sample.img_path.endswith(f'images/100k/val/{name}.jpg')
        assert sample.seg_map_path.endswith(
            label_file[release].format(name))
        stored = data.labels[f'val/{name}']
        assert set(np.unique(stored)) == set(doc)
        expected = np.vectorize(lambda v: classes.index(doc[v]))(stored)
        np.testing.assert_array_equal(sample.gt_sem_seg.data[0].numpy(),
                                      expected)
    # the release's own label JSON holds the attributes
    assert len(build(tmp_path, attributes=dict(
        timeofday=list(ATTRIBUTE_VALUES['timeofday'])))) == 2


def test_both_releases_present_is_refused(tmp_path):
    make_bdd100k_drivable(tmp_path, release='current', splits={'val': 1})
    # the same images (same seed), labelled in both layouts
    make_bdd100k_drivable(tmp_path, release='2018', splits={'val': 1})
    with pytest.raises(DatasetError, match='holds both') as error:
        build(tmp_path)
    assert 'drivable_maps/labels/val' in str(error.value)
    assert 'labels/drivable/masks/val' in str(error.value)
    # naming the release settles it
    assert build(tmp_path, release='2018').release == '2018'


@pytest.mark.parametrize('release', ['current', '2018'])
def test_255_is_ignored_other_values_refused_at_construction(
        tmp_path, release):
    data = make_bdd100k_drivable(tmp_path, release=release,
                                 splits={'val': 1})
    path = next(iter(data.label_paths.values()))
    label = data.labels[next(iter(data.labels))].copy()
    label[0, :4] = 255
    save_png_atomic(path, label)
    with pytest.warns(UserWarning, match='255'):
        gt = build(tmp_path)[0]['data_samples'].gt_sem_seg.data[0]
    assert (gt[0, :4] == 255).all()
    label[1, 0] = 7  # e.g. a semantic-segmentation trainId
    save_png_atomic(path, label)
    with pytest.raises(DatasetError,
                       match=r'value\(s\) 7 .*stores 0') as error:
        build(tmp_path)
    assert path in str(error.value)


@pytest.mark.slow
def test_attribute_filter(tmp_path):
    data = make_bdd100k_drivable(tmp_path, splits={'val': 8})
    frames = {f['name'][:-4]: f['attributes'] for f in data.config}

    def names(dataset):
        return sorted(osp.basename(dataset.get_data_info(i)['sample_name'])
                      for i in range(len(dataset)))

    night = build(tmp_path, attributes=dict(timeofday=['night']))
    assert names(night) == sorted(
        n for n, a in frames.items() if a['timeofday'] == 'night')
    assert len(night) == 1
    # values of one attribute: any; several attributes: all
    day_clear = build(tmp_path, attributes=dict(timeofday='daytime',
                                                weather=['clear']))
    assert names(day_clear) == sorted(
        n for n, a in frames.items()
        if a['timeofday'] == 'daytime' and a['weather'] == 'clear')
    assert len(day_clear) == 1
    either = build(tmp_path, attributes=dict(weather=['rainy', 'snowy']))
    assert len(either) == 2
    # a subset is drawn from the filtered images
    one = build(tmp_path, attributes=dict(weather=['rainy', 'snowy']),
                subset=dict(count=1, seed=0))
    assert names(one)[0] in names(either) and len(one) == 1


def test_attribute_errors_and_images_missing_from_the_json(tmp_path):
    data = make_bdd100k_drivable(tmp_path, splits={'val': 2})
    with pytest.raises(DatasetError, match="no image.*'clear' 2"):
        build(tmp_path, attributes=dict(weather=['foggy']))
    with pytest.raises(FileNotFoundError, match='attributes_file='):
        build(tmp_path, attributes=dict(weather=['clear']),
              attributes_file='missing.json')
    # an image the JSON does not list is left out
    path = tmp_path / 'labels' / 'det_20' / 'det_val.json'
    frames = json.loads(path.read_text())
    path.write_text(json.dumps(frames[:1]))
    with pytest.warns(UserWarning, match='1 of 2 images have no entry'):
        dataset = build(tmp_path, attributes=dict(
            timeofday=list(ATTRIBUTE_VALUES['timeofday'])))
    assert len(dataset) == 1
    assert data.config[0]['name'].startswith(
        osp.basename(dataset.get_data_info(0)['sample_name']))
