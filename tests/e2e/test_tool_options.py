"""Options of tools/train.py, tools/test.py and tools/cross_domain_eval.py
as a user meets them: a mistyped config name, ``--amp`` on CPU, ``--tta``,
``--tensorboard`` and ``visualizer.vis_backends``."""
import os.path as osp
import sys

import pytest
import torch

import ibnseg.engine.runner_setup as runner_setup
from ibnseg.engine.amp import CPUAmpOptimWrapper
from tests.helpers.tiny_experiment import (RESNET18_TINY, make_tiny_cityscapes,
                                           write_tiny_config)
from tests.helpers.tools import REPO_ROOT, run_in_process, run_tool


@pytest.mark.parametrize('tool', ['train.py', 'test.py',
                                  'cross_domain_eval.py'])
def test_a_mistyped_config_name_suggests_the_nearest(tool, tmp_path,
                                                     monkeypatch, capsys):
    monkeypatch.chdir(REPO_ROOT)
    checkpoint = tmp_path / 'model.pth'
    checkpoint.write_bytes(b'')
    args = ['configs/ibn_b_cityscape.py']
    if tool != 'train.py':
        args.append(checkpoint)
    if tool == 'cross_domain_eval.py':
        args += ['--out', tmp_path / 'out']
    status, err = run_in_process(tool, args, monkeypatch, capsys)
    assert status == 2
    line, = [ln for ln in err.splitlines() if 'error:' in ln]
    assert line.endswith('error: config file not found: '
                         'configs/ibn_b_cityscape.py; nearest: '
                         'configs/ibn_b_cityscapes.py, '
                         'configs/ibn_a_cityscapes.py, '
                         'configs/r50_cityscapes.py'), line


@pytest.mark.slow
def test_cpu_amp_wrapper_autocasts_to_bfloat16():
    layer = torch.nn.Linear(4, 2)
    wrapper = CPUAmpOptimWrapper(
        optimizer=torch.optim.SGD(layer.parameters(), lr=0.1))
    with wrapper.optim_context(layer):
        out = layer(torch.ones(1, 4))
    assert out.dtype == torch.bfloat16
    wrapper.update_params(out.float().sum())
    assert layer.weight.dtype == torch.float32


def test_amp_without_cpu_autocast_is_one_line_before_any_work(
        tmp_path, monkeypatch, capsys):
    monkeypatch.setattr(runner_setup, 'cpu_bf16_autocast_problem',
                        lambda: 'torch 1.9 cannot')
    config = write_tiny_config(tmp_path / 'tiny.py', tmp_path / 'no_data')
    status, err = run_in_process(
        'train.py', [config, '--work-dir', tmp_path / 'work', '--amp'],
        monkeypatch, capsys)
    assert status == 2
    assert err.strip().splitlines()[-1] == (
        'train.py: error: --amp: no GPU, and bfloat16 autocast on CPU is not '
        'available (torch 1.9 cannot); train without --amp')
    assert not (tmp_path / 'work').exists()


@pytest.mark.slow
@pytest.mark.skipif(torch.cuda.is_available(), reason='a CPU-only run')
def test_train_with_amp_on_cpu(tmp_path):
    data = make_tiny_cityscapes(tmp_path / 'cityscapes', train=2, val=1)
    config = write_tiny_config(
        tmp_path / 'tiny.py', data.root, max_iters=2,
        backbone=dict(RESNET18_TINY, type='IBNResNet', ibn='a'))
    log = run_tool('train.py', [config, '--work-dir', tmp_path / 'work',
                                '--amp', '--verbose']).stdout
    assert '--amp on CPU: bfloat16 autocast' in log
    assert 'Iter(train) [2/2]' in log
    assert (tmp_path / 'work' / 'iter_2.pth').is_file()


def test_tensorboard_switch_without_tensorboard_is_one_line(
        tmp_path, monkeypatch, capsys):
    # as if neither package were installed (None in sys.modules: not found)
    monkeypatch.setitem(sys.modules, 'tensorboard', None)
    monkeypatch.setitem(sys.modules, 'tensorboardX', None)
    config = write_tiny_config(tmp_path / 'tiny.py', tmp_path / 'no_data')
    status, err = run_in_process(
        'train.py', [config, '--work-dir', tmp_path / 'work',
                     '--tensorboard'], monkeypatch, capsys)
    assert status == 2
    assert err.strip().splitlines()[-1] == (
        'train.py: error: TensorboardVisBackend (--tensorboard or '
        'visualizer.vis_backends) needs TensorBoard, which is not installed: '
        "pip install tensorboard (or ibnseg's extra: pip install "
        "'ibnseg[tensorboard]')")
    assert not (tmp_path / 'work').exists()


