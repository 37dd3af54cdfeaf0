"""tools/infer.py on files, folders and globs with the demo config and its
random weights: every label PNG equals mmseg's ``inference_model``
prediction, label ids follow the official Cityscapes table (typed in); bad
input stops before the model is loaded (loading fails the test)."""
import os
import os.path as osp

import numpy as np
import pytest
import torch
from PIL import Image

from ibnseg.datasets.labels import CLASSES, PALETTE
from tests.helpers.datasets import OFFICIAL_LABEL_IDS
from tests.helpers.tools import REPO_ROOT, load_tool, run_main, run_tool

CONFIG = osp.join(REPO_ROOT, 'configs', 'demo',
                  'fcn_r18-tiny-ibn-b-d8_synthetic.py')
#: (relative path, (width, height)): two x.png in different folders, an
#: image of another size between same-size ones, a JPEG for the glob and a
#: Cityscapes test-set name.
IMAGES = [
    ('set/a/x.png', (48, 32)),
    ('set/b/x.png', (48, 32)),
    ('set/b/y.png', (40, 40)),
    ('set/b/z.png', (48, 32)),
    ('globbed/g1.jpg', (56, 24)),
    ('globbed/g2.jpg', (56, 24)),
    ('globbed/notes.txt', None),
    ('single/berlin_000000_000019_leftImg8bit.png', (64, 32)),
]


@pytest.fixture(scope='module')
def ws(tmp_path_factory):
    """Images, a checkpoint of the demo model's random weights and the
    model's own predictions (mmseg's APIs, one image at a time)."""
    root = tmp_path_factory.mktemp('infer')
    rng = np.random.default_rng(0)
    for rel, size in IMAGES:
        path = root / 'images' / rel
        path.parent.mkdir(parents=True, exist_ok=True)
        if size is None:
            path.write_text('not an image')
        else:
            Image.fromarray(
                rng.integers(0, 256, (size[1], size[0], 3),
                             dtype=np.uint8)).save(path)
    from mmseg.apis import inference_model, init_model
    torch.manual_seed(0)
    model = init_model(CONFIG, device='cpu')
    checkpoint = str(root / 'demo.pth')
    torch.save(
        dict(meta=dict(dataset_meta=dict(classes=CLASSES, palette=PALETTE)),
             state_dict=model.state_dict()), checkpoint)
    model = init_model(CONFIG, checkpoint, device='cpu')
    preds = {
        rel: inference_model(model, str(root / 'images' / rel))
        .pred_sem_seg.data[0].numpy()
        for rel, size in IMAGES if size is not None
    }
    # the same-size neighbours of set/ share a batch with --batch-size 2
    pair = inference_model(
        model, [str(root / 'images' / 'set/a/x.png'),
                str(root / 'images' / 'set/b/x.png')])
    batched = dict(preds)
    batched['set/a/x.png'], batched['set/b/x.png'] = (
        r.pred_sem_seg.data[0].numpy() for r in pair)
    return dict(root=root, checkpoint=checkpoint, preds=preds,
                batched=batched)


def _files(folder) -> set:
    return {
        osp.relpath(osp.join(dirpath, name), folder)
        for dirpath, _, names in os.walk(folder) for name in names
    }


def _read(path) -> np.ndarray:
    return np.array(Image.open(path))


