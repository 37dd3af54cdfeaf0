"""tools/train.py and tools/test.py name what stops them in one line, not a
traceback: a missing file, missing or unusable data, an unreachable
checkpoint URL. They run in this process (the tools' ``__main__`` code)."""
import glob
import os.path as osp

import pytest
import torch

from tests.helpers.data_factory import claim_png_size, make_cityscapes
from tests.helpers.tools import REPO_ROOT, run_in_process

SHIPPED = f'{REPO_ROOT}/configs/ibn_b_cityscapes.py'


@pytest.mark.parametrize('tool,args,message', [
    ('train.py', ['missing.py'], 'config file not found: missing.py'),
    ('test.py', ['missing.py', 'missing.pth'],
     'checkpoint not found: missing.pth'),
    pytest.param('test.py', [SHIPPED, 'http://127.0.0.1:9/weights.pth'],
                 'error: cannot download the checkpoint '
                 'http://127.0.0.1:9/weights.pth', marks=pytest.mark.slow),
])
def test_tools_name_missing_files(tool, args, message, tmp_path, monkeypatch,
                                  capsys):
    monkeypatch.setenv('TORCH_HOME', str(tmp_path / 'torch_home'))
    monkeypatch.setenv('no_proxy', '127.0.0.1')  # port 9 refuses
    status, err = run_in_process(tool, [*args, '--work-dir', tmp_path / 'w'],
                                 monkeypatch, capsys)
    assert status == 2, err
    assert message in err


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
