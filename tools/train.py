"""Train a segmentor: mmseg 1.2.2's ``tools/train.py`` with ibnseg loaded.

Same command line as mmseg's, plus ``--crop-size``/``--scale``,
``--tensorboard`` and ``--verbose``. Before anything is built, the work dir
is checked and ``load_from`` or the checkpoint ``--resume`` continues from is
loaded (safely, see ``ibnseg.utils.checkpoint``); a configured
``CheckpointHook`` becomes ``AtomicCheckpointHook``. The console shows one
line per phase; everything printed goes to ``<work dir>/train.log``
(``--verbose`` prints it instead).
"""
import argparse
import os.path as osp

import ibnseg  # noqa: F401  (registers ibnseg's modules)
from ibnseg.engine.fileio import check_output_dir
from ibnseg.engine.progress import run_with_console
from ibnseg.engine.runner_setup import (add_runner_args, build_runner,
                                        check_load_from, check_vis_backends,
                                        enable_amp, enable_tensorboard,
                                        exit_with_error, load_config,
                                        parse_runner_args, run_or_exit,
                                        set_resume, set_work_dir,
                                        use_atomic_checkpoints)
from ibnseg.engine.sizes import add_size_args, apply_sizes
from ibnseg.utils import CheckpointError


def parse_args():
    parser = argparse.ArgumentParser(description='Train a segmentor')
    parser.add_argument('config', help='train config file path')
    parser.add_argument('--work-dir', help='the dir to save logs and models')
    parser.add_argument(
        '--resume', action='store_true',
        help='continue the run in the work_dir from the checkpoint its '
        'last_checkpoint file names (none: start as without --resume)')
    parser.add_argument(
        '--amp', action='store_true',
        help='enable automatic-mixed-precision training (bfloat16 '
        'autocast on CPU)')
    parser.add_argument(
        '--tensorboard', action='store_true',
        help='also log to TensorBoard (mmengine\'s TensorboardVisBackend; '
        'event files in the work dir\'s <timestamp>/vis_data/); needs '
        "pip install tensorboard or the extra 'ibnseg[tensorboard]'")
    add_size_args(parser)
    add_runner_args(parser)
    return parser, parse_runner_args(parser)


def main():
    parser, args = parse_args()
    try:
        cfg = load_config(args.config, args.cfg_options, args.launcher)
        apply_sizes(cfg, args.crop_size, args.scale)
        set_work_dir(cfg, args.work_dir, args.config)
        if args.amp:
            enable_amp(cfg)
        if args.tensorboard:
            enable_tensorboard(cfg)
        check_vis_backends(cfg)
        check_output_dir(cfg.work_dir,
                         '--work-dir' if args.work_dir else 'work_dir')
        set_resume(cfg, args.resume)
        if not cfg.resume:
            check_load_from(cfg, '--cfg-options load_from' if 'load_from' in (
                args.cfg_options or {}) else 'load_from')
    except (FileNotFoundError, ValueError) as error:
        parser.error(str(error))
    except CheckpointError as error:
        exit_with_error(error)
    use_atomic_checkpoints(cfg)
    run_or_exit(lambda: run_with_console(
        lambda: build_runner(cfg), 'train',
        osp.join(cfg.work_dir, 'train.log'), args.verbose))


if __name__ == '__main__':
    main()