@pytest.mark.slow
def test_folder_glob_and_file_give_train_ids_and_overlays(ws, tmp_path):
    images = ws['root'] / 'images'
    out = tmp_path / 'out'
    proc = run_tool('infer.py', [
        CONFIG, ws['checkpoint'], images / 'set',
        str(images / 'globbed' / '*.jpg'),
        images / 'single' / 'berlin_000000_000019_leftImg8bit.png', '--out',
        out
    ], timeout=300)
    assert 'wrote 7 label PNG(s) (trainIds)' in proc.stdout
    # paths below the inputs' common folder: the two x.png both survive,
    # a .jpg input gives a .png, the text file matched by no pattern
    expected = {
        osp.splitext(rel)[0] + '.png'
        for rel, size in IMAGES if size is not None
    }
    assert _files(out / 'pred') == expected
    assert _files(out / 'vis') == expected
    for rel, size in IMAGES:
        if size is None:
            continue
        name = osp.splitext(rel)[0] + '.png'
        label = Image.open(out / 'pred' / name)
        assert label.mode == 'L'
        np.testing.assert_array_equal(np.array(label), ws['preds'][rel])
        overlay = _read(out / 'vis' / name)
        assert overlay.shape == (size[1], size[0], 3)
        # the class colours are blended in: the overlay is not the image
        assert not np.array_equal(overlay, _read(images / rel))
    # several classes predicted, or the label checks prove little
    assert len(np.unique(ws['preds']['set/a/x.png'])) >= 3


@pytest.mark.slow
def test_label_ids_for_the_cityscapes_benchmark(ws, tmp_path):
    out = tmp_path / 'out'
    assert load_tool('infer').main([str(a) for a in (
        CONFIG, ws['checkpoint'], ws['root'] / 'images' / 'set', '--out', out,
        '--label-format', 'labelid', '--batch-size', '2', '--opacity', '1',
        '--no-progress')]) == 0
    assert _files(out / 'pred') == {
        osp.join('a', 'x.png'), osp.join('b', 'x.png'),
        osp.join('b', 'y.png'), osp.join('b', 'z.png')}
    for rel in ('set/a/x.png', 'set/b/x.png', 'set/b/y.png', 'set/b/z.png'):
        name = rel[len('set/'):]
        label_ids = _read(out / 'pred' / name)
        np.testing.assert_array_equal(
            label_ids, OFFICIAL_LABEL_IDS[ws['batched'][rel]])
        # opacity 1: the overlay is the class colours alone
        np.testing.assert_array_equal(
            _read(out / 'vis' / name),
            np.array(PALETTE, np.uint8)[ws['batched'][rel]])


@pytest.fixture
def bad(tmp_path, monkeypatch):
    """In the working folder: a valid image, a garbage checkpoint, a file,
    a config without a test pipeline, and the images ``x/1.png`` and
    ``in/vis/a.png`` beside empty folders for patterns to climb through."""
    for rel in ('img.png', 'x/1.png', 'in/vis/a.png'):
        (tmp_path / rel).parent.mkdir(parents=True, exist_ok=True)
        Image.new('RGB', (8, 8)).save(tmp_path / rel)
    (tmp_path / 'a' / 'b' / 'c' / 'd').mkdir(parents=True)
    (tmp_path / 'in' / 'x' / 'y').mkdir(parents=True)
    checkpoint = tmp_path / 'garbage.pth'
    checkpoint.write_bytes(b'not a checkpoint')
    file = tmp_path / 'file.txt'
    file.write_text('keep me')
    no_pipeline = tmp_path / 'no_pipeline.py'
    no_pipeline.write_text(f'_base_ = {CONFIG!r}\ntest_pipeline = []\n')
    monkeypatch.chdir(tmp_path)
    return dict(config=CONFIG, image=tmp_path / 'img.png',
                checkpoint=checkpoint, file=file, folder=tmp_path,
                no_pipeline=no_pipeline)


#: the config and the checkpoint
MODEL = '{config} {checkpoint} '


