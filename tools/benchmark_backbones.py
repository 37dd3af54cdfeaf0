"""Cost of IBN-Net backbones against their plain counterparts, interleaved.

Builds the D8 segmentation backbone of the configs (ResNet-50 or, with
``--backbone densenet``, DenseNet-121; strides (1, 2, 1, 1), dilations (1, 1,
2, 4)) as plain, IBN-a, IBN-b (ResNet only), IBN-a running the published
split -> IN/BN -> concatenate layer ("ref-a") and a second plain model
("plain-copy": its ratio to plain is the noise floor), and times them round
after round in one process (in a rotating order): an eval forward and a train
forward + backward. Reports the median time, its ratio to plain, the minor
page faults of a step (CPU), the peak memory of one untimed step (CUDA: max
allocated; CPU: peak RSS growth) and, with ``--profile``, the time in the
normalisation layers. ``--malloc retain`` (default) keeps freed memory in
glibc so that the timings measure compute, not page faults; see
docs/benchmarks.md.

Examples::

    python tools/benchmark_backbones.py --size 256x512 --rounds 3
    python tools/benchmark_backbones.py --device cuda --amp
    python tools/benchmark_backbones.py --backbone densenet --size 256x512
"""
import argparse
import ctypes
import re
import resource
import statistics
import time

import torch
from mmengine.logging import MMLogger
from torch.profiler import ProfilerActivity, profile

from ibnseg.engine.cpu import retain_freed_memory
from ibnseg.models import IBN, IBNDenseNet, IBNResNet
from ibnseg.utils.markdown import markdown_table

VARIANTS = {
    'plain': dict(ibn=None),
    'IBN-a': dict(ibn='a'),
    'IBN-b': dict(ibn='b'),
    'ref-a': dict(ibn='a', split_layer=True),
    'plain-copy': dict(ibn=None),
}
# backbone: (name in the report, default depth, its variants)
BACKBONES = {
    'resnet': ('ResNet', 50, list(VARIANTS)),
    'densenet': ('DenseNet', 121, ['plain', 'IBN-a', 'ref-a', 'plain-copy']),
}


def build(backbone, depth, ibn, split_layer=False):
    layout = dict(depth=depth, ibn=ibn, dilations=(1, 1, 2, 4),
                  strides=(1, 2, 1, 1))
    model = (IBNDenseNet(**layout) if backbone == 'densenet' else
             IBNResNet(contract_dilation=True, **layout))
    model.init_weights()
    for module in model.modules():
        if isinstance(module, IBN) and split_layer:
            module.fused = False
    return model


def _status_kib(field):
    with open('/proc/self/status') as f:
        return next(int(line.split()[1]) for line in f
                    if line.startswith(field + ':'))


def make_step(model, mode, x, amp):
    device_type = x.device.type
    dtype = torch.float16 if device_type == 'cuda' else torch.bfloat16

    def step():
        with torch.autocast(device_type, dtype=dtype, enabled=amp):
            if mode == 'eval':
                with torch.no_grad():
                    model.eval()(x)
                return
            outs = model.train()(x)
            loss = sum(o.float().mean() for o in outs)
        loss.backward()
        model.zero_grad(set_to_none=True)

    return step


def timed(step, device):
    if device.type == 'cuda':
        start = torch.cuda.Event(enable_timing=True)
        end = torch.cuda.Event(enable_timing=True)
        start.record()
        step()
        end.record()
        torch.cuda.synchronize()
        return start.elapsed_time(end) / 1000, None, None
    faults = resource.getrusage(resource.RUSAGE_SELF).ru_minflt
    wall, cpu = time.perf_counter(), time.process_time()
    step()
    wall, cpu = time.perf_counter() - wall, time.process_time() - cpu
    return wall, cpu, resource.getrusage(
        resource.RUSAGE_SELF).ru_minflt - faults


# The outermost profiler events of the normalisation layers, forward and
# backward: BN, IN (instance_norm, which runs batch_norm inside), the group
# norm used for IN, and ibnseg's fused IBN function. Of the IBN layer's
# inference path only its batch_norm counts: the mean and norm of its IN
# statistics are generic ops, not counted.
NORM_EVENT = re.compile(
    r'^aten::(batch|group|instance)_norm$|^_FusedIBNFunction$|'
    r'^autograd::engine::evaluate_function: '
    r'(NativeBatchNorm|NativeGroupNorm|_FusedIBNFunction)Backward')


