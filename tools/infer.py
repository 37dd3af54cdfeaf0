"""Segment your own images with a trained model.

IMAGES are files, folders (searched recursively) and quoted glob patterns.
Under ``--out``, ``pred/<name>.png`` holds each prediction (trainIds, or
Cityscapes label ids for the benchmark server) and ``vis/<name>.png`` its
colour overlay; ``<name>`` is the image's path below the inputs' common
folder. Bad input (images, ``--out``, config, a missing checkpoint) ends the
tool with a message (status 2) before the model loads; an unusable
checkpoint with one line (status 1). See docs/inference.md.
"""
import argparse
import os.path as osp
import sys

import torch
from mmengine.logging import print_log

import ibnseg  # noqa: F401  (registers ibnseg's modules)
from ibnseg.apis import (LABEL_FORMATS, PRED_DIR, VIS_DIR, ImageInputError,
                         ImageReadError, check_label_format,
                         check_output_paths, find_images,
                         inference_dataset_meta, load_segmentor,
                         segment_images)
from ibnseg.apis.onnx_inference import (BACKENDS, OnnxModelError,
                                        OnnxSegmentor)
from ibnseg.engine.cfg_options import CFG_OPTIONS_HELP, CfgOptionsAction
from ibnseg.engine.fileio import OutputPathError, check_output_options
from ibnseg.engine.runner_setup import check_checkpoint, load_config
from ibnseg.engine.sizes import positive_int
from ibnseg.utils import CheckpointError


def _opacity(text: str) -> float:
    value = float(text)
    if not 0 < value <= 1:
        raise argparse.ArgumentTypeError(f'{text} is not in (0, 1]')
    return value


def parse_args(argv=None):
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument('config', help='the model\'s config file')
    parser.add_argument(
        'checkpoint',
        help='its checkpoint file (with --backend onnxruntime: the .onnx '
        'file tools/pytorch2onnx.py exported)')
    parser.add_argument(
        'images', nargs='+', metavar='IMAGES',
        help='image files, folders (searched recursively) and quoted glob '
        'patterns')
    parser.add_argument(
        '--out', required=True,
        help='output folder: label PNGs in <out>/pred, overlays in <out>/vis')
    parser.add_argument(
        '--label-format', choices=LABEL_FORMATS, default='trainid',
        help='values of the label PNGs: trainid (class indices, default) or '
        'labelid (Cityscapes label ids, for the Cityscapes benchmark)')
    parser.add_argument(
        '--opacity', type=_opacity, default=0.5,
        help='weight of the class colours in the overlay, in (0, 1] '
        '(default 0.5)')
    parser.add_argument(
        '--batch-size', type=positive_int, default=1,
        help='images per forward pass (only images of the same size share '
        'one; default 1)')
    parser.add_argument(
        '--with-labels', action='store_true',
        help='write the class names onto the overlays')
    parser.add_argument(
        '--device', default='cpu',
        help='device to run on: cpu (default), cuda, cuda:N')
    parser.add_argument(
        '--cfg-options', nargs='+', action=CfgOptionsAction,
        help=CFG_OPTIONS_HELP)
    parser.add_argument(
        '--no-progress', action='store_true', help='no progress bar')
    parser.add_argument(
        '--backend', choices=BACKENDS, default='pytorch',
        help='pytorch: build the model and load CHECKPOINT (default); '
        'onnxruntime: run the ONNX file CHECKPOINT on the CPU')
    return parser, parser.parse_args(argv)


def main(argv=None):
    parser, args = parse_args(argv)
    # everything a user can get wrong is checked before the model loads;
    # a second run must not segment the first run's outputs
    try:
        images = find_images(
            args.images,
            exclude=[osp.join(args.out, d) for d in (PRED_DIR, VIS_DIR)])
    except ImageInputError as error:
        parser.error(f'IMAGES: {error}')
    check_output_options(parser, dirs={'--out': args.out})
    try:
        check_output_paths(images, args.out, '--out')
    except OutputPathError as error:
        parser.error(str(error))
    if args.backend == 'onnxruntime' and args.device != 'cpu':
        parser.error(f'--device {args.device}: --backend onnxruntime runs '
                     'on the CPU (the onnxruntime package, not '
                     'onnxruntime-gpu)')
    if args.device.startswith('cuda') and not torch.cuda.is_available():
        parser.error(f'--device {args.device}: no CUDA device is available '
                     '(use --device cpu)')
    try:
        cfg = load_config(args.config, args.cfg_options)
        meta = inference_dataset_meta(cfg)
        check_label_format(args.label_format, meta['classes'])
        check_checkpoint(args.checkpoint)
    except (FileNotFoundError, ValueError) as error:
        parser.error(str(error))
    try:
        if args.backend == 'onnxruntime':
            model = OnnxSegmentor(args.checkpoint, cfg, meta)
        else:
            model = load_segmentor(cfg, args.checkpoint, device=args.device)
            model.dataset_meta = meta
        print_log(f'segmenting {len(images)} image(s) with '
                  f'{osp.basename(args.config)}', logger='current')
        written = segment_images(
            model, images, args.out, label_format=args.label_format,
            opacity=args.opacity, batch_size=args.batch_size,
            with_labels=args.with_labels, progress=not args.no_progress)
    except (CheckpointError, OnnxModelError, ImageReadError) as error:
        print(f'error: {error}', file=sys.stderr)
        return 1
    what = 'trainIds' if args.label_format == 'trainid' else \
        'Cityscapes label ids'
    print_log(
        f'wrote {len(written)} label PNG(s) ({what}) to '
        f'{osp.join(args.out, PRED_DIR)} and overlays to '
        f'{osp.join(args.out, VIS_DIR)}', logger='current')
    return 0


if __name__ == '__main__':
    sys.exit(main())
