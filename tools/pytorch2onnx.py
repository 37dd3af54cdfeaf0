"""Export a trained model to ONNX, optionally checking it with onnxruntime.

The graph is ``ibnseg.apis.onnx_export``'s (RGB 0-255 images in, logits or
labels at the input size out; the test pipeline's resize stays outside, as
``tools/infer.py --backend onnxruntime`` applies it). ``--verify`` compares
onnxruntime with PyTorch at the example size and a second one and fails
(status 1) beyond ``--tolerance`` or below 99.9% argmax agreement (99%
with ``--fp16``). Bad options, config or output file end it with status 2
before the model loads; an unusable checkpoint or a failed export with
status 1. See docs/deployment.md.
"""
import argparse
import json
import os.path as osp
import sys

from mmengine.logging import print_log

import ibnseg  # noqa: F401  (registers ibnseg's modules)
from ibnseg.apis import inference_dataset_meta, load_segmentor
from ibnseg.apis.onnx_export import (EXPORTERS, ExportError,
                                     SegmentorForExport, check_exportable,
                                     export_onnx, second_shape, verify_onnx)
from ibnseg.engine.cfg_options import CFG_OPTIONS_HELP, CfgOptionsAction
from ibnseg.engine.fileio import check_output_options
from ibnseg.engine.runner_setup import check_checkpoint, load_config
from ibnseg.utils import CheckpointError

#: Smallest example side: the dilated backbones downsample 8 times and IN
#: needs more than one element per channel at the lowest resolution.
MIN_SIDE = 32


def _side(text: str) -> int:
    value = int(text)
    if value < MIN_SIDE:
        raise argparse.ArgumentTypeError(
            f'{text}: a side of at least {MIN_SIDE} pixels is needed')
    return value


def _positive_float(text: str) -> float:
    value = float(text)
    if not value > 0:
        raise argparse.ArgumentTypeError(f'{text} is not a positive number')
    return value


def parse_args(argv=None):
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument('config', help='the model\'s config file')
    parser.add_argument('checkpoint', help='its checkpoint file')
    parser.add_argument(
        '--output-file', required=True, help='the .onnx file to write')
    parser.add_argument(
        '--shape', type=_side, nargs=2, default=[512, 1024],
        metavar=('H', 'W'),
        help='height and width of the example image (default 512 1024)')
    parser.add_argument(
        '--with-argmax', action='store_true',
        help='output the class index of every pixel (int64) instead of '
        'the logits')
    parser.add_argument(
        '--static', action='store_true',
        help='fix the input at 1 x 3 x H x W (default: batch, height and '
        'width dynamic)')
    parser.add_argument(
        '--exporter', choices=EXPORTERS, default='dynamo',
        help='dynamo: torch.onnx.export(dynamo=True), the current exporter '
        '(default); torchscript: the legacy TorchScript-based one '
        '(dynamo=False)')
    parser.add_argument(
        '--opset-version', type=int, default=None,
        help='ONNX opset (default: the exporter\'s own for dynamo, 17 for '
        'torchscript)')
    parser.add_argument(
        '--fp16', action='store_true',
        help='the network in float16, its instance normalisation (IBN and '
        'IN layers) in float32; input and logits stay float32')
    parser.add_argument(
        '--verify', action='store_true',
        help='compare onnxruntime with PyTorch on random images of two sizes')
    parser.add_argument(
        '--tolerance', type=_positive_float, default=None,
        help='largest logit error accepted by --verify, relative to the '
        'largest logit (default 1e-3; 5e-2 with --fp16)')
    parser.add_argument(
        '--cfg-options', nargs='+', action=CfgOptionsAction,
        help=CFG_OPTIONS_HELP)
    return parser, parser.parse_args(argv)


def main(argv=None):
    parser, args = parse_args(argv)
    if args.tolerance is not None and not args.verify:
        parser.error('--tolerance applies to --verify, which is not given')
    check_output_options(parser, files={'--output-file': args.output_file})
    try:
        cfg = load_config(args.config, args.cfg_options)
        check_exportable(cfg)
        classes = inference_dataset_meta(cfg)['classes']
        check_checkpoint(args.checkpoint)
    except (FileNotFoundError, ValueError) as error:
        parser.error(str(error))
    shape = tuple(args.shape)
    what = [f'static 1x3x{shape[0]}x{shape[1]}' if args.static else
            'dynamic batch, height and width',
            'labels' if args.with_argmax else 'logits']
    if args.fp16:
        what.append('fp16 with IN in fp32')
    try:
        model = load_segmentor(cfg, args.checkpoint, device='cpu')
        print_log(
            f'exporting {osp.basename(args.config)} with the {args.exporter} '
            f'exporter ({", ".join(what)})', logger='current')
        export_onnx(
            model, args.output_file, shape, exporter=args.exporter,
            dynamic=not args.static, with_argmax=args.with_argmax,
            fp16=args.fp16, opset=args.opset_version,
            metadata=dict(config=osp.basename(args.config),
                          classes=json.dumps(list(classes))))
    except (CheckpointError, ExportError) as error:
        print(f'error: {error}', file=sys.stderr)
        return 1
    print_log(f'wrote {args.output_file}', logger='current')
    if not args.verify:
        return 0
    shapes = [(1, *shape)]
    if not args.static:
        shapes.append((2, *second_shape(shape)))
    tolerance = args.tolerance or (5e-2 if args.fp16 else 1e-3)
    min_agreement = 0.99 if args.fp16 else 0.999
    reference = SegmentorForExport(model).eval()
    try:
        results = verify_onnx(args.output_file, reference, shapes)
    except ExportError as error:
        print(f'error: verify: {error}', file=sys.stderr)
        return 1
    failed = False
    for result in results:
        bad = result.agreement < min_agreement or result.max_rel > tolerance
        failed |= bad
        print(f'verify {result.describe()}'
              f'{" FAILED" if bad else ""}')
    if failed:
        print(f'error: verify: {args.output_file} differs from PyTorch '
              f'beyond the tolerance (max rel error {tolerance:g}, argmax '
              f'agreement {100 * min_agreement:g}%)', file=sys.stderr)
        return 1
    within = 'in the argmax' if args.with_argmax else \
        f'within {tolerance:g} (relative)'
    print(f'verify: onnxruntime matches PyTorch {within} at '
          f'{len(results)} size(s)')
    return 0


if __name__ == '__main__':
    sys.exit(main())