@pytest.mark.parametrize('value,message', [
    ("[dict(type=LocalVisBackend)]", 'LocalVisBackend is not quoted'),
    ("[dict(type='A'),]]", "unmatched ']' at column 18"),
])
def test_cfg_options_with_malformed_dicts_are_usage_errors(
        value, message, tmp_path, monkeypatch, capsys):
    config = write_tiny_config(tmp_path / 'tiny.py', tmp_path / 'no_data')
    status, err = run_in_process(
        'train.py', [config, '--cfg-options',
                     f'visualizer.vis_backends={value}'], monkeypatch, capsys)
    assert status == 2
    line = err.strip().splitlines()[-1]
    pair = repr(f'visualizer.vis_backends={value}')
    assert line.startswith('train.py: error: argument --cfg-options: '
                           f'{pair}: a value with dicts') and \
        message in line, line


TENSORBOARD_WAYS = {
    'switch': ['--tensorboard'],
    'cfg-options': [
        '--cfg-options', "visualizer.vis_backends=[dict(type="
        "'LocalVisBackend'), dict(type='TensorboardVisBackend')]"],
}


@pytest.mark.slow
@pytest.mark.parametrize('way', list(TENSORBOARD_WAYS))
def test_training_curves_go_to_tensorboard(way, tmp_path):
    pytest.importorskip('tensorboard', reason='requirements/tests.txt')
    data = make_tiny_cityscapes(tmp_path / 'cityscapes', train=2, val=1)
    config = write_tiny_config(tmp_path / 'tiny.py', data.root, max_iters=2)
    work_dir = tmp_path / 'work'
    run_tool('train.py', [config, '--work-dir', work_dir,
                          *TENSORBOARD_WAYS[way]])
    events, = work_dir.glob('*/vis_data/events.out.tfevents.*')
    from tensorboard.backend.event_processing.event_accumulator import \
        EventAccumulator
    scalars = EventAccumulator(str(events)).Reload().Tags()['scalars']
    assert 'loss' in scalars and 'mIoU' in scalars
    # the local backend stays: scalars.json beside the events
    assert list(work_dir.glob('*/vis_data/scalars.json'))


def shipped_checkpoint(config, path):
    """Random weights of a shipped config's model (no ImageNet weights),
    saved as training does."""
    from mmengine.registry import init_default_scope
    from mmseg.registry import MODELS
    cfg = runner_setup.load_config(
        config, {'model.backbone.init_cfg': None})
    init_default_scope('mmseg')
    torch.manual_seed(0)
    model = MODELS.build(cfg.model)
    torch.save(dict(meta=dict(iter=1), state_dict=model.state_dict()), path)
    return str(path)


@pytest.mark.slow
def test_test_tool_with_tta_on_every_domain(tmp_path, monkeypatch):
    from tests.helpers.data_factory import make_cityscapes, make_gta5, \
        write_split_file
    make_cityscapes(tmp_path / 'cityscapes', {'val': 2}, size=(32, 64))
    gta = make_gta5(tmp_path / 'gta5', num_images=1, size=(32, 58))
    write_split_file(tmp_path / 'gta5' / 'splits' / 'test.txt', gta.ids)
    monkeypatch.setenv('IBNSEG_CITYSCAPES_ROOT', str(tmp_path / 'cityscapes'))
    monkeypatch.setenv('IBNSEG_GTA5_ROOT', str(tmp_path / 'gta5'))
    config = osp.join(REPO_ROOT, 'configs', 'ibn_b_cityscapes.py')
    checkpoint = shipped_checkpoint(config, tmp_path / 'model.pth')
    work_dir = tmp_path / 'test'
    run_tool('test.py', [
        config, checkpoint, '--tta', '--scale', '64', '32', '--work-dir',
        work_dir, '--cfg-options', 'model.backbone.init_cfg=None',
        'test_dataloader.num_workers=0',
        'test_dataloader.persistent_workers=False'
    ], cwd=tmp_path)
    # mmengine's own log: the TTA model ran each domain's augmented images
    log, = work_dir.glob('*/*.log')
    text = log.read_text()
    assert "type='SegTTAModel'" in text
    # the source's test_dataloader and both domains, augmented
    assert text.count("type='TestTimeAug'") >= 3
    for domain in ('cityscapes', 'gta5'):
        assert f'{domain}/mIoU: ' in text
