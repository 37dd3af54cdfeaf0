"""tools/train.py, tools/test.py and tools/cross_domain_eval.py name what
stops them in one line, not a traceback: a missing or mistyped file,
missing or unusable data, an unreachable checkpoint URL. They run in this
process (the tools' ``__main__`` code)."""
import glob
import os.path as osp

import pytest
import torch

from tests.helpers.data_factory import claim_png_size, make_cityscapes
from tests.helpers.tools import REPO_ROOT, run_in_process

SHIPPED = f'{REPO_ROOT}/configs/ibn_b_cityscapes.py'


MISTYPED = 'configs/ibn_b_cityscape.py'
NEAREST = (f'config file not found: {MISTYPED}; nearest: '
           'configs/ibn_b_cityscapes.py, configs/ibn_a_cityscapes.py, '
           'configs/r50_cityscapes.py')
URL = 'http://127.0.0.1:9/weights.pth'  # port 9 refuses: no network


@pytest.mark.parametrize('tool,args,message', [
    ('train.py', [MISTYPED], NEAREST),
    ('test.py', [MISTYPED, 'model.pth'], NEAREST),
    ('cross_domain_eval.py', [MISTYPED, 'model.pth', '--out', 'out'],
     NEAREST),
    ('test.py', ['missing.py', 'missing.pth'],
     'checkpoint not found: missing.pth'),
    pytest.param('test.py', [SHIPPED, URL, '--work-dir', 'work'],
                 f'cannot download the checkpoint {URL}',
                 marks=pytest.mark.slow),
])
def test_tools_name_missing_files(tool, args, message, tmp_path, monkeypatch,
                                  capsys):
    """One error line; a mistyped config name gets the nearest ones."""
    monkeypatch.chdir(REPO_ROOT)
    monkeypatch.setenv('TORCH_HOME', str(tmp_path / 'torch_home'))
    monkeypatch.setenv('no_proxy', '127.0.0.1')
    (tmp_path / 'model.pth').write_bytes(b'')
    args = [tmp_path / a if a in ('model.pth', 'out', 'work') else a
            for a in args]
    status, err = run_in_process(tool, args, monkeypatch, capsys)
    assert status == 2, err
    line, = [ln for ln in err.splitlines() if 'error:' in ln]
    assert message in line, line


@pytest.mark.slow
@pytest.mark.parametrize('tool,args', [('train.py', []),
                                       ('test.py', ['weights.pth'])])
def test_missing_data_is_named(tool, args, tmp_path, monkeypatch, capsys):
    """The README's commands in a folder without the data: the dataset's
    message (which folder, relative to which working folder)."""
    torch.save({'state_dict': {}}, tmp_path / 'weights.pth')
    monkeypatch.chdir(tmp_path)
    status, err = run_in_process(tool, [SHIPPED, *args], monkeypatch, capsys)
    assert status == 2, err
    assert err.startswith('error: ') and \
        "image folder 'data/cityscapes/leftImg8bit/" in err
    assert f'relative to the working folder {tmp_path}' in err


@pytest.mark.slow
def test_unusable_data_is_named(tmp_path, monkeypatch, capsys):
    """Data the first pass refuses when the dataset is built (an image whose
    header claims 30000x30000 pixels): the dataset's one-line message."""
    root = tmp_path / 'data' / 'cityscapes'
    make_cityscapes(root, splits={'val': 1})
    image, label = (glob.glob(str(root / folder / 'val' / '*' / pattern))[0]
                    for folder, pattern in [('leftImg8bit', '*.png'),
                                            ('gtFine', '*_labelIds.png')])
    for path in (image, label):
        claim_png_size(path, 30000, 30000)
    torch.save({'state_dict': {}}, tmp_path / 'weights.pth')
    monkeypatch.chdir(tmp_path)
    status, err = run_in_process('test.py', [SHIPPED, 'weights.pth'],
                                 monkeypatch, capsys)
    assert status == 2, err
    last = err.strip().splitlines()[-1]
    assert 'error: ' in last and 'is 30000x30000 pixels' in last \
        and osp.relpath(image, tmp_path) in last, last
