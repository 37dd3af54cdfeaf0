"""Test (and evaluate) a checkpoint: mmseg 1.2.2's ``tools/test.py`` with
ibnseg loaded.

Same command line as mmseg's, plus ``--scale`` and ``--verbose``; ``--out``
writes a folder per domain with ``CrossDomainIoUMetric`` and ``--show-dir``
names the pictures by domain. Before the model is built, every output
location is checked and the checkpoint loaded (safely, see
``ibnseg.utils.checkpoint``). The console shows the test's progress and its
mIoU values; everything printed goes to ``<work dir>/test.log``
(``--verbose`` prints it instead).
"""
import argparse
import os.path as osp

import ibnseg  # noqa: F401  (registers ibnseg's modules)
from ibnseg.engine.fileio import check_output_dir
from ibnseg.engine.progress import run_with_console
from ibnseg.engine.runner_setup import (add_runner_args, build_runner,
                                        check_checkpoint,
                                        check_checkpoint_loads,
                                        check_vis_backends, enable_tta,
                                        enable_visualization, exit_with_error,
                                        load_config, parse_runner_args,
                                        run_or_exit, save_predictions,
                                        set_work_dir)
from ibnseg.engine.sizes import add_size_args, apply_sizes
from ibnseg.utils import CheckpointError


def parse_args():
    parser = argparse.ArgumentParser(
        description='MMSeg test (and eval) a model')
    parser.add_argument('config', help='test config file path')
    parser.add_argument('checkpoint', help='checkpoint file')
    parser.add_argument(
        '--work-dir',
        help='the dir for logs and the metrics dumped as json')
    parser.add_argument(
        '--out',
        help='the dir to save each prediction as a PNG of class indices '
        '(in <out>/<domain>/ with a CrossDomainIoUMetric)')
    parser.add_argument(
        '--show', action='store_true', help='show prediction results')
    parser.add_argument(
        '--show-dir',
        help='dir to save painted predictions (every interval-th image of '
        'default_hooks.visualization) in <show-dir>/vis_data/vis_image/; '
        'relative to the work dir unless absolute')
    parser.add_argument(
        '--wait-time', type=float, default=2, help='the interval of show (s)')
    add_size_args(parser, crop=False)
    add_runner_args(parser)
    parser.add_argument(
        '--tta', action='store_true', help='Test time augmentation')
    return parser, parse_runner_args(parser)


def main():
    parser, args = parse_args()
    try:
        check_checkpoint(args.checkpoint)
        cfg = load_config(args.config, args.cfg_options, args.launcher)
        apply_sizes(cfg, scale=args.scale)
        set_work_dir(cfg, args.work_dir, args.config)
        if args.show or args.show_dir:
            enable_visualization(cfg, args.show, args.show_dir,
                                 args.wait_time)
        if args.tta:
            enable_tta(cfg)
        check_vis_backends(cfg)
        check_output_dir(cfg.work_dir,
                         '--work-dir' if args.work_dir else 'work_dir')
        check_output_dir(args.out, '--out')
        if args.show_dir:
            check_output_dir(cfg.visualizer.save_dir, '--show-dir')
        check_checkpoint_loads(args.checkpoint)
    except (FileNotFoundError, ValueError) as error:
        parser.error(str(error))
    except CheckpointError as error:
        exit_with_error(error)
    cfg.load_from = args.checkpoint
    if args.out is not None:
        save_predictions(cfg, args.out)
    run_or_exit(lambda: run_with_console(
        lambda: build_runner(cfg), 'test',
        osp.join(cfg.work_dir, 'test.log'), args.verbose))


if __name__ == '__main__':
    main()
