"""DomainSegVisualizationHook: mmseg's drawing, pictures named by domain."""
import os

import cv2
import numpy as np
import pytest
import torch
from mmengine.config import Config
from mmengine.structures import PixelData
from mmseg.structures import SegDataSample
from mmseg.visualization import SegLocalVisualizer

import ibnseg  # noqa: F401  (registers the hook)
from ibnseg.engine.runner_setup import enable_visualization
from ibnseg.engine.hooks.visualization_hook import \
    DomainSegVisualizationHook


def _sample(img_path, domain=None, value=0):
    metainfo = dict(img_path=img_path)
    if domain is not None:
        metainfo['domain'] = domain
    sample = SegDataSample(metainfo=metainfo)
    sample.pred_sem_seg = PixelData(data=torch.full((1, 4, 6), value))
    return sample


class _TestRunner:
    """What the hook reads of a Runner in tools/test.py: the training loop
    is still a config, and reading ``iter`` would build it (and its
    dataset)."""
    _train_loop = dict(type='IterBasedTrainLoop', max_iters=10)

    @property
    def iter(self):
        raise AssertionError('the training loop (and dataset) was built')


def test_same_file_names_in_two_domains_make_two_pictures(tmp_path):
    image = tmp_path / 'frame.png'
    cv2.imwrite(str(image), np.full((4, 6, 3), 128, np.uint8))
    SegLocalVisualizer.get_instance(
        'domain_hook_test', vis_backends=[dict(type='LocalVisBackend')],
        save_dir=str(tmp_path / 'show'))
    hook = DomainSegVisualizationHook(draw=True, interval=1)
    hook._visualizer.dataset_meta = dict(classes=('a', 'b'),
                                         palette=[[255, 0, 0], [0, 0, 255]])
    hook.after_test_iter(_TestRunner(), 0, {}, [
        _sample(str(image), 'source', 0),
        _sample(str(image), 'source@night', 1),
        _sample(str(image)),  # mmseg's name without a domain
    ])
    folder = tmp_path / 'show' / 'vis_data' / 'vis_image'
    assert sorted(os.listdir(folder)) == [
        'test_frame.png_0.png', 'test_source@night_frame.png_0.png',
        'test_source_frame.png_0.png']
    # each with its own prediction drawn (class a red, class b blue)
    night = cv2.imread(str(folder / 'test_source@night_frame.png_0.png'))
    day = cv2.imread(str(folder / 'test_source_frame.png_0.png'))
    assert not np.array_equal(night, day)


@pytest.mark.parametrize('hook_type, expected', [
    ('SegVisualizationHook', 'DomainSegVisualizationHook'),
    ('mmseg.SegVisualizationHook', 'mmseg.DomainSegVisualizationHook'),
    ('MyHook', 'MyHook'),  # a hook of the user's own is left alone
])
def test_show_and_show_dir_use_the_domain_hook(hook_type, expected):
    cfg = Config(dict(
        work_dir='work', visualizer=dict(type='SegLocalVisualizer'),
        default_hooks=dict(visualization=dict(type=hook_type))))
    enable_visualization(cfg, show=True, show_dir='painted', wait_time=0.5)
    assert cfg.default_hooks.visualization == dict(
        type=expected, draw=True, show=True, wait_time=0.5)
    assert cfg.visualizer.save_dir == os.path.join('work', 'painted')
    enable_visualization(cfg, show_dir='/abs/painted')
    assert cfg.visualizer.save_dir == '/abs/painted'
    with pytest.raises(ValueError, match='--show/--show-dir need default_'
                       'hooks.visualization in the config'):
        enable_visualization(Config(dict(default_hooks={})), show=True)
