"""Options of tools/train.py and tools/test.py as a user meets them:
``--amp`` on CPU, ``--tta``, ``--tensorboard``, ``visualizer.vis_backends``
and malformed ``--cfg-options``."""
import sys

import pytest
import torch

import ibnseg.engine.runner_setup as runner_setup
from ibnseg.engine.amp import CPUAmpOptimWrapper
from tests.helpers.tiny_experiment import (RESNET18_TINY, make_tiny_cityscapes,
                                           write_tiny_config)
from tests.helpers.tools import mmengine_log, run_in_process, run_tool


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


def _no_cpu_autocast(monkeypatch):
    monkeypatch.setattr(runner_setup, 'cpu_bf16_autocast_problem',
                        lambda: 'torch 1.9 cannot')


def _no_tensorboard(monkeypatch):
    # as if neither package were installed (None in sys.modules: not found)
    monkeypatch.setitem(sys.modules, 'tensorboard', None)
    monkeypatch.setitem(sys.modules, 'tensorboardX', None)


def _malformed(value, message):
    """--cfg-options with a malformed dict: the pair, then what is wrong."""
    pair = f'visualizer.vis_backends={value}'
    return (['--cfg-options', pair], None,
            [f'train.py: error: argument --cfg-options: {pair!r}: a value '
             'with dicts', message])


@pytest.mark.parametrize('args, patch, expected', [
    (['--amp'], _no_cpu_autocast,
     ['train.py: error: --amp: no GPU, and bfloat16 autocast on CPU is not '
      'available (torch 1.9 cannot); train without --amp']),
    (['--tensorboard'], _no_tensorboard,
     ['train.py: error: TensorboardVisBackend (--tensorboard or '
      'visualizer.vis_backends) needs TensorBoard, which is not installed: '
      "pip install tensorboard (or ibnseg's extra: pip install "
      "'ibnseg[tensorboard]')"]),
    _malformed('[dict(type=LocalVisBackend)]',
               'LocalVisBackend is not quoted'),
    _malformed("[dict(type='A'),]]", "unmatched ']' at column 18"),
])
def test_train_option_errors_are_one_line_before_any_work(
        args, patch, expected, tmp_path, monkeypatch, capsys):
    """The last line of the error: it starts with ``expected[0]`` and holds
    the rest."""
    if patch:
        patch(monkeypatch)
    config = write_tiny_config(tmp_path / 'tiny.py', tmp_path / 'no_data')
    status, err = run_in_process(
        'train.py', [config, '--work-dir', tmp_path / 'work', *args],
        monkeypatch, capsys)
    assert status == 2
    line = err.strip().splitlines()[-1]
    assert line.startswith(expected[0]) and all(
        part in line for part in expected), line
    assert not (tmp_path / 'work').exists()


def _scalars(work_dir):
    """The scalar tags of the TensorBoard event file of a run."""
    from tensorboard.backend.event_processing.event_accumulator import \
        EventAccumulator
    events, = work_dir.glob('*/vis_data/events.out.tfevents.*')
    # the local backend stays: scalars.json beside the events
    assert list(work_dir.glob('*/vis_data/scalars.json'))
    return EventAccumulator(str(events)).Reload().Tags()['scalars']


@pytest.mark.slow
def test_training_curves_go_to_tensorboard_with_the_switch(tiny_run):
    assert {'loss', 'mIoU'} <= set(_scalars(tiny_run.work_dir))


@pytest.mark.slow
@pytest.mark.skipif(torch.cuda.is_available(), reason='a CPU-only run')
def test_amp_on_cpu_and_tensorboard_through_vis_backends(tmp_path):
    work_dir = tmp_path / 'work'
    data = make_tiny_cityscapes(tmp_path / 'cityscapes', train=2, val=1)
    config = write_tiny_config(
        tmp_path / 'tiny.py', data.root, max_iters=2,
        backbone=dict(RESNET18_TINY, type='IBNResNet', ibn='a'))
    log = run_tool('train.py', [
        config, '--work-dir', work_dir, '--amp', '--verbose', '--cfg-options',
        "visualizer.vis_backends=[dict(type='LocalVisBackend'), "
        "dict(type='TensorboardVisBackend')]"]).stdout
    assert '--amp on CPU: bfloat16 autocast' in log
    assert 'Iter(train) [2/2]' in log
    assert (work_dir / 'iter_2.pth').is_file()
    assert {'loss', 'mIoU'} <= set(_scalars(work_dir))


@pytest.mark.slow
def test_test_tool_with_tta_on_every_domain(readme_run):
    """--tta on the README recipe's checkpoint, as a user would test it."""
    work_dir = readme_run.checkout / 'tta'
    run_tool('test.py', [
        'configs/ibn_b_cityscapes.py', 'work_dirs/small/iter_4.pth', '--tta',
        '--scale', '64', '32', '--work-dir', work_dir, '--cfg-options',
        'model.backbone.init_cfg=None', 'test_dataloader.num_workers=0',
        'test_dataloader.persistent_workers=False'
    ], cwd=readme_run.checkout)
    # mmengine's own log: the TTA model ran each domain's augmented images
    text = mmengine_log(work_dir)
    assert "type='SegTTAModel'" in text
    # the source's test_dataloader and both domains, augmented
    assert text.count("type='TestTimeAug'") >= 3
    for domain in ('cityscapes', 'gta5'):
        assert f'{domain}/mIoU: ' in text
