"""Samples and datasets: seeding, the real layouts, resuming, the tool."""
import os
import os.path as osp

import numpy as np
import pytest
from mmengine.registry import init_default_scope
from PIL import Image

from ibnseg.datasets import CityscapesLabelIdsDataset, GTA5Dataset
from ibnseg.datasets.labels import label_ids_to_train_ids
from ibnseg.datasets.layouts import read_label_ids
from ibnseg.synthetic import (MANIFEST_NAME, cityscapes_city,
                              generate_domain_dataset, generate_sample)
from tests.helpers.tools import load_tool

SIZE = (32, 64)
PIPELINE = [
    dict(type='LoadImageFromFile'),
    dict(type='LoadLabelIdAnnotations'),
    dict(type='PackSegInputs')
]


@pytest.fixture
def mmseg_scope():
    # the dataset pipelines name mmseg (and ibnseg) transforms
    init_default_scope('mmseg')


def _rgb(path):
    return np.asarray(Image.open(path).convert('RGB'))


def _files(root):
    return sorted(
        osp.relpath(osp.join(folder, name), root)
        for folder, _, names in os.walk(root) for name in names)


def test_sample_seeding():
    image, label = generate_sample(2, 'source', SIZE, seed=7, split='val')
    again_image, again_label = generate_sample(2, 'source', SIZE, seed=7,
                                               split='val')
    assert image.tobytes() == again_image.tobytes()
    assert label.tobytes() == again_label.tobytes()
    for other in (dict(index=2, seed=8, split='val'),
                  dict(index=2, seed=7, split='train'),
                  dict(index=3, seed=7, split='val')):
        _, other_label = generate_sample(domain='source', size=SIZE, **other)
        assert not np.array_equal(label, other_label), other


def test_custom_style_renders_under_its_domain_name():
    plain, label = generate_sample(0, 'night', SIZE, style=dict(base='dusk'))
    dusk, dusk_label = generate_sample(0, 'dusk', SIZE)
    np.testing.assert_array_equal(label, dusk_label)
    # same style, but the domain name seeds the appearance
    assert plain.tobytes() != dusk.tobytes()


@pytest.mark.parametrize('kwargs, message', [
    (dict(seed=-1), 'seed'),
    (dict(split='holdout'), 'split'),
    (dict(size=(4, 4)), 'size'),
])
def test_bad_sample_arguments(kwargs, message):
    with pytest.raises(ValueError, match=message):
        generate_sample(0, 'source', **{'size': SIZE, **kwargs})


@pytest.mark.slow
@pytest.mark.parametrize('layout, domain', [('gta5', 'source'),
                                            ('cityscapes', 'real')])
def test_layouts_are_read_by_their_datasets(tmp_path, mmseg_scope, layout,
                                            domain):
    root = str(tmp_path / domain)
    summary = generate_domain_dataset(root, domain, num_train=3, num_val=2,
                                      size=SIZE, seed=4, layout=layout,
                                      progress=False)
    assert summary['written'] == 5 and summary['skipped'] == 0
    for split, count in (('train', 3), ('val', 2)):
        if layout == 'gta5':
            dataset = GTA5Dataset(data_root=root,
                                  split=summary['split_files'][split],
                                  pipeline=PIPELINE)
        else:
            dataset = CityscapesLabelIdsDataset(
                data_root=root, pipeline=PIPELINE,
                data_prefix=dict(img_path=f'leftImg8bit/{split}',
                                 seg_map_path=f'gtFine/{split}'))
        assert len(dataset) == count
        for index in range(count):
            image, label = generate_sample(index, domain, SIZE, seed=4,
                                           split=split)
            item = dataset[index]
            np.testing.assert_array_equal(
                item['data_samples'].gt_sem_seg.data[0].numpy(),
                label_ids_to_train_ids(label))
            # the dataset loads BGR; the file holds the generated RGB
            np.testing.assert_array_equal(
                item['inputs'].numpy().transpose(1, 2, 0)[..., ::-1], image)
            if layout == 'cityscapes':
                assert item['data_samples'].img_path.endswith(
                    f'real_000000_{index:06d}_leftImg8bit.png')
    if layout == 'gta5':  # val frames follow the train frames
        with open(summary['split_files']['val']) as f:
            assert f.read().split() == ['00004', '00005']
        label_path = osp.join(root, 'labels', '00005.png')
        assert Image.open(label_path).mode == 'P'
        np.testing.assert_array_equal(
            read_label_ids(label_path),
            generate_sample(1, domain, SIZE, seed=4, split='val')[1])


