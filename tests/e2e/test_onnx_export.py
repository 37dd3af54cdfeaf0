"""ONNX export (tools/pytorch2onnx.py, ibnseg.apis.onnx_export) and ONNX
inference (tools/infer.py --backend onnxruntime).

The IBN backbones are exported at one size and run by onnxruntime at that
size and at a second one (another batch, height, width and aspect ratio)
against the PyTorch model, with both exporters (IBN-a's all-ones IN weights
are equal initializers the TorchScript exporter merges). The tool runs on a
shipped config shrunk with ``--cfg-options``; ONNX inference must write the
very label PNGs and overlays of PyTorch inference. Start-up errors run
``main(argv)`` with model loading made to fail the test.
"""
import argparse
import os
import os.path as osp
import sys

import numpy as np
import pytest
import torch
from mmengine.registry import init_default_scope
from PIL import Image

pytest.importorskip('onnx')
pytest.importorskip('onnxruntime')
import onnx  # noqa: E402

from ibnseg.apis.onnx_export import (  # noqa: E402
    ExportError, SegmentorForExport, check_exportable, export_onnx,
    import_onnx_package, second_shape, verify_onnx)
from tests.helpers.tools import (  # noqa: E402
    REPO_ROOT, load_tool, run_main, run_tool)

NORM = dict(type='BN', requires_grad=True)
#: A dilated ResNet-18 at an eighth of the width, as the demo's models.
TINY_RESNET = dict(
    type='IBNResNet', depth=18, stem_channels=8, base_channels=8,
    out_indices=(3, ), dilations=(1, 1, 2, 4), strides=(1, 2, 1, 1),
    contract_dilation=True, norm_cfg=NORM, style='pytorch')
#: DenseNet-121-IBN-a's layout (stem, 4 blocks, IBN in the norm1 of layers
#: 1 and 4 of blocks 1-3, dilated) with 4 layers per block and growth 8,
#: patched into IBNDenseNet's depth table for the test.
TINY_DENSENET_ARCH = (16, 8, (4, 4, 4, 4))
CASES = {
    'plain': dict(TINY_RESNET, ibn=None),
    'ibn_a': dict(TINY_RESNET, ibn='a'),
    'ibn_b': dict(TINY_RESNET, ibn='b'),
    'densenet_ibn_a': dict(
        type='IBNDenseNet', depth=121, ibn='a', strides=(1, 2, 1, 1),
        dilations=(1, 1, 2, 4), out_indices=(3, ), norm_cfg=NORM),
}
SHAPE = (64, 96)
SECOND = (2, *second_shape(SHAPE))

SHIPPED = osp.join(REPO_ROOT, 'configs', 'ibn_b_cityscapes.py')
DEMO = osp.join(REPO_ROOT, 'configs', 'demo', 'fcn_r18-tiny-d8_synthetic.py')
#: configs/ibn_b_cityscapes.py (IBN-b ResNet-50, FCN, auxiliary head) as a
#: ResNet-18 of 8 base channels, testing at 96x48 (the Resize keeps the
#: aspect ratio), so that the resize and the resize back are exercised.
SHRINK = [
    'model.backbone.depth=18', 'model.backbone.stem_channels=8',
    'model.backbone.base_channels=8', 'model.decode_head.in_channels=64',
    'model.decode_head.channels=16', 'model.auxiliary_head.in_channels=32',
    'model.auxiliary_head.channels=16', 'test_pipeline.1.scale=(96,48)'
]


@pytest.fixture
def tiny_densenet(monkeypatch):
    from ibnseg.models.backbones.densenet_ibn import IBNDenseNet
    monkeypatch.setattr(IBNDenseNet, 'arch_settings',
                        {**IBNDenseNet.arch_settings,
                         121: TINY_DENSENET_ARCH})


