"""Every backbone family and IBN module, tiny, in eval mode: traced and
exported (torch.export, the image size symbolic) at one size, both run at
another as in eager mode. (ONNX: tests/e2e/test_onnx_export.py.)"""
import io

import pytest
import torch
from torch.nn.modules.batchnorm import _BatchNorm
from torch.nn.modules.instancenorm import _InstanceNorm

from ibnseg.models import IBNDenseNet, IBNResNet, IBNResNeXt, IBNSEResNet

SMALL = dict(base_channels=8, stem_channels=8)


class TinyDenseNet(IBNDenseNet):
    """DenseNet-121's layout (IBN layers in dense layers 1, 4, ... of blocks
    1-3, order BN-IN) at a fraction of its widths and depths."""

    arch_settings = {121: (8, 4, (4, 1, 1, 1))}


class TinyResNeXt(IBNResNeXt):
    """ResNeXt-50 with one block per stage."""

    arch_settings = {50: (IBNResNeXt.arch_settings[50][0], (1, 1, 1, 1))}


BACKBONES = {
    **{
        f'resnet18-{ibn}': (IBNResNet, dict(depth=18, ibn=ibn, **SMALL))
        for ibn in ('a', 'b', 'c', 'd')
    },
    'resnext50-a': (TinyResNeXt,
                    dict(depth=50, ibn='a', groups=2, base_width=32,
                         **SMALL)),
    'se-resnet18-a': (IBNSEResNet,
                      dict(depth=18, ibn='a', se_reduction=4, **SMALL)),
    'densenet-a': (TinyDenseNet, dict(ibn='a')),
}


def _build(name):
    cls, cfg = BACKBONES[name]
    model = cls(**cfg)
    model.init_weights()
    # running statistics and affine parameters away from 0 and 1, so that
    # a wrong channel range or statistic shows
    gen = torch.Generator().manual_seed(0)
    with torch.no_grad():
        for module in model.modules():
            if isinstance(module, (_BatchNorm, _InstanceNorm)):
                module.weight.uniform_(0.5, 1.5, generator=gen)
                module.bias.uniform_(-0.5, 0.5, generator=gen)
            if isinstance(module, _BatchNorm):
                module.running_mean.uniform_(-0.5, 0.5, generator=gen)
                module.running_var.uniform_(0.5, 1.5, generator=gen)
    return model.eval()


# The example is 64x96, then one input of another size (and batch): every
# map the IN sees keeps more than one element from 64x64 up.
EXAMPLE = (2, 3, 64, 96)
OTHER = (1, 3, 96, 72)


@pytest.mark.slow
@pytest.mark.parametrize('name', list(BACKBONES))
def test_traces_and_exports_with_symbolic_height_and_width(name):
    model = _build(name)
    x, other = torch.randn(EXAMPLE), torch.randn(OTHER)
    with torch.no_grad():
        expected = model(other)
    traced = torch.jit.trace(model, x)
    torch.jit.save(traced, io.BytesIO())  # no Python call left in the graph
    dims = {
        0: torch.export.Dim('batch', max=64),
        2: torch.export.Dim('height', min=64, max=2048),
        3: torch.export.Dim('width', min=64, max=2048)
    }
    program = torch.export.export(model, (x, ), dynamic_shapes=[dims])
    for run in (traced, program.module()):
        outs = run(other)
        assert len(outs) == len(expected)
        for out, want in zip(outs, expected):
            torch.testing.assert_close(out, want, rtol=1e-4, atol=1e-5)
