"""The trained runs the end-to-end tests share, each made once per session
through the public commands."""
import os
import re
import subprocess
from types import SimpleNamespace

import pytest

from tests.helpers.data_factory import (make_cityscapes, make_gta5,
                                        write_split_file)
from tests.helpers.readme import readme_recipe
from tests.helpers.tiny_experiment import (make_tiny_cityscapes,
                                           write_run_config)
from tests.helpers.tools import REPO_ROOT, run_tool, tool_env


@pytest.fixture(scope='session')
def tiny_run(tmp_path_factory):
    """``tools/train.py tiny.py --work-dir work --tensorboard``."""
    root = tmp_path_factory.mktemp('tiny_run')
    data = make_tiny_cityscapes(root / 'cityscapes', train=4, val=2)
    config = write_run_config(root / 'tiny.py', data.root)
    work_dir = root / 'work'
    stdout = run_tool('train.py', [config, '--work-dir', work_dir,
                                   '--tensorboard']).stdout
    return SimpleNamespace(root=root, data=data, config=config,
                           work_dir=work_dir, stdout=stdout)


@pytest.fixture(scope='session')
def readme_run(tmp_path_factory):
    """The README's "Run it small on your own data" block, run by bash as
    written in a folder standing for the checkout (tools/, configs/ and
    .venv/ linked), the two data-root variables set to generated data at
    the configs' default paths (the one edit the README asks for)."""
    checkout = tmp_path_factory.mktemp('checkout')
    for name in ('tools', 'configs', '.venv'):
        (checkout / name).symlink_to(os.path.join(REPO_ROOT, name))
    data = checkout / 'data'
    make_cityscapes(data / 'cityscapes', {'train': 2, 'val': 1},
                    size=(128, 256))
    gta = make_gta5(data / 'gta5', num_images=3, size=(128, 235))
    for split, stem in zip(('train', 'val', 'test'), gta.ids):
        write_split_file(data / 'gta5' / 'splits' / f'{split}.txt', [stem])
    recipe = readme_recipe()
    for variable, folder in (('IBNSEG_CITYSCAPES_ROOT', 'cityscapes'),
                             ('IBNSEG_GTA5_ROOT', 'gta5')):
        recipe, count = re.subn(rf'\b{variable}=\S+',
                                f'{variable}={data / folder}', recipe)
        assert count == 1, f'{variable} is set {count} times in the recipe'
    env = tool_env()
    env.pop('VIRTUAL_ENV', None)
    proc = subprocess.run(
        ['bash', '-e', '-o', 'pipefail', '-c', recipe], cwd=checkout,
        env=env, stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True,
        timeout=900)
    assert proc.returncode == 0, proc.stdout[-6000:]
    return SimpleNamespace(checkout=checkout, log=proc.stdout)
