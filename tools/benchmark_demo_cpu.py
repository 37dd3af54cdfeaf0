"""Training speed of the demo model on a CPU that other programs also use.

    python tools/benchmark_demo_cpu.py                      # the full grid
    python tools/benchmark_demo_cpu.py --load 0 1 --threads all auto \
        --malloc system --iters 30

Each cell of the grid (other load x thread policy x allocator) trains the
demo's plain model for ``--iters`` iterations in a child process of its own
(the allocator setting cannot be undone) and reports the median step time
after ``--warmup`` steps. The load is ``L`` processes spinning on the CPU.
Thread policies: ``all`` (torch's default), ``1`` and ``auto``
(AdaptiveThreadsHook); allocators: ``system`` and ``retain``
(ibnseg.engine.cpu.retain_freed_memory). Ratios are against the
``all``/``system`` cell at no load, run by the same command.
"""
import argparse
import itertools
import json
import os
import os.path as osp
import statistics
import subprocess
import sys
import tempfile
import time

REPO = osp.dirname(osp.dirname(osp.abspath(__file__)))
sys.path.insert(0, REPO)

POLICIES = ('all', '1', 'auto')
ALLOCATORS = ('system', 'retain')


def child(args) -> None:
    """Train and print the median step time as JSON (one cell)."""
    import torch
    from mmengine.hooks import Hook

    import ibnseg  # noqa: F401
    from ibnseg.engine.cpu import retain_freed_memory
    from ibnseg.synthetic.benchmark import demo_config, train

    if args.malloc == 'retain' and not retain_freed_memory():
        sys.exit('--malloc retain needs glibc')
    if args.threads == '1':
        torch.set_num_threads(1)
    cfg = demo_config('plain', args.data_root, args.iters, 0,
                      tempfile.mkdtemp(prefix='ibnseg-bench-'),
                      adaptive_threads=args.threads == 'auto')
    cfg.log_level = 'WARNING'
    cfg.default_hooks.checkpoint.interval = args.iters + 1  # no saving
    times = []

    class StepTimer(Hook):
        def before_train_iter(self, runner, batch_idx, data_batch=None):
            self.start = time.perf_counter()

        def after_train_iter(self, runner, batch_idx, data_batch=None,
                             outputs=None):
            times.append(time.perf_counter() - self.start)

    train(cfg, hooks=[StepTimer()])
    print(json.dumps(dict(median=statistics.median(times[args.warmup:]),
                          threads=torch.get_num_threads())))


def run_cell(args, load: int, threads: str, malloc: str) -> dict:
    spinners = [subprocess.Popen([sys.executable, '-c', 'while True: pass'])
                for _ in range(load)]
    try:
        proc = subprocess.run(
            [sys.executable, __file__, '--child', '--threads', threads,
             '--malloc', malloc, '--iters', str(args.iters), '--warmup',
             str(args.warmup), '--data-root', args.data_root],
            stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
    finally:
        for spinner in spinners:
            spinner.kill()
            spinner.wait()
    if proc.returncode != 0:
        sys.exit(f'cell load={load} threads={threads} malloc={malloc} '
                 f'failed:\n{proc.stderr[-3000:]}')
    return json.loads(proc.stdout.strip().splitlines()[-1])


def main():
    parser = argparse.ArgumentParser(description=__doc__.split('\n\n')[0])
    parser.add_argument('--load', type=int, nargs='+', default=[0, 1, 2],
                        help='busy processes beside the training')
    parser.add_argument('--threads', nargs='+', default=['all', 'auto'],
                        choices=POLICIES)
    parser.add_argument('--malloc', nargs='+', default=list(ALLOCATORS),
                        choices=ALLOCATORS)
    parser.add_argument('--iters', type=int, default=30)
    parser.add_argument('--warmup', type=int, default=5)
    parser.add_argument('--data-root', help='generated data (default: a '
                        'temporary folder)')
    parser.add_argument('--child', action='store_true', help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.iters <= args.warmup or args.warmup < 0:
        parser.error(f'--iters ({args.iters}) must exceed --warmup '
                     f'({args.warmup}) >= 0')
    if any(load < 0 for load in args.load):
        parser.error(f'--load must be >= 0, got {args.load}')
    if args.child:
        args.threads, args.malloc = args.threads[0], args.malloc[0]
        return child(args)

    from ibnseg.synthetic.benchmark import Preset, generate_data
    from ibnseg.utils.markdown import iter_markdown_table
    with tempfile.TemporaryDirectory() as tmp:
        args.data_root = args.data_root or osp.join(tmp, 'data')
        generate_data(args.data_root,
                      Preset(size=(128, 256), num_train=64, num_val=1,
                             iters=args.iters), [], nproc=1, progress=False)
        cells = [('all', 'system', 0)] + [
            (t, m, load) for load, t, m in itertools.product(
                args.load, args.threads, args.malloc)
            if (t, m, load) != ('all', 'system', 0)]
        print(f'{os.cpu_count()} cores; demo model 128x256, batch 8; median '
              f's/iter over {args.iters - args.warmup} iterations')

        def measured_rows():
            base = None
            for threads, malloc, load in cells:
                cell = run_cell(args, load, threads, malloc)
                base = base or cell['median']
                yield (load, threads, malloc, f'{cell["median"]:.3f}',
                       f'{cell["median"] / base:.2f}x', cell['threads'])

        # each row is printed once measured (a cell takes minutes)
        for line in iter_markdown_table(
                ['other load', 'threads', 'malloc', 's/iter',
                 'vs all/system idle', 'threads at the end'],
                measured_rows()):
            print(line, flush=True)


if __name__ == '__main__':
    main()
