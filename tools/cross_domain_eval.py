"""Evaluate checkpoints on every domain of their config, in one command.

Each domain of the config's ``cross_domain`` section is run with its own
test pipeline and ``test_cfg``. Writes to ``--out``: ``results.md`` (also
printed), ``results.json``, ``results.csv``, ``per_class_iou.png`` and
``samples_<domain>.png`` (for several checkpoints, one comparison report
and the pictures in ``--out/<name>/``). ``CONFIG.py:CHECKPOINT`` pairs a
checkpoint with its own config. An unwritable ``--out`` and model names
whose folders would leave it or coincide are refused before any work.
"""
import argparse
import os
import os.path as osp
import sys
from collections import Counter
from typing import List, Sequence, Tuple

import torch
from mmengine.dist import is_main_process
from mmengine.logging import print_log

import ibnseg  # noqa: F401  (registers ibnseg's modules)
from ibnseg.engine.cfg_options import CFG_OPTIONS_HELP, CfgOptionsAction
from ibnseg.engine.distributed import setup_cpu_distributed
from ibnseg.engine.fileio import check_output_names, check_output_options
from ibnseg.engine.runner_setup import check_checkpoint, load_config
from ibnseg.engine.sizes import add_size_args, apply_sizes
from ibnseg.evaluation.evaluate import (evaluate_checkpoint,
                                        picture_folders, write_outputs)
from ibnseg.evaluation import MissingDomainDataError
from ibnseg.evaluation.report import markdown_report
from ibnseg.utils import CheckpointError


def parse_args(argv=None):
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument('config', help='config with a cross_domain section')
    parser.add_argument(
        'checkpoints', nargs='+', metavar='CHECKPOINT',
        help='checkpoint(s); CONFIG.py:CHECKPOINT pairs a checkpoint with '
        'its own config')
    parser.add_argument(
        '--out', help='output folder (default: work_dirs/cross_domain/'
        '<config name>)')
    parser.add_argument(
        '--domains', nargs='+', help='evaluate only these configured '
        'domains (the source must be among them)')
    parser.add_argument(
        '--skip-missing', action='store_true',
        help='skip target domains whose data is missing (named in the '
        'report) instead of failing')
    parser.add_argument(
        '--shifts', nargs='+', default=[], metavar='NAME',
        help='also evaluate each domain under these appearance shifts '
        '(names of ibnseg.datasets.transforms.APPEARANCE_SHIFTS)')
    parser.add_argument(
        '--names', nargs='+', help='model names in the report, one per '
        'checkpoint (default: from the checkpoint file names)')
    parser.add_argument(
        '--num-show', type=int, default=3,
        help='samples per domain in the sample strips (default 3)')
    parser.add_argument(
        '--cfg-options', nargs='+', action=CfgOptionsAction,
        help=CFG_OPTIONS_HELP)
    add_size_args(parser, crop=False)
    parser.add_argument(
        '--device', default='cuda' if torch.cuda.is_available() else 'cpu',
        help='device the model runs on (default: cuda if available)')
    parser.add_argument(
        '--launcher', choices=['none', 'pytorch', 'slurm', 'mpi'],
        default='none', help='job launcher')
    parser.add_argument(
        '--no-progress', action='store_true', help='no progress bars')
    # torch >= 2.0's launcher passes --local-rank, older ones --local_rank.
    parser.add_argument('--local_rank', '--local-rank', type=int, default=0)
    args = parser.parse_args(argv)
    os.environ.setdefault('LOCAL_RANK', str(args.local_rank))
    return parser, args


def split_pairs(config: str,
                checkpoints: Sequence[str]) -> List[Tuple[str, str]]:
    """``(config, checkpoint)`` per argument; ``A.py:B`` pairs B with A."""
    pairs = []
    for item in checkpoints:
        head, sep, tail = item.partition(':')
        if sep and head.endswith('.py'):
            pairs.append((head, tail))
        else:
            pairs.append((config, item))
    return pairs


def model_names(pairs: Sequence[Tuple[str, str]], names=None) -> List[str]:
    """Unique report names: given ones, else the checkpoint file stems,
    prefixed with their folder where stems repeat (``iter_40000``)."""
    if names:
        if len(names) != len(pairs) or len(set(names)) != len(names):
            raise ValueError(f'--names needs {len(pairs)} distinct names, '
                             f'one per checkpoint; got {names}')
        return list(names)
    stems = [osp.splitext(osp.basename(ckpt))[0] for _, ckpt in pairs]
    if len(set(stems)) < len(stems):
        stems = [
            f'{osp.basename(osp.dirname(osp.abspath(ckpt)))}_{stem}'
            for (_, ckpt), stem in zip(pairs, stems)
        ]
    counts = Counter(stems)
    return [s if counts[s] == 1 else f'{s}_{i}' for i, s in enumerate(stems)]


def main(argv=None):
    parser, args = parse_args(argv)
    out_dir = args.out or osp.join(
        'work_dirs', 'cross_domain',
        osp.splitext(osp.basename(args.config))[0])
    check_output_options(parser, dirs={'--out': out_dir})
    try:
        pairs = split_pairs(args.config, args.checkpoints)
        names = model_names(pairs, args.names)
        check_output_names(
            ((f'model {name!r}', osp.join(folder, 'per_class_iou.png'))
             for name, folder in picture_folders(out_dir, names).items()),
            out_dir, '--out')
        configs = []
        for config, checkpoint in pairs:
            check_checkpoint(checkpoint)
            cfg = load_config(config, args.cfg_options, args.launcher)
            apply_sizes(cfg, scale=args.scale)
            configs.append(cfg)
    except (FileNotFoundError, ValueError) as error:
        parser.error(str(error))
    # gloo without CUDA; otherwise the Runner starts the process group
    setup_cpu_distributed(configs[0])

    evaluations = []
    for cfg, (_, checkpoint), name in zip(configs, pairs, names):
        print_log(f'evaluating {name}: {checkpoint}', logger='current')
        try:
            result, run = evaluate_checkpoint(
                cfg,
                checkpoint,
                name,
                work_dir=osp.join(out_dir, 'logs'),
                domains=args.domains,
                shifts=args.shifts,
                skip_missing=args.skip_missing,
                device=args.device,
                num_show=args.num_show,
                progress=not args.no_progress)
        except (CheckpointError, MissingDomainDataError, KeyError,
                ValueError) as error:
            print(f'error: {error}', file=sys.stderr)
            return 1
        result.details['cfg_options'] = args.cfg_options
        evaluations.append((result, run))
    if is_main_process():
        paths = write_outputs(out_dir, evaluations)
        print(markdown_report([result for result, _ in evaluations]))
        print_log(f'wrote {", ".join(paths)}', logger='current')
    return 0


if __name__ == '__main__':
    sys.exit(main())
