"""Wrong options of the backbones and layers are refused at construction,
naming the class, the option, the value given and what is expected."""
import re

import pytest

from ibnseg.models import (IBN, IBNDenseNet, IBNResNet, IBNResNetV1c,
                           IBNResNetV1d, IBNResNeXt, IBNSEResNet, ParallelIBN,
                           PartialInstanceNorm, SqueezeExcitation)

DEPTHS = '(18, 34, 50, 101, 152)'
VARIANTS = "(None, 'a', 'b', 'c', 'd', 'a&d', 'ax2')"
STAGES = 'must be a list or tuple of 4 bools (one per stage)'


def _small(cls=IBNResNet, **kwargs):
    kwargs.setdefault('depth', 18)
    return cls(base_channels=8, stem_channels=8, **kwargs)


CASES = [
    (lambda: IBNResNet(depth='50'), TypeError,
     f"IBNResNet: depth must be an int, one of {DEPTHS}, got '50' (str)"),
    (lambda: IBNResNet(depth=50, ibn=['a']), TypeError,
     f"IBNResNet: ibn must be one of {VARIANTS}, got ['a'] (list)"),
    (lambda: IBNResNet(depth=50, ibn='a', ibn_ratio='0.5'), TypeError,
     "IBNResNet: ibn_ratio must be a number in [0, 1], got '0.5' (str)"),
    # bools are not ints or numbers here (True would be taken as 1)
    (lambda: _small(depth=True), TypeError,
     f'IBNResNet: depth must be an int, one of {DEPTHS}, got True (bool)'),
    (lambda: _small(ibn_ratio=True), TypeError,
     'IBNResNet: ibn_ratio must be a number in [0, 1], got True (bool)'),
    (lambda: _small(depth=42), ValueError,
     f'IBNResNet: depth must be an int, one of {DEPTHS}, got 42 (int)'),
    (lambda: _small(ibn='A'), ValueError,
     f"IBNResNet: ibn must be one of {VARIANTS}, got 'A' (str)"),
    (lambda: _small(ibn_ratio=float('nan')), ValueError,
     'IBNResNet: ibn_ratio must be a number in [0, 1], got nan (float)'),
    (lambda: _small(ibn_ratio=-0.1), ValueError,
     'IBNResNet: ibn_ratio must be a number in [0, 1], got -0.1 (float)'),
    (lambda: _small(ibn='d', ibn_ratio=0.0), ValueError,
     "IBNResNet: ibn='d' needs ibn_ratio > 0"),
    (lambda: _small(ibn_stages=5), TypeError,
     f'IBNResNet: ibn_stages {STAGES}, got 5 (int)'),
    (lambda: _small(ibn_stages=[1, 1, 1, 0]), ValueError,
     f'IBNResNet: ibn_stages {STAGES}, got [1, 1, 1, 0] (list)'),
    (lambda: _small(ibn_stages=(True, False)), ValueError,
     f'IBNResNet: ibn_stages {STAGES}, got (True, False) (tuple)'),
    (lambda: _small(num_stages='4'), TypeError,
     "IBNResNet: num_stages must be an int in [1, 4], got '4' (str)"),
    (lambda: _small(depth=50, ibn='c', dcn=dict(type='DCN', deform_groups=1),
                    stage_with_dcn=(True, ) * 4), ValueError,
     'IBN-c doubles the input of conv2 and cannot be combined with dcn'),
    (lambda: _small(IBNResNetV1c, deep_stem=False), TypeError,
     'IBNResNetV1c: deep_stem is fixed to True by this backbone and cannot '
     'be given, got False'),
    (lambda: _small(IBNResNetV1d, avg_down=False), TypeError,
     'IBNResNetV1d: avg_down is fixed to True by this backbone and cannot '
     'be given, got False'),
    (lambda: _small(IBNResNeXt, depth=50, groups='32'), TypeError,
     "IBNResNeXt: groups must be an int >= 1, got '32' (str)"),
    (lambda: _small(IBNResNeXt, depth=50, base_width=4.5), TypeError,
     'IBNResNeXt: base_width must be an int >= 1, got 4.5 (float)'),
    (lambda: _small(IBNResNeXt, depth=18), ValueError,
     'IBNResNeXt: depth must be an int, one of (50, 101, 152), got 18 (int)'),
    (lambda: _small(IBNSEResNet, se_reduction=0), ValueError,
     'IBNSEResNet: se_reduction must be an int >= 1, got 0 (int)'),
    (lambda: IBN('64'), TypeError,
     "IBN: num_features must be an int >= 1, got '64' (str)"),
    (lambda: IBN(64, norm_cfg='BN'), TypeError,
     "IBN: norm_cfg must be a dict with a 'type' entry (e.g. "
     "dict(type='BN')), got 'BN' (str)"),
    (lambda: IBN(64, fused='no'), TypeError,
     "IBN: fused must be a bool (True or False), got 'no' (str)"),
    (lambda: IBN(64, eps='1e-5'), TypeError,
     "IBN: eps must be a number > 0, got '1e-5' (str)"),
    (lambda: ParallelIBN('64'), TypeError,
     "ParallelIBN: num_features must be an int >= 1, got '64' (str)"),
    (lambda: PartialInstanceNorm(64, '1'), TypeError,
     "PartialInstanceNorm: ratio must be a number in (0, 1], got '1' (str)"),
    (lambda: PartialInstanceNorm(64, 1.5), ValueError,
     'PartialInstanceNorm: ratio must be a number in (0, 1], got 1.5 '
     '(float)'),
    (lambda: IBN(4, ratio=1.5), ValueError,
     'IBN: ratio must be a number in [0, 1], got 1.5 (float)'),
    (lambda: IBN(4, norm_cfg=dict(type='IBN')), ValueError,
     'IBN: norm_cfg names the norm of the BN part and cannot be IBN itself'),
    (lambda: IBN(8, order='BN-in'), ValueError,
     "IBN: order must be one of ('IN-BN', 'BN-IN'), got 'BN-in' (str)"),
    (lambda: PartialInstanceNorm(3, 0.2), ValueError,
     'PartialInstanceNorm: ratio 0.2 of 3 channels normalises no channel'),
    (lambda: SqueezeExcitation(64, '16'), TypeError,
     "SqueezeExcitation: reduction must be an int >= 1, got '16' (str)"),
    (lambda: SqueezeExcitation(8, 16), ValueError,
     'SqueezeExcitation: reduction 16 leaves no hidden unit for 8 channels'),
    (lambda: IBNDenseNet(depth='121'), TypeError,
     'IBNDenseNet: depth must be an int, one of (121, 161, 169, 201), got '
     "'121' (str)"),
    (lambda: IBNDenseNet(ibn='b'), ValueError,
     "IBNDenseNet: ibn must be one of (None, 'a'), got 'b' (str)"),
    (lambda: IBNDenseNet(strides=(2, 2, 2, 2)), ValueError,
     'IBNDenseNet: strides[0] must be 1 (the stem has its own stride 4), '
     'got strides=(2, 2, 2, 2)'),
    (lambda: IBNDenseNet(strides=(1, 3, 1, 1)), ValueError,
     'IBNDenseNet: each of strides must be an int, one of (1, 2), got 3 '
     '(int)'),
    (lambda: IBNDenseNet(strides=(1, 2, 2)), ValueError,
     'IBNDenseNet: strides must be a list or tuple of 4 ints, each one of '
     '(1, 2), got (1, 2, 2) (tuple)'),
    (lambda: IBNDenseNet(dilations=(1, 1, 0, 1)), ValueError,
     'IBNDenseNet: each of dilations must be an int >= 1, got 0 (int)'),
    (lambda: IBNDenseNet(out_indices=(0, 4)), ValueError,
     'IBNDenseNet: each of out_indices must be an int, one of (0, 1, 2, 3), '
     'got 4 (int)'),
    (lambda: IBNDenseNet(out_indices=(1, 1)), ValueError,
     'IBNDenseNet: out_indices must be distinct stage indices from 0-3, got '
     '(1, 1)'),
    (lambda: IBNDenseNet(ibn_stages=(True, )), ValueError,
     f'IBNDenseNet: ibn_stages {STAGES}, got (True,) (tuple)'),
    (lambda: IBNDenseNet(frozen_stages=5), ValueError,
     'IBNDenseNet: frozen_stages must be an int in [-1, 4], got 5 (int)'),
    (lambda: IBNDenseNet(norm_eval=1), TypeError,
     'IBNDenseNet: norm_eval must be a bool (True or False), got 1 (int)'),
]


@pytest.mark.parametrize('build,error,message', CASES)
def test_wrong_option_names_option_value_and_expectation(
        build, error, message):
    with pytest.raises(error, match=f'^{re.escape(message)}$'):
        build()


def test_right_options_build():
    model = _small(depth=18, ibn='a', ibn_ratio=1, ibn_stages=[True] * 4)
    assert all(isinstance(getattr(model, f'layer{i}')[-1].bn1, IBN)
               for i in range(1, 5))
    assert IBN(8, ratio=0, fused=False).num_in == 0
    assert PartialInstanceNorm(8, 1).num_features == 8
    assert _small(IBNResNeXt, depth=50, groups=2, base_width=4).depth == 50