def norm_layer_time(step, device):
    """Time of one step and the part of it spent in normalisation layers
    (inclusive time of their outermost events; the split path's slicing
    copies and concatenation are not included), from the torch profiler."""
    activities = [ProfilerActivity.CPU]
    if device.type == 'cuda':
        activities.append(ProfilerActivity.CUDA)
    with profile(activities=activities) as prof:
        wall = time.perf_counter()
        step()
        if device.type == 'cuda':
            torch.cuda.synchronize()
        wall = time.perf_counter() - wall
    norm = 0.0
    for event in prof.events():
        if not NORM_EVENT.search(event.name):
            continue
        parent = event.cpu_parent
        while parent is not None and not NORM_EVENT.search(parent.name):
            parent = parent.cpu_parent
        if parent is None:  # outermost: count it with everything inside
            norm += (event.device_time_total if device.type == 'cuda' else
                     event.cpu_time_total)
    return wall, norm / 1e6


def peak_memory(step, device):
    if device.type == 'cuda':
        torch.cuda.synchronize()
        before = torch.cuda.memory_allocated()
        torch.cuda.reset_peak_memory_stats()
        step()
        torch.cuda.synchronize()
        return torch.cuda.max_memory_allocated() - before
    try:
        ctypes.CDLL('libc.so.6').malloc_trim(0)
    except OSError:  # not glibc: the baseline includes freed memory
        pass
    with open('/proc/self/clear_refs', 'w') as f:
        f.write('5')  # the kernel's peak RSS (VmHWM) restarts from here
    base = _status_kib('VmRSS')
    step()
    return (_status_kib('VmHWM') - base) * 1024


def run(args, size):
    device = torch.device(args.device)
    x = torch.randn(args.batch, 3, *size, device=device)
    models = {
        name: build(args.backbone, args.depth, **cfg).to(device)
        for name, cfg in VARIANTS.items() if name in args.variants
    }
    names = list(models)
    results = {}
    for mode in args.modes:
        steps = {n: make_step(models[n], mode, x, args.amp) for n in names}
        for n in names:  # warm-up (allocator, kernels, page faults)
            steps[n]()
        samples = {n: [] for n in names}  # (wall, cpu, faults) per round
        for r in range(args.rounds):
            for n in names[r % len(names):] + names[:r % len(names)]:
                samples[n].append(timed(steps[n], device))
        memory = {n: peak_memory(steps[n], device) for n in names}
        norm = dict.fromkeys(names)
        if args.profile:
            for n in names:  # untimed: a first profiled step pays set-up
                norm_layer_time(steps[n], device)
            norm = {n: norm_layer_time(steps[n], device) for n in names}
        for n in names:
            wall, cpu, faults = zip(*samples[n])
            on_cpu = device.type != 'cuda'
            results[mode, n] = dict(
                time=statistics.median(wall),
                cpu=statistics.median(cpu) if on_cpu else None,
                faults=statistics.median(faults) if on_cpu else None,
                memory=memory[n], norm=norm[n])
    return names, results


def report(args, size, names, results):
    clock = ('CUDA events' if args.device == 'cuda' else
             f'wall / process CPU, malloc {args.malloc}')
    family = BACKBONES[args.backbone][0]
    print(f'\n{family}-{args.depth}-D8, input {args.batch}x3x{size[0]}x'
          f'{size[1]}, {args.device}{" AMP" if args.amp else " fp32"}, '
          f'median of {args.rounds} interleaved rounds ({clock})')
    rows = []
    for mode in args.modes:
        base = results[mode, names[0]]
        for n in names:
            res = results[mode, n]
            cpu = ([f'{res["cpu"]:.3f}', f'{res["cpu"] / base["cpu"]:.3f}']
                   if res['cpu'] is not None else ['-', '-'])
            faults = '-' if res['faults'] is None else f'{res["faults"]:.0f}'
            rows.append([mode, n, f'{res["time"]:.3f}',
                         f'{res["time"] / base["time"]:.3f}', *cpu, faults,
                         f'{res["memory"] / 2**20:.0f}',
                         f'{res["memory"] / max(base["memory"], 1):.3f}'])
    print(markdown_table(
        ['mode', 'variant', 'time (s)', 'x plain', 'CPU time (s)', 'x plain',
         'page faults', 'peak memory (MiB)', 'x plain'], rows))
    if not args.profile:
        return
    print('\nNormalisation layers in one profiled step (torch profiler, '
          'inclusive time of BN / IN / IBN events, forward and backward)')
    rows = []
    for mode in args.modes:
        base_step, base_norm = results[mode, names[0]]['norm']
        for n in names:
            step, norm = results[mode, n]['norm']
            extra = (norm - base_norm) / base_step
            rows.append([mode, n, f'{step:.3f}', f'{norm:.3f}',
                         f'{norm / step:.1%}', f'{extra:+.1%}'])
    print(markdown_table(
        ['mode', 'variant', 'step (s)', 'norm layers (s)', 'share of step',
         "norm layers - plain's, share of plain step"], rows))