def _segmentor(backbone: dict):
    """An EncoderDecoder with an FCN head on ``backbone``, random weights,
    in eval mode."""
    from mmseg.registry import MODELS
    init_default_scope('mmseg')
    torch.manual_seed(0)
    probe = MODELS.build(backbone).eval()
    with torch.no_grad():
        channels = probe(torch.zeros(1, 3, 64, 64))[-1].shape[1]
    model = MODELS.build(dict(
        type='EncoderDecoder',
        data_preprocessor=dict(
            type='SegDataPreProcessor', mean=[123.675, 116.28, 103.53],
            std=[58.395, 57.12, 57.375], bgr_to_rgb=True),
        backbone=backbone,
        decode_head=dict(
            type='FCNHead', in_channels=channels, in_index=0, channels=16,
            num_convs=1, concat_input=False, num_classes=19, norm_cfg=NORM,
            align_corners=False),
        test_cfg=dict(mode='whole')))
    # BN statistics other than 0 and 1, as a trained model has
    for module in model.modules():
        if isinstance(module, torch.nn.BatchNorm2d):
            module.running_mean.uniform_(-0.5, 0.5)
            module.running_var.uniform_(0.5, 2)
    return model.eval()


def _check_parity(results, fp16=False):
    for result in results:
        assert result.max_rel < (5e-2 if fp16 else 1e-4), result.describe()
        assert result.agreement > (0.99 if fp16 else 0.999), \
            result.describe()


@pytest.mark.slow
@pytest.mark.parametrize('case, exporter, argmax', [
    ('ibn_a', 'dynamo', False), ('densenet_ibn_a', 'dynamo', False),
    ('ibn_a', 'torchscript', False), ('plain', 'torchscript', True)
])  # IBN-b, dynamo: the tool's export below
def test_exported_at_one_size_runs_at_another(case, exporter, argmax,
                                              tmp_path, request):
    if case.startswith('densenet'):
        request.getfixturevalue('tiny_densenet')
    model = _segmentor(CASES[case])
    path = str(tmp_path / f'{case}.onnx')
    export_onnx(model, path, SHAPE, exporter=exporter, with_argmax=argmax)
    inputs = onnx.load(path).graph.input[0].type.tensor_type.shape.dim
    assert [d.HasField('dim_param') for d in inputs] == \
        [True, False, True, True]
    results = verify_onnx(path, SegmentorForExport(model).eval(),
                          [(1, *SHAPE), SECOND])
    if argmax:  # labels only: no logit errors, every pixel's class agrees
        assert [r.agreement for r in results] == [1.0, 1.0]
        assert np.isnan(results[0].max_abs)
    else:
        _check_parity(results)


def _input_types(path):
    model = onnx.shape_inference.infer_shapes(onnx.load(path))
    types = {v.name: v.type.tensor_type.elem_type
             for v in list(model.graph.value_info) + list(model.graph.input)}
    return {op: [types.get(n.input[0]) for n in model.graph.node
                 if n.op_type == op]
            for op in ('InstanceNormalization', 'Conv')}


@pytest.mark.slow
def test_fp16_keeps_instance_norm_in_fp32(tmp_path):
    model = _segmentor(CASES['ibn_b'])
    path = str(tmp_path / 'ibn_b_fp16.onnx')
    export_onnx(model, path, SHAPE, fp16=True)
    types = _input_types(path)
    # IBN-b: IN after the stem and after layer1 and layer2
    assert types['InstanceNormalization'] == [onnx.TensorProto.FLOAT] * 3
    assert set(types['Conv']) == {onnx.TensorProto.FLOAT16}
    # the caller's model stays float32: it is the reference
    assert next(model.parameters()).dtype == torch.float32
    _check_parity(verify_onnx(path, SegmentorForExport(model).eval(),
                              [(1, *SHAPE), SECOND]), fp16=True)


def _shrink_options() -> dict:
    """SHRINK as the tools parse it."""
    from ibnseg.engine.cfg_options import CfgOptionsAction
    parser = argparse.ArgumentParser()
    parser.add_argument('--cfg-options', nargs='+', action=CfgOptionsAction)
    return parser.parse_args(['--cfg-options', *SHRINK]).cfg_options


