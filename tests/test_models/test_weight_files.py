"""A config naming a weight file that is not there says where to download
it and where to put it, before anything else fails."""
import re

import pytest
from mmengine.registry import init_default_scope
from mmseg.registry import MODELS

import ibnseg  # noqa: F401
from ibnseg.models.backbones.ibn_weights import WEIGHT_URLS

init_default_scope('mmseg')


@pytest.mark.parametrize('name', ['resnet50_ibn_b-9ca61e85.pth',
                                  'resnet101-63fe2227.pth', 'x.pth'])
def test_missing_file_names_url_and_place(tmp_path, name):
    path = tmp_path / 'checkpoints' / name
    backbone = MODELS.build(dict(
        type='IBNResNet', depth=18, ibn='a', base_channels=8,
        stem_channels=8, init_cfg=dict(type='Pretrained',
                                       checkpoint=str(path))))
    where = (f'download it from {WEIGHT_URLS[name]} and put it at {path}'
             if name in WEIGHT_URLS else "check the path in the config's "
             'init_cfg')
    with pytest.raises(FileNotFoundError, match=re.escape(
            f'weight file {path} not found: {where} (or set the backbone\'s '
            'init_cfg to the URL)')):
        backbone.init_weights()
