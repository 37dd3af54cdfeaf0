"""The README's "Run it small on your own data" recipe, run as written.

The command block is read from README.md and run by bash, line for line, in
a folder that stands for the checkout (``tools/``, ``configs/`` and
``.venv/`` linked to this one's, so the outputs stay in the test's folder).
The only change is the one the text asks for: the two data-root variables
point at data generated in the Cityscapes and GTA5 layouts.
"""
import os
import re
import subprocess

import pytest
from mmengine.config import Config

from ibnseg.engine.sizes import pipelines
from tests.helpers.data_factory import (make_cityscapes, make_gta5,
                                        write_split_file)
from tests.helpers.tools import REPO_ROOT, tool_env

HEADING = '## Run it small on your own data'


def readme_recipe() -> str:
    """The first ```bash block under the recipe's heading."""
    with open(os.path.join(REPO_ROOT, 'README.md'), encoding='utf-8') as f:
        text = f.read()
    assert HEADING in text, f'README.md has no section {HEADING!r}'
    section = text.split(HEADING, 1)[1].split('\n## ', 1)[0]
    block = re.search(r'```bash\n(.*?)```', section, re.S)
    assert block, f'no ```bash block under {HEADING!r}'
    return block.group(1)


def set_data_roots(recipe: str, roots: dict) -> str:
    """The recipe with each ``IBNSEG_<NAME>_ROOT=...`` set to ``roots``'s
    folder: the one edit the README asks for."""
    for variable, folder in roots.items():
        recipe, count = re.subn(rf'\b{variable}=\S+', f'{variable}={folder}',
                                recipe)
        assert count == 1, f'{variable} is set {count} times in the recipe'
    return recipe


def test_the_recipe_sets_nothing_but_the_data_roots():
    recipe = readme_recipe()
    assert re.findall(r'\bexport ((?:\w+=\S+ ?)+)', recipe) == [
        'IBNSEG_CITYSCAPES_ROOT=/path/to/my/cityscapes '
        'IBNSEG_GTA5_ROOT=/path/to/my/gta5']


@pytest.mark.slow
def test_readme_recipe_runs_as_written(tmp_path):
    data = tmp_path / 'my'
    make_cityscapes(data / 'cityscapes', {'train': 2, 'val': 1},
                    size=(128, 256))
    gta = make_gta5(data / 'gta5', num_images=3, size=(128, 235))
    for split, ids in zip(('train', 'val', 'test'), gta.ids):
        write_split_file(data / 'gta5' / 'splits' / f'{split}.txt', [ids])
    recipe = set_data_roots(readme_recipe(), {
        'IBNSEG_CITYSCAPES_ROOT': data / 'cityscapes',
        'IBNSEG_GTA5_ROOT': data / 'gta5'})

    checkout = tmp_path / 'checkout'
    checkout.mkdir()
    for name in ('tools', 'configs', '.venv'):
        (checkout / name).symlink_to(os.path.join(REPO_ROOT, name))
    env = tool_env()
    env.pop('VIRTUAL_ENV', None)
    proc = subprocess.run(
        ['bash', '-e', '-o', 'pipefail', '-c', recipe], cwd=checkout,
        env=env, stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True,
        timeout=900)
    assert proc.returncode == 0, proc.stdout[-6000:]
    log = proc.stdout

    assert (checkout / 'work_dirs' / 'small' / 'iter_4.pth').is_file()
    # the sizes reached every pipeline the run used (mmengine's dump of the
    # config it ran): 64x128 crops, every domain's loaders at 256x128
    run_cfg = Config.fromfile(
        checkout / 'work_dirs' / 'small' / 'ibn_b_cityscapes.py')
    assert run_cfg.model.data_preprocessor.size == (64, 128)
    found = {key: pipeline for key, pipeline, _ in pipelines(run_cfg)}
    assert {'val_dataloader.dataset.pipeline',
            'cross_domain.domains.gta5.val_dataloader.dataset.pipeline',
            'cross_domain.domains.cityscapes.dataloader.dataset.pipeline'
            } <= set(found)
    for key, pipeline in found.items():
        scales = [tuple(step['scale']) for step in pipeline
                  if step['type'] in ('Resize', 'RandomResize')]
        assert scales == [(256, 128)], (key, scales)
    crops = [step['crop_size'] for step in
             run_cfg.train_dataloader.dataset.pipeline
             if step['type'] == 'RandomCrop']
    assert [tuple(c) for c in crops] == [(64, 128)]

    # the test and the table report both domains
    for domain in ('cityscapes', 'gta5'):
        assert f'{domain}/mIoU' in log
    markdown = (checkout / 'results' / 'small' / 'results.md').read_text()
    assert markdown.strip() in log
    assert '| cityscapes | cityscapes |' in markdown
    assert '| cityscapes | gta5 |' in markdown