@pytest.fixture(scope='module')
def shipped(tmp_path_factory):
    """A checkpoint of the shrunk shipped config's model (random weights),
    its export through the tool with --verify, and images of three sizes."""
    from mmseg.apis import init_model

    from ibnseg.engine.runner_setup import load_config
    root = tmp_path_factory.mktemp('onnx')
    torch.manual_seed(0)
    model = init_model(load_config(SHIPPED, _shrink_options()), device='cpu')
    checkpoint = str(root / 'ibn_b.pth')
    torch.save(dict(state_dict=model.state_dict()), checkpoint)
    onnx_file = root / 'export' / 'ibn_b.onnx'
    proc = run_tool('pytorch2onnx.py', [
        SHIPPED, checkpoint, '--output-file', onnx_file, '--shape', 48, 96,
        '--verify', '--cfg-options', *SHRINK], timeout=300)
    (root / 'images').mkdir()
    rng = np.random.default_rng(0)
    for name, (w, h) in dict(a=(96, 48), b=(120, 64), c=(70, 90)).items():
        Image.fromarray(rng.integers(0, 256, (h, w, 3), np.uint8)).save(
            root / 'images' / f'{name}.png')
    return dict(root=root, checkpoint=checkpoint, onnx=str(onnx_file),
                output=proc.stdout)


@pytest.mark.slow
def test_tool_exports_and_verifies_a_shipped_config(shipped):
    lines = [line for line in shipped['output'].splitlines()
             if line.startswith('verify')]
    assert lines[0].startswith('verify 48x96 batch 1: max abs error ')
    assert lines[1].startswith('verify 32x56 batch 2: max abs error ')
    assert 'argmax agreement 100.000%' in lines[0]
    assert lines[2].startswith('verify: onnxruntime matches PyTorch within')
    props = {p.key: p.value for p in onnx.load(shipped['onnx']).metadata_props}
    assert props['ibnseg.output'] == 'logits'
    assert props['ibnseg.config'] == 'ibn_b_cityscapes.py'
    # nothing but the file in the folder it names (no temporary file left)
    assert os.listdir(osp.dirname(shipped['onnx'])) == ['ibn_b.onnx']


@pytest.mark.slow
def test_onnx_inference_writes_what_pytorch_inference_writes(
        shipped, tmp_path):
    images = shipped['root'] / 'images'
    options = ['--no-progress', '--cfg-options', *SHRINK]
    infer = load_tool('infer')
    assert infer.main([str(a) for a in (
        SHIPPED, shipped['checkpoint'], images, '--out', tmp_path / 'torch',
        *options)]) == 0
    assert infer.main([str(a) for a in (
        SHIPPED, shipped['onnx'], images, '--out', tmp_path / 'onnx',
        '--backend', 'onnxruntime', '--batch-size', '2', *options)]) == 0
    for name in ('a', 'b', 'c'):
        for sub in ('pred', 'vis'):
            expected = np.array(Image.open(tmp_path / 'torch' / sub /
                                           f'{name}.png'))
            got = np.array(Image.open(tmp_path / 'onnx' / sub /
                                      f'{name}.png'))
            np.testing.assert_array_equal(got, expected, f'{sub}/{name}')
    labels = np.array(Image.open(tmp_path / 'torch' / 'pred' / 'b.png'))
    assert labels.shape == (64, 120) and len(np.unique(labels)) >= 3


# start-up errors, before any model is loaded
EXPORT_GUARDS = ('load_segmentor', 'export_onnx')


@pytest.mark.parametrize('extra, message', [
    (['--tolerance', '1e-3'], '--tolerance applies to --verify'),
    (['--shape', '16', '64'], 'argument --shape: 16: a side of at least 32'),
    (['--cfg-options', 'model.test_cfg.mode=slide'],
     "model.test_cfg.mode='slide'; only whole-image inference is exported"),
    (['--output-file', '{tmp}'], '--output-file {tmp}: is a folder, not a'),
])
def test_export_tool_refuses_before_loading(extra, message, tmp_path,
                                            monkeypatch, capsys):
    extra = [str(a).format(tmp=tmp_path) for a in extra]
    code, err = run_main('pytorch2onnx', [
        DEMO, tmp_path / 'missing.pth', '--output-file',
        tmp_path / 'x.onnx', *extra], monkeypatch, capsys, EXPORT_GUARDS)
    assert code == 2 and message.format(tmp=tmp_path) in err, err


def test_check_exportable_names_what_is_not_exported():
    from mmengine.config import Config
    base = dict(type='EncoderDecoder', decode_head=dict(num_classes=19))
    check_exportable(Config(dict(model=base)))
    for change, message in [
        (dict(type='CascadeEncoderDecoder'), "'CascadeEncoderDecoder'"),
        (dict(data_preprocessor=dict(test_cfg=dict(size_divisor=32))),
         'data_preprocessor.test_cfg pads'),
        (dict(decode_head=dict(num_classes=1)), 'one-channel'),
    ]:
        with pytest.raises(ExportError, match=message.replace('.', r'\.')):
            check_exportable(Config(dict(model={**base, **change})))


