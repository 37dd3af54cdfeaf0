"""Inference latency of exported models: PyTorch against onnxruntime on the
CPU, for the shipped plain, IBN-a, IBN-b, DenseNet-121 and DenseNet-121-IBN-a
FCN models.

Both runtimes compute ``SegmentorForExport`` with random weights on one image
(a static dynamo export in a temporary folder). Runs are interleaved, each
round timing every model once per runtime with a pause between runs, so a
machine that slows down slows all alike; the table gives the fastest (and
median) run and each model's ratio to its baseline. docs/deployment.md has
a table it printed.
"""
import argparse
import os
import os.path as osp
import platform
import statistics
import sys
import tempfile
import time

import torch

import ibnseg  # noqa: F401  (registers ibnseg's modules)
from ibnseg.analysis import ModelSpec, load_model
from ibnseg.apis.onnx_export import SegmentorForExport, export_onnx
from ibnseg.engine.sizes import positive_int
from ibnseg.utils.markdown import markdown_table

#: Seconds between two timed runs, for the threads of the last to go idle.
PAUSE = 0.2
ROOT = osp.dirname(osp.dirname(osp.abspath(__file__)))
#: name -> (config, the model its ratio is taken against)
MODELS = {
    'r50': ('configs/r50_cityscapes.py', None),
    'ibn_a': ('configs/ibn_a_cityscapes.py', 'r50'),
    'ibn_b': ('configs/ibn_b_cityscapes.py', 'r50'),
    'densenet121': (
        'configs/fcn/fcn_densenet121-d8_4xb2-40k_cityscapes-to-gta5-'
        '512x1024.py', 'r50'),
    'densenet121_ibn_a': (
        'configs/fcn/fcn_densenet121-ibn-a-d8_4xb2-40k_cityscapes-to-gta5-'
        '512x1024.py', 'densenet121'),
}


def parse_args(argv=None):
    parser = argparse.ArgumentParser(description=__doc__.split('\n\n')[0])
    parser.add_argument('--shape', type=positive_int, nargs=2,
                        default=[256, 512], metavar=('H', 'W'),
                        help='image size (default 256 512)')
    parser.add_argument('--repeats', type=positive_int, default=5,
                        help='timed rounds after one warm-up (default 5)')
    parser.add_argument('--threads', type=positive_int, default=None,
                        help='threads of both runtimes (default: the cores '
                        'this process may use)')
    parser.add_argument('--models', nargs='+', choices=list(MODELS),
                        default=list(MODELS), help='models to time')
    return parser.parse_args(argv)


def _build(name: str):
    torch.manual_seed(0)
    return load_model(ModelSpec(name, osp.join(ROOT, MODELS[name][0])))


def _time(run) -> float:
    time.sleep(PAUSE)
    start = time.perf_counter()
    run()
    return time.perf_counter() - start


def main(argv=None):
    args = parse_args(argv)
    import onnxruntime as ort
    threads = args.threads or len(os.sched_getaffinity(0))
    torch.set_num_threads(threads)
    options = ort.SessionOptions()
    options.intra_op_num_threads = threads
    options.inter_op_num_threads = 1
    # idle threads that spin would take the cores from the next run
    options.add_session_config_entry('session.intra_op.allow_spinning', '0')
    image = torch.rand(1, 3, *args.shape, generator=torch.Generator()
                       .manual_seed(0)) * 255
    runners = {}
    with tempfile.TemporaryDirectory() as folder:
        for name in args.models:
            print(f'exporting {name} ...', file=sys.stderr)
            model = _build(name)
            path = osp.join(folder, f'{name}.onnx')
            export_onnx(model, path, args.shape, dynamic=False)
            graph = SegmentorForExport(model).eval()
            session = ort.InferenceSession(
                path, options, providers=['CPUExecutionProvider'])

            def torch_run(graph=graph):
                with torch.no_grad():
                    graph(image)

            def ort_run(session=session):
                session.run(None, {'image': image.numpy()})

            runners[name] = dict(pytorch=torch_run, onnxruntime=ort_run)
        times = {name: dict(pytorch=[], onnxruntime=[]) for name in runners}
        for round_ in range(args.repeats + 1):
            for name, runs in runners.items():
                for runtime, run in runs.items():
                    elapsed = _time(run)
                    if round_:  # the first round warms up
                        times[name][runtime].append(elapsed)
            print(f'round {round_}/{args.repeats} done', file=sys.stderr)
    median = {name: {rt: statistics.median(ts) for rt, ts in by_rt.items()}
              for name, by_rt in times.items()}
    fastest = {name: {rt: min(ts) for rt, ts in by_rt.items()}
               for name, by_rt in times.items()}
    h, w = args.shape
    print(f'{h}x{w}, batch 1, {threads} thread(s), {args.repeats} rounds; '
          f'torch {torch.__version__}, onnxruntime '
          f'{ort.__version__}, {platform.processor() or platform.machine()}')
    rows = []
    for name in runners:
        base = MODELS[name][1]
        cells = [name]
        for runtime in ('pytorch', 'onnxruntime'):
            value = fastest[name][runtime]
            cells.append(f'{1000 * value:.0f} '
                         f'({1000 * median[name][runtime]:.0f})')
            cells.append(f'{value / fastest[base][runtime]:.3f} ({base})'
                         if base in fastest else '1')
        speed = fastest[name]['onnxruntime'] / fastest[name]['pytorch']
        rows.append(cells + [f'{speed:.2f}'])
    print('\n' + markdown_table(
        ['model', 'PyTorch ms, fastest (median)', 'ratio',
         'onnxruntime ms, fastest (median)', 'ratio', 'onnxruntime / PyTorch'],
        rows))
    return 0


if __name__ == '__main__':
    sys.exit(main())
