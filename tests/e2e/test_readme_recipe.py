"""The README's chain on generated data: its "Run it small on your own
data" block as written (train, test, the cross-domain table; the
``readme_run`` fixture), then the fine-tune step from that run."""
import re

import pytest
from mmengine.config import Config

from ibnseg.engine.sizes import pipelines
from tests.helpers.readme import readme_recipe
from tests.helpers.tiny_experiment import load_state_dict
from tests.helpers.tools import run_tool

FINETUNE = ('configs/finetune/'
            'fcn_r50-ibn-b-d8_4xb2-20k_cityscapes-ft-gta5-10pct-512x1024.py')


def test_the_recipe_sets_nothing_but_the_data_roots():
    assert re.findall(r'\bexport ((?:\w+=\S+ ?)+)', readme_recipe()) == [
        'IBNSEG_CITYSCAPES_ROOT=/path/to/my/cityscapes '
        'IBNSEG_GTA5_ROOT=/path/to/my/gta5']


@pytest.mark.slow
def test_readme_recipe_runs_as_written(readme_run):
    work_dir = readme_run.checkout / 'work_dirs' / 'small'
    assert (work_dir / 'iter_4.pth').is_file()
    # IBN-b, saved by the atomic checkpoint hook tools/train.py swaps in
    assert any('.IN.' in key for key in load_state_dict(work_dir /
                                                        'iter_4.pth'))
    assert 'AtomicCheckpointHook' in (work_dir / 'train.log').read_text()
    # the sizes reached every pipeline the run used (mmengine's dump of the
    # config it ran): 64x128 crops, every domain's loaders at 256x128
    run_cfg = Config.fromfile(work_dir / 'ibn_b_cityscapes.py')
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

    # the test and the table report both domains, with the same numbers
    markdown = (readme_run.checkout / 'results' / 'small' /
                'results.md').read_text()
    assert markdown.strip() in readme_run.log
    for domain in ('cityscapes', 'gta5'):
        tested = re.findall(rf'\b{domain}/mIoU ([\d.]+)', readme_run.log)
        row = re.search(rf'\| cityscapes \| {domain} \| ([\d.]+) \|',
                        markdown)
        assert tested and row, domain
        assert float(tested[-1]) == pytest.approx(float(row.group(1)),
                                                  abs=0.01), domain


@pytest.mark.slow
def test_finetune_starts_from_the_recipes_run(readme_run):
    """The fine-tune config on the recipe's last checkpoint (``load_from``
    as the README says for a run of --work-dir), with --verbose: mmengine's
    whole log on the console."""
    source = readme_run.checkout / 'work_dirs' / 'small'
    start_file = (source / 'last_checkpoint').read_text().strip()
    log = run_tool('train.py', [
        '--verbose', FINETUNE, '--crop-size', 64, 128, '--scale', 256, 128,
        '--cfg-options', 'train_cfg.max_iters=2', f'load_from={start_file}'
    ], cwd=readme_run.checkout, timeout=900).stdout
    assert f'Load checkpoint from {start_file}' in log
    assert 'Config:' in log and 'Saving checkpoint at 2 iterations' in log
    assert len(log.splitlines()) > 100 and 'pkg_resources' not in log
    # validated both domains after the last iteration (GTA5 the source)
    assert re.search(r'val: 2 domains on the full splits: '
                     r'(gta5 1, cityscapes 1|cityscapes 1, gta5 1)', log)

    tuned = load_state_dict(readme_run.checkout / 'work_dirs' /
                            FINETUNE.split('/')[-1][:-3] / 'iter_2.pth')
    start = load_state_dict(start_file)
    assert tuned.keys() == start.keys()
    # from the source weights (the config loads no ImageNet weights:
    # without them it would start from random ones), moved by two SGD steps
    for name in ('backbone.conv1.weight', 'backbone.layer3.5.conv2.weight',
                 'decode_head.conv_seg.weight'):
        change = (tuned[name] - start[name]).norm() / start[name].norm()
        assert 0 < change < 0.05, (name, change)