@pytest.mark.parametrize('args, message', [
    (MODEL + '{image} {folder}/missing.png',
     'IMAGES: {folder}/missing.png: no such file or folder'),
    (MODEL + '{image} {folder}/*.jpg',
     'IMAGES: {folder}/*.jpg: the pattern matches no image'),
    (MODEL + '{file}', 'IMAGES: {file}: not a readable image'),
    (MODEL + '{image} --out {file}', '--out {file}: '),
    (MODEL + '{image} --out {file}/sub', '--out {file}/sub: '),
    (MODEL + '{image} --opacity 0', 'argument --opacity: 0 is not in (0, 1]'),
    (MODEL + '{image} --batch-size 0',
     "argument --batch-size: '0' is not a positive whole number"),
    (MODEL + '{image} --label-format rgb',
     'argument --label-format: invalid choice'),
    ('{config} {folder}/nowhere.pth {image}',
     'checkpoint not found: {folder}/nowhere.pth'),
    ('{no_pipeline} {checkpoint} {image}',
     'config {no_pipeline}: no test_pipeline'),
    # ``..`` after a wildcard: outputs out of --out (both of x/1.png's
    # would overwrite it), or a label PNG that is an overlay
    (MODEL + 'a/b/c/*/../../../../x/*.png --out out/run',
     'a/b/c/d/../../../../x/1.png: its output out/run/pred/../../../x/1.png '
     'would be written outside --out out/run'),
    (MODEL + 'in/x/*/../../vis/a.png', 'in/x/y/../../vis/a.png: its outputs '
     'out/pred/../vis/a.png and out/vis/../vis/a.png are the same file'),
])
def test_bad_input_stops_before_the_model(bad, args, message, monkeypatch,
                                          capsys):
    """Nothing is written and the model is not loaded (loading fails the
    test)."""
    args = args.format(**bad).split()
    if '--out' not in args:
        args += ['--out', 'out']
    before = (bad['folder'] / 'x' / '1.png').read_bytes()
    code, err = run_main('infer', args, monkeypatch, capsys,
                         guards=('load_segmentor', 'segment_images'))
    assert code == 2
    assert 'infer.py: error: ' + message.format(**bad) in err, err
    assert bad['file'].read_text() == 'keep me'
    assert (bad['folder'] / 'x' / '1.png').read_bytes() == before
    assert not (bad['folder'] / 'out').exists()


def test_a_checkpoint_of_another_model_is_a_clear_error(tmp_path, capsys):
    """The demo's IBN-b config with the weights of its IBN-a sibling: no
    silent non-strict load, but the keys that differ (stem IN vs BN)."""
    from mmseg.apis import init_model
    ibn_a = CONFIG.replace('ibn-b', 'ibn-a')
    checkpoint = str(tmp_path / 'ibn_a.pth')
    torch.save(dict(state_dict=init_model(ibn_a, device='cpu').state_dict()),
               checkpoint)
    image = tmp_path / 'img.png'
    Image.new('RGB', (16, 16)).save(image)
    tool = load_tool('infer')
    code = tool.main(
        [CONFIG, checkpoint, str(image), '--out', str(tmp_path / 'out')])
    err = capsys.readouterr().err
    assert code == 1
    assert f'error: checkpoint {checkpoint} does not match the model of ' \
        f'config {CONFIG}' in err
    assert 'unexpected key' in err and 'missing keys' in err
    assert not osp.exists(tmp_path / 'out')


def test_a_rerun_does_not_segment_its_own_outputs(bad, monkeypatch):
    """``photos/ --out photos/seg``: the second run finds the first run's
    label maps and overlays inside photos/ and must leave them out."""
    photos = bad['folder'] / 'photos'
    for rel in ['a.png', 'seg/pred/a.png', 'seg/vis/a.png']:
        (photos / rel).parent.mkdir(parents=True, exist_ok=True)
        Image.new('RGB', (8, 8)).save(photos / rel)
    tool = load_tool('infer')
    taken = []
    monkeypatch.setattr(tool, 'load_segmentor',
                        lambda *args, **kwargs: torch.nn.Module())
    monkeypatch.setattr(
        tool, 'segment_images',
        lambda model, images, *args, **kwargs: taken.extend(images) or [])
    assert tool.main([
        CONFIG, str(bad['checkpoint']), str(photos), '--out',
        str(photos / 'seg')
    ]) == 0
    assert [image.name for image in taken] == ['a']
