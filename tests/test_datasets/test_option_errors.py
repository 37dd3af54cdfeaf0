"""Every dataset's bad options and wrong layouts: one check each, the error
naming the dataset, the option and what was expected."""
import pytest

from tests.helpers.datasets import build

ACDC, BDD = 'ACDCDataset', 'BDD100KSegDataset'
DRIVABLE = 'BDD100KDrivableDataset'


@pytest.mark.parametrize('type,options,match', [
    ('GTA5Dataset', dict(label_format='colors'), 'label_format must be one'),
    ('GTA5Dataset', dict(ann_file='x.txt'), 'use split='),
    ('GTA5Dataset', dict(subset=dict(percent=10)), 'unknown subset option'),
    (ACDC, dict(condition='haze'), 'condition must be one of'),
    (ACDC, dict(condition='fog', split='test'), 'split.*withheld'),
    (BDD, dict(split='test'), 'split must be one of'),
    (BDD, dict(split='val', data_prefix=dict(img_path='x')),
     'data_prefix follows'),
    ('MapillaryToCityscapesDataset', dict(split='test'), 'split must be one'),
    (DRIVABLE, dict(release='2020'), 'release must be one of'),
    (DRIVABLE, dict(data_prefix=dict(img_path='x')), 'data_prefix follows'),
    (DRIVABLE, dict(split='test'), 'split must be one of'),
    (DRIVABLE, dict(attributes=dict(time=['night'])),
     'unknown attribute .time.*weather, scene, timeofday'),
    (DRIVABLE, dict(attributes=dict(timeofday=['dusk'])),
     r"attributes\['timeofday'\] has unknown value\(s\) \['dusk'\]; "
     "BDD100K's timeofday values are .*'dawn/dusk'"),
])
def test_bad_options_are_named(tmp_path, type, options, match):
    with pytest.raises(ValueError, match=f'{type}: {match}'):
        build(type, tmp_path, **options)


@pytest.mark.parametrize('type,options,match', [
    ('GTA5Dataset', {}, 'nowhere/images.*data/README.md'),
    ('CityscapesLabelIdsDataset', dict(data_prefix=dict(
        img_path='leftImg8bit/train')), 'leftImg8bit/train.*does not exist'
     '.*Cityscapes layout.*data/README.md'),
    ('SynthiaDataset', {}, 'RGB/NNNNNNN.png.*data/README.md'),
    ('MapillaryToCityscapesDataset', {},
     'validation/images.*Mapillary.*README'),
    (ACDC, dict(condition='night'),
     'rgb_anon/night/val.*_rgb_anon.png.*README'),
    (BDD, dict(split='val'),
     r'images/10k/\{split\}.*seg/images/\{split\}.*data/README.md'),
    (DRIVABLE, dict(split='val'), 'neither.*labels/drivable/masks/val/'
     r'\*.png.*drivable_maps/labels/val/\*_drivable_id.png'),
])
def test_an_empty_root_names_the_expected_layout(tmp_path, type, options,
                                                 match):
    with pytest.raises(FileNotFoundError, match=f'{type}: .*{match}'):
        build(type, tmp_path / 'nowhere', **options)


def test_an_image_folder_without_images_is_named(tmp_path):
    (tmp_path / 'images').mkdir()
    with pytest.raises(FileNotFoundError, match=r'GTA5Dataset: no "\*.png" '
                       'images in .*images.*GTA5.*data/README.md'):
        build('GTA5Dataset', tmp_path)