def test_resume_keeps_existing_and_refuses_other_settings(tmp_path):
    root = str(tmp_path / 'source')
    generate_domain_dataset(root, 'source', 2, 1, SIZE, progress=False)
    image = osp.join(root, 'images', '00002.png')
    os.remove(osp.join(root, 'images', '00001.png'))  # an interrupted run
    before = os.stat(image).st_mtime_ns
    summary = generate_domain_dataset(root, 'source', 2, 1, SIZE,
                                      progress=False)
    assert (summary['written'], summary['skipped']) == (1, 2)
    assert os.stat(image).st_mtime_ns == before
    assert _rgb(osp.join(root, 'images', '00001.png')).tobytes() == \
        generate_sample(0, 'source', SIZE)[0].tobytes()

    with pytest.raises(ValueError, match='differing: seed'):
        generate_domain_dataset(root, 'source', 2, 1, SIZE, seed=1,
                                progress=False)
    # forced with fewer samples: everything rewritten, leftovers removed
    summary = generate_domain_dataset(root, 'source', 1, 0, SIZE, seed=1,
                                      force=True, progress=False)
    assert summary['written'] == 1
    assert _files(root) == sorted([MANIFEST_NAME, 'images/00001.png',
                                   'labels/00001.png', 'splits/train.txt'])
    assert _rgb(osp.join(root, 'images', '00001.png')).tobytes() == \
        generate_sample(0, 'source', SIZE, seed=1)[0].tobytes()


def test_refuses_a_folder_it_did_not_make(tmp_path):
    (tmp_path / 'images').mkdir()
    with pytest.raises(ValueError, match='not made by ibnseg.synthetic'):
        generate_domain_dataset(str(tmp_path), 'source', 1, 1, SIZE,
                                force=True, progress=False)


@pytest.mark.parametrize('kwargs, message', [
    (dict(layout='kitti'), 'layout'),
    (dict(num_train=0, num_val=0), 'at least one sample'),
    (dict(num_train=-1), 'num_train'),
    (dict(domain='sepia'), "unknown synthetic domain 'sepia'"),
    (dict(domain='!!', style={}, layout='cityscapes'), 'city'),
])
def test_bad_dataset_arguments_write_nothing(tmp_path, kwargs, message):
    args = dict(root=str(tmp_path / 'out'), domain='source', num_train=1,
                num_val=1, size=SIZE, progress=False)
    args.update(kwargs)
    with pytest.raises(ValueError, match=message):
        generate_domain_dataset(**args)
    assert not osp.exists(tmp_path / 'out')


def test_city_names():
    assert cityscapes_city('Heavy-Fog 2') == 'heavyfog2'


@pytest.mark.slow
def test_worker_processes_write_the_same_bytes(tmp_path):
    one, two = str(tmp_path / 'one'), str(tmp_path / 'two')
    generate_domain_dataset(one, 'dusk', 2, 1, SIZE, nproc=1, progress=False)
    generate_domain_dataset(two, 'dusk', 2, 1, SIZE, nproc=2, progress=False)
    assert _files(one) == _files(two)
    for name in _files(one):
        with open(osp.join(one, name), 'rb') as a, \
                open(osp.join(two, name), 'rb') as b:
            assert a.read() == b.read(), name


def test_tool_end_to_end(tmp_path, capsys):
    tool = load_tool('generate_synthetic')
    out, preview = str(tmp_path / 'synthetic'), str(tmp_path / 'sheet.png')
    argv = [
        '--out', out, '--num-train', '3', '--num-val', '2', '--size', '32',
        '64', '--domains', 'source', 'real', 'fog', '--preview', preview,
        '--preview-num', '2', '--nproc', '1'
    ]
    assert tool.main(argv) == 0
    printed = capsys.readouterr().out
    assert 'source: gta5 layout' in printed and '5 written' in printed
    assert len(os.listdir(osp.join(out, 'source', 'images'))) == 5
    for domain in ('real', 'fog'):
        assert not osp.exists(osp.join(out, domain, 'leftImg8bit', 'train'))
        assert len(os.listdir(osp.join(out, domain, 'gtFine', 'val',
                                       domain))) == 2
    sheet = _rgb(preview)
    # header + 2 rows; label column + 3 domains, 2 px gaps
    assert sheet.shape == (18 + 2 * (32 + 2), 4 * 64 + 3 * 2, 3)
    # the first sheet row shows val sample 0 of each domain
    source_val0 = _rgb(osp.join(out, 'source', 'images', '00004.png'))
    np.testing.assert_array_equal(sheet[18:50, 66:130], source_val0)

    # again: nothing to do
    assert tool.main(argv + ['--quiet']) == 0
    assert '0 written, 5 already there' in capsys.readouterr().out
    # other options over the same folder: a clear error, exit status 2
    assert tool.main(argv[:-2] + ['--seed', '3', '--quiet']) == 2
    assert 'differing: seed' in capsys.readouterr().err
    with pytest.raises(SystemExit):
        tool.main(['--out', out, '--domains', 'sepia'])
    assert "--domains: invalid choice: 'sepia'" in capsys.readouterr().err
