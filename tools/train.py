"""Train a segmentor: mmseg 1.2.2's ``tools/train.py`` with ibnseg loaded.

Same command line as mmseg's; differences: ibnseg is imported (its
backbones, datasets and metrics work without ``custom_imports``), a
``CheckpointHook`` in the config is swapped for ``AtomicCheckpointHook`` (a
killed run always resumes), and distributed runs work on CPU-only machines
(gloo backend, see ``ibnseg.engine.distributed``).
"""
import argparse
import os

from mmengine.config import DictAction

import ibnseg  # noqa: F401  (registers ibnseg's modules)
from ibnseg.engine.runner_setup import (build_runner, enable_amp, load_config,
                                        set_work_dir, use_atomic_checkpoints)


def parse_args():
    parser = argparse.ArgumentParser(description='Train a segmentor')
    parser.add_argument('config', help='train config file path')
    parser.add_argument('--work-dir', help='the dir to save logs and models')
    parser.add_argument(
        '--resume', action='store_true',
        help='resume from the latest checkpoint in the work_dir '
        '(named by its last_checkpoint file)')
    parser.add_argument(
        '--amp', action='store_true',
        help='enable automatic-mixed-precision training')
    parser.add_argument(
        '--cfg-options', nargs='+', action=DictAction,
        help='override config settings, key=value pairs such as '
        'train_cfg.max_iters=100 or key="[a,b]" for lists (quotes needed, '
        'no white space)')
    parser.add_argument(
        '--launcher', choices=['none', 'pytorch', 'slurm', 'mpi'],
        default='none', help='job launcher')
    # torch >= 2.0's launcher passes --local-rank, older ones --local_rank.
    parser.add_argument('--local_rank', '--local-rank', type=int, default=0)
    args = parser.parse_args()
    os.environ.setdefault('LOCAL_RANK', str(args.local_rank))
    return parser, args


def main():
    parser, args = parse_args()
    try:
        cfg = load_config(args.config, args.cfg_options, args.launcher)
        if args.amp:
            enable_amp(cfg)
    except (FileNotFoundError, ValueError) as error:
        parser.error(str(error))
    set_work_dir(cfg, args.work_dir, args.config)
    use_atomic_checkpoints(cfg)
    cfg.resume = args.resume
    build_runner(cfg).train()


if __name__ == '__main__':
    main()