def parse_size(text):
    try:
        height, width = (int(v) for v in text.lower().split('x'))
    except ValueError:
        raise argparse.ArgumentTypeError(
            f'--size: expected HEIGHTxWIDTH such as 512x1024, got {text!r}')
    return height, width


def main(argv=None):
    parser = argparse.ArgumentParser(description=__doc__.split('\n')[0])
    parser.add_argument('--size', type=parse_size, nargs='+',
                        default=[(512, 1024), (256, 512)],
                        help='input sizes HxW (default: 512x1024 256x512)')
    parser.add_argument('--rounds', type=int, default=5)
    parser.add_argument('--batch', type=int, default=2)
    parser.add_argument('--backbone', default='resnet',
                        choices=list(BACKBONES),
                        help='IBNResNet (default) or IBNDenseNet, both D8')
    parser.add_argument('--depth', type=int, default=None,
                        help='default: 50 (resnet), 121 (densenet)')
    parser.add_argument('--device', default='cpu', choices=['cpu', 'cuda'])
    parser.add_argument('--amp', action='store_true',
                        help='autocast (fp16 on CUDA, bf16 on CPU)')
    parser.add_argument('--threads', type=int, default=None,
                        help='torch CPU threads (default: torch default)')
    parser.add_argument(
        '--malloc', default='retain', choices=['retain', 'system'],
        help='CPU: glibc keeps freed memory (retain, default) or returns '
        'large blocks to the system as usual (system); see the module doc')
    parser.add_argument(
        '--profile', action='store_true',
        help='also profile one step per variant and report the time spent '
        'in the normalisation layers')
    parser.add_argument('--modes', nargs='+', default=['eval', 'train'],
                        choices=['eval', 'train'])
    parser.add_argument('--variants', nargs='+', default=None,
                        choices=list(VARIANTS),
                        help='default: every variant of the backbone')
    args = parser.parse_args(argv)
    _, default_depth, variants = BACKBONES[args.backbone]
    if args.depth is None:
        args.depth = default_depth
    if args.variants is None:
        args.variants = variants
    unknown = [v for v in args.variants if v not in variants]
    if unknown:
        parser.error(f'--variants: {", ".join(unknown)} not for --backbone '
                     f'{args.backbone} (it has {", ".join(variants)})')
    if args.rounds < 1 or args.batch < 1:
        parser.error('--rounds and --batch must be at least 1')
    if args.device == 'cuda' and not torch.cuda.is_available():
        parser.error('--device cuda: no CUDA device is available')
    if 'plain' not in args.variants:
        parser.error('--variants must include plain (the ratios use it)')
    args.variants = ['plain'] + [v for v in args.variants if v != 'plain']
    if (args.device == 'cpu' and args.malloc == 'retain'
            and not retain_freed_memory()):
        parser.error('--malloc retain needs glibc (mallopt); use '
                     '--malloc system on this C library')
    if args.threads:
        torch.set_num_threads(args.threads)
    MMLogger.get_current_instance().setLevel('WARNING')
    print(f'torch {torch.__version__}, {torch.get_num_threads()} CPU '
          f'threads' + (f', {torch.cuda.get_device_name()}'
                        if args.device == 'cuda' else ''))
    for size in args.size:
        names, results = run(args, size)
        report(args, size, names, results)


if __name__ == '__main__':
    main()
