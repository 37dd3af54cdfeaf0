"""Convert GTA5 label-id PNGs to trainIds and list the broken pairs.

For every frame under DATA_ROOT (``images/NNNNN.png``, ``labels/NNNNN.png``)
it checks that both files exist and read, and that they have the same size;
good frames get ``labels/NNNNN_labelTrainIds.png`` (written atomically,
skipped when present unless --force). Broken frames go to the skip report
(default DATA_ROOT/skipped_pairs.tsv), which GTA5Dataset honours. The output
folders are checked before any work; temporary files that a killed run left
in them are removed (and counted); a full disk stops the run naming the file.

    python tools/convert_gta5_labels.py data/gta5 --nproc 8
"""
import argparse
import os.path as osp
import sys
import time
from collections import Counter

from ibnseg.datasets.label_conversion import (SKIPPED,
                                              add_conversion_arguments,
                                              check_and_convert_gta5_frame,
                                              is_disk_full, list_gta5_frames,
                                              remove_leftovers, run_tasks,
                                              summarize)
from ibnseg.datasets.layouts import GTA5_LABEL_DIR
from ibnseg.datasets.roots import data_root_arg, data_root_help
from ibnseg.engine.fileio import (OutputPathError, check_output_dir,
                                  check_output_file)
from ibnseg.datasets.skip_report import SKIP_REPORT_NAME, write_skip_report


def parse_args(argv=None):
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument(
        'data_root', nargs='?', default=None, help=data_root_help('gta5'))
    add_conversion_arguments(parser)
    parser.add_argument(
        '--verify-images',
        action='store_true',
        help='decode every image fully (finds truncated files; slower) '
        'instead of reading headers only')
    parser.add_argument(
        '--report', help=f'skip report path (default: '
        f'DATA_ROOT/{SKIP_REPORT_NAME})')
    args = parser.parse_args(argv)
    args.data_root = data_root_arg(parser, args.data_root, 'gta5')
    return args


def main(argv=None) -> int:
    args = parse_args(argv)
    frames = list_gta5_frames(args.data_root)
    if not frames:
        print(
            f'error: no GTA5 frames under {args.data_root!r} (expected '
            'images/NNNNN.png and labels/NNNNN.png; see data/README.md)',
            file=sys.stderr)
        return 2
    report = args.report or osp.join(args.data_root, SKIP_REPORT_NAME)
    label_dir = osp.join(args.data_root, GTA5_LABEL_DIR)
    try:  # before any work, not after hours of it
        check_output_dir(label_dir, 'data_root (labels are written to '
                         f'DATA_ROOT/{GTA5_LABEL_DIR}):')
        check_output_file(report, '--report' if args.report else
                          f'--report (default DATA_ROOT/{SKIP_REPORT_NAME})')
    except OutputPathError as err:
        print(f'error: {err}', file=sys.stderr)
        return 2
    remove_leftovers([label_dir, osp.dirname(osp.abspath(report))])
    started = time.time()
    try:
        results = run_tasks(
            check_and_convert_gta5_frame,
            [(args.data_root, f, args.force, args.verify_images)
             for f in frames], args.nproc)
        skipped = [item for _, status, item in results if status == SKIPPED]
        write_skip_report(
            report, skipped,
            comment='GTA5 pairs skipped by GTA5Dataset; written by '
            f'tools/convert_gta5_labels.py from {args.data_root}')
    except OSError as err:
        if not is_disk_full(err):
            raise
        print(f'\nerror: {err}', file=sys.stderr)
        return 1
    problems = Counter(item.problem for item in skipped)
    print('\n' + summarize(
        [status for _, status, _ in results], started,
        dict(skip_report=report, **{
            f'skipped ({p})': n
            for p, n in sorted(problems.items())
        })))
    return 0


if __name__ == '__main__':
    sys.exit(main())
