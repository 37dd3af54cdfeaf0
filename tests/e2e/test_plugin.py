"""ibnseg as a plugin of a plain mmseg project: a config anywhere on disk
with ``custom_imports`` builds, trains, resumes and serves ibnseg models with
mmseg's and mmengine's own APIs (Runner, init_model, MMSegInferencer), in a
Python process that imports mmseg before ibnseg (with mmcv-lite, the
placeholder for mmcv's compiled ops must already be active then)."""
import subprocess
import sys
import textwrap

import pytest

from tests.helpers.readme import readme_plugin_snippet
from tests.helpers.tiny_experiment import (RESNET18_TINY, make_tiny_cityscapes,
                                           write_tiny_config)
from tests.helpers.tools import tool_env

USER_SCRIPT = textwrap.dedent('''
    import sys
    import mmseg.apis
    from mmengine.config import Config
    from mmengine.runner import Runner

    config = sys.argv[1]
    assert 'ibnseg' not in sys.modules
    cfg = Config.fromfile(config)          # runs custom_imports
    assert 'ibnseg' in sys.modules
    cfg.work_dir = sys.argv[2]
    Runner.from_cfg(cfg).train()           # writes iter_2.pth

    cfg = Config.fromfile(config)
    cfg.work_dir = sys.argv[2]
    cfg.train_cfg.max_iters = 3
    cfg.resume = True                      # mmengine checkpoint, safe load
    runner = Runner.from_cfg(cfg)
    runner.train()
    print('RESUMED_AT', runner.iter)

    model = mmseg.apis.init_model(config, sys.argv[2] + '/iter_2.pth',
                                  device='cpu')
    print('BACKBONE', type(model.backbone).__name__, model.backbone.ibn)
    result = mmseg.apis.inference_model(model, sys.argv[3])
    print('PRED_SHAPE', tuple(result.pred_sem_seg.data.shape))

    inferencer = mmseg.apis.MMSegInferencer(
        model=config, weights=sys.argv[2] + '/iter_3.pth', device='cpu')
    outputs = inferencer(sys.argv[3], return_datasamples=True)
    print('INFERENCER_SHAPE', tuple(outputs.pred_sem_seg.data.shape))
''')


@pytest.mark.slow
def test_config_outside_repo_trains_resumes_and_infers(tmp_path):
    data = make_tiny_cityscapes(tmp_path / 'cityscapes', train=2, val=1)
    (tmp_path / 'user_project').mkdir()
    config = write_tiny_config(
        tmp_path / 'user_project' / 'my_config.py', data.root, max_iters=2,
        checkpoint_interval=1,
        backbone=dict(RESNET18_TINY, type='IBNResNet', ibn='a'),
        extra="custom_imports = dict(imports=['ibnseg'], "
        'allow_failed_imports=False)\n')
    image = sorted((tmp_path / 'cityscapes' / 'leftImg8bit' / 'val').rglob(
        '*.png'))[0]
    script = tmp_path / 'user_script.py'
    script.write_text(USER_SCRIPT)
    env = tool_env()
    env.pop('PYTHONPATH', None)  # ibnseg comes from the installed package
    proc = subprocess.run(
        [sys.executable, str(script), config, str(tmp_path / 'work'),
         str(image)], cwd=tmp_path, env=env, stdout=subprocess.PIPE,
        stderr=subprocess.STDOUT, text=True, timeout=300)
    assert proc.returncode == 0, proc.stdout[-5000:]
    assert 'RESUMED_AT 3' in proc.stdout
    assert 'Resumed' in proc.stdout or 'resumed' in proc.stdout
    assert 'BACKBONE IBNResNet a' in proc.stdout
    assert 'PRED_SHAPE (1, 32, 64)' in proc.stdout
    assert 'INFERENCER_SHAPE (1, 32, 64)' in proc.stdout


@pytest.mark.slow
def test_readme_plugin_snippet_builds_and_loads_the_ibn_weights(
        tmp_path, monkeypatch):
    """As mmengine's Runner does: the model built from the config through
    mmseg's registry, its weights initialised from the checkpoint the
    snippet names (relative to the working folder). (Its forward pass:
    test_packaging.py.)"""
    import torch
    from mmengine.config import Config
    from mmengine.registry import init_default_scope
    from mmseg.registry import MODELS

    from ibnseg.models.backbones import IBNResNet

    snippet = readme_plugin_snippet()
    assert "mmseg::" in snippet and 'IBNResNet' in snippet
    (tmp_path / 'my_config.py').write_text(snippet)
    # the published IBN-Net file's layout, with a value to recognise
    weights = IBNResNet(depth=50, ibn='a').state_dict()
    weights['conv1.weight'].fill_(0.125)
    (tmp_path / 'checkpoints').mkdir()
    torch.save(weights,
               tmp_path / 'checkpoints' / 'resnet50_ibn_a-d9d0bb7b.pth')
    monkeypatch.chdir(tmp_path)

    cfg = Config.fromfile(str(tmp_path / 'my_config.py'))
    init_default_scope(cfg.get('default_scope', 'mmseg'))
    model = MODELS.build(cfg.model)
    model.init_weights()
    backbone = model.backbone
    assert type(backbone) is IBNResNet and backbone.ibn == 'a'
    assert not backbone.deep_stem  # the published weights' 7x7 stem
    assert torch.all(backbone.conv1.weight == 0.125)
