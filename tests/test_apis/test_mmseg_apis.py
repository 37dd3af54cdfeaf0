"""mmseg's own inference APIs (init_model + inference_model, and
MMSegInferencer) serve ibnseg's shipped configs, only the Resize smaller."""
import copy
import os.path as osp

import numpy as np
import pytest
import torch
from mmengine.config import Config
from mmseg.apis import MMSegInferencer, inference_model, init_model
from PIL import Image

from ibnseg.datasets.labels import CLASSES, PALETTE
from tests.helpers.tiny_experiment import assert_same_weights
from tests.helpers.tools import REPO_ROOT

CONFIGS = [
    'configs/ibn_b_cityscapes.py',
    'configs/deeplabv3plus/'
    'deeplabv3plus_r50-ibn-a-d8_4xb2-40k_gta5-to-cityscapes-512x1024.py',
    'configs/finetune/'
    'fcn_r50-ibn-b-d8_4xb2-20k_cityscapes-ft-gta5-10pct-512x1024.py',
    'configs/demo/fcn_r18-tiny-ibn-b-d8_synthetic.py',
]
#: (width, height) of the image and of the scale it is resized to.
IMAGE_SIZE = (80, 40)
SMALL_SCALE = (64, 32)


@pytest.fixture(scope='module')
def image(tmp_path_factory):
    path = tmp_path_factory.mktemp('apis') / 'frame_leftImg8bit.png'
    rng = np.random.default_rng(0)
    Image.fromarray(
        rng.integers(0, 256, (IMAGE_SIZE[1], IMAGE_SIZE[0], 3),
                     dtype=np.uint8)).save(path)
    return str(path)


def _resize_indices(pipeline) -> list:
    return [i for i, t in enumerate(pipeline or []) if t['type'] == 'Resize']


@pytest.fixture(scope='module')
def random_checkpoint(tmp_path_factory):
    """``get(cfg) -> (path, state_dict)``: random weights, once per model."""
    folder = tmp_path_factory.mktemp('checkpoints')
    saved = {}

    def get(cfg: Config):
        model_cfg = copy.deepcopy(cfg.model)
        model_cfg.backbone.pop('init_cfg', None)  # init_model drops them
        model_cfg.pop('pretrained', None)
        key = repr(model_cfg.to_dict())
        if key not in saved:
            torch.manual_seed(0)
            model = init_model(copy.deepcopy(cfg), device='cpu')
            path = str(folder / f'model_{len(saved)}.pth')
            meta = dict(dataset_meta=dict(classes=CLASSES, palette=PALETTE))
            torch.save(dict(meta=meta, state_dict=model.state_dict()), path)
            saved[key] = (path, model.state_dict())
        return saved[key]

    return get


@pytest.mark.slow
@pytest.mark.parametrize('config', CONFIGS)
def test_mmseg_inference_apis_serve_the_shipped_config(
        config, image, random_checkpoint):
    config = osp.join(REPO_ROOT, config)
    cfg = Config.fromfile(config)  # read once: these take a second each
    checkpoint, state_dict = random_checkpoint(cfg)

    # init_model + inference_model, with the smaller test scale
    small = {
        f'test_pipeline.{i}.scale': SMALL_SCALE
        for i in _resize_indices(cfg.get('test_pipeline'))
    }
    model = init_model(config, checkpoint, device='cpu', cfg_options=small)
    # init_model and the inferencer load non-strictly: check every key
    assert_same_weights(state_dict, model.state_dict())
    assert model.dataset_meta['classes'] == CLASSES
    result = inference_model(model, image)
    pred = result.pred_sem_seg.data[0].numpy()
    assert pred.shape == (IMAGE_SIZE[1], IMAGE_SIZE[0])
    assert result.seg_logits.data.shape == (19, *pred.shape)

    # MMSegInferencer reads test_dataloader.dataset.pipeline instead
    for i in _resize_indices(cfg.test_dataloader.dataset.get('pipeline')):
        cfg.test_dataloader.dataset.pipeline[i].scale = SMALL_SCALE
    inferencer = MMSegInferencer(model=cfg, weights=checkpoint, device='cpu')
    assert_same_weights(state_dict, inferencer.model.state_dict())
    sample = inferencer(image, return_datasamples=True)
    np.testing.assert_array_equal(sample.pred_sem_seg.data[0].numpy(), pred)