def test_onnxruntime_backend_refuses_cuda(tmp_path, monkeypatch, capsys):
    image = tmp_path / 'img.png'
    Image.new('RGB', (8, 8)).save(image)
    code, err = run_main('infer', [
        DEMO, tmp_path / 'x.onnx', image, '--out', tmp_path / 'out',
        '--backend', 'onnxruntime', '--device', 'cuda'], monkeypatch, capsys,
        ('load_segmentor', 'OnnxSegmentor', 'segment_images'))
    assert code == 2
    assert '--device cuda: --backend onnxruntime runs on the CPU' in err


@pytest.mark.slow  # 0.5 s: onnxruntime's import
def test_onnxruntime_backend_names_a_file_it_cannot_use(tmp_path, capsys):
    image = tmp_path / 'img.png'
    Image.new('RGB', (8, 8)).save(image)
    broken = tmp_path / 'x.onnx'
    broken.write_bytes(b'not onnx')
    tool = load_tool('infer')
    code = tool.main([str(a) for a in (
        DEMO, broken, image, '--out', tmp_path / 'out', '--backend',
        'onnxruntime', '--no-progress')])
    assert code == 1
    err = capsys.readouterr().err
    assert f'error: {broken}: onnxruntime cannot load it' in err
    assert not (tmp_path / 'out').exists()


def _fake_segmentor():
    """What SegmentorForExport reads of a segmentor, without a network."""
    from types import SimpleNamespace
    return SimpleNamespace(
        data_preprocessor=SimpleNamespace(
            channel_conversion=True, _enable_normalize=False),
        decode_head=SimpleNamespace(align_corners=False))


def test_export_failures_are_one_line_errors(tmp_path, monkeypatch):
    from ibnseg.apis import onnx_export

    def fail(*args):
        raise RuntimeError('unsupported operator\n  long trace ...')

    monkeypatch.setattr(onnx_export, '_export_proto', fail)
    path = tmp_path / 'x.onnx'
    with pytest.raises(ExportError, match=r'^the dynamo exporter failed: '
                       r'RuntimeError: unsupported operator \(try '
                       r'--exporter torchscript'):
        export_onnx(_fake_segmentor(), str(path), SHAPE)
    # an input fixed at the example's size although dynamic was asked for
    image = onnx.helper.make_tensor_value_info(
        'image', onnx.TensorProto.FLOAT, [1, 3, *SHAPE])
    fixed = onnx.helper.make_model(onnx.helper.make_graph(
        [onnx.helper.make_node('Identity', ['image'], ['logits'])], 'g',
        [image], [onnx.helper.make_tensor_value_info(
            'logits', onnx.TensorProto.FLOAT, None)]))
    monkeypatch.setattr(onnx_export, '_export_proto', lambda *a: fixed)
    with pytest.raises(ExportError, match='fixed batch 1, height 64, width '
                       '96 of the input that was to be dynamic'):
        export_onnx(_fake_segmentor(), str(path), SHAPE)
    assert not os.listdir(tmp_path)  # nothing written
    export_onnx(_fake_segmentor(), str(path), SHAPE, dynamic=False)
    assert os.listdir(tmp_path) == ['x.onnx']


@pytest.mark.parametrize('name', ['onnx', 'onnxruntime'])
def test_a_missing_onnx_package_says_how_to_install_it(monkeypatch, name):
    """onnx and onnxruntime are test dependencies, not runtime ones: a user
    without them gets one line, not an ImportError traceback."""
    monkeypatch.setitem(sys.modules, name, None)  # import raises ImportError
    with pytest.raises(ExportError, match=f'{name} is not installed: pip '
                       'install -r requirements/tests.txt'):
        import_onnx_package(name)
    from ibnseg.apis.onnx_inference import OnnxModelError, OnnxSegmentor
    if name == 'onnxruntime':
        with pytest.raises(OnnxModelError, match='onnxruntime is not'):
            OnnxSegmentor('model.onnx', None, {})
