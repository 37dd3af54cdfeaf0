"""A config naming a published weight file that is not there says where to
download it and where to put it, before anything else fails."""
import pytest
from mmengine.registry import init_default_scope
from mmseg.registry import MODELS

import ibnseg  # noqa: F401
from ibnseg.models.backbones.ibn_weights import WEIGHT_URLS

init_default_scope('mmseg')


@pytest.mark.parametrize('name', ['resnet50_ibn_b-9ca61e85.pth',
                                  'resnet101-63fe2227.pth'])
def test_missing_published_file_names_url_and_place(tmp_path, name):
    path = tmp_path / 'checkpoints' / name
    backbone = MODELS.build(dict(
        type='IBNResNet', depth=18, ibn='a', base_channels=8,
        stem_channels=8, init_cfg=dict(type='Pretrained',
                                       checkpoint=str(path))))
    with pytest.raises(FileNotFoundError) as info:
        backbone.init_weights()
    message = str(info.value)
    assert WEIGHT_URLS[name] in message
    assert str(path) in message


def test_missing_unknown_file_points_at_the_config(tmp_path):
    backbone = MODELS.build(dict(
        type='IBNResNet', depth=18, ibn=None, base_channels=8,
        stem_channels=8, init_cfg=dict(type='Pretrained',
                                       checkpoint=str(tmp_path / 'x.pth'))))
    with pytest.raises(FileNotFoundError, match="x.pth not found.*init_cfg"):
        backbone.init_weights()
