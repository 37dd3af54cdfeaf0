"""tools/benchmark_backbones.py at tiny sizes, one round: ResNet-18 in
subprocesses (an allocator is per process), DenseNet-121 and the argument
errors in this one."""
import re

import pytest

from tests.helpers.benchmark import run_benchmark, table_rows
from tests.helpers.tools import load_tool, run_main

# The default threads (the cores): with one, glibc's adaptive mmap threshold
# may leave the system allocator without page faults in some runs.
TINY = ['--size', '64x128', '--rounds', '1', '--depth', '18']
VARIANTS = ('plain', 'IBN-b', 'plain-copy')


@pytest.fixture(scope='module')
def resnet_run():
    """The default allocator (retain), every mode, plain not listed first."""
    result = run_benchmark(*TINY, '--variants', *VARIANTS[::-1])
    assert result.returncode == 0, result.stderr
    return result.stdout


def check_ratios(rows, variants, modes):
    assert set(rows) == {(m, v) for m in modes for v in variants}
    for (mode, variant), cells in rows.items():
        time, ratio, cpu, cpu_ratio = cells[:4]
        base = rows[mode, 'plain']
        # the printed times are rounded to 1 ms
        assert ratio == pytest.approx(time / base[0],
                                      abs=1e-3 + 5e-4 * (1 + ratio) / base[0])
        assert cpu_ratio == pytest.approx(
            cpu / base[2], abs=1e-3 + 5e-4 * (1 + cpu_ratio) / base[2])
        assert base[1] == base[3] == 1.0


@pytest.mark.slow
def test_every_variant_and_mode_reported_against_plain(resnet_run):
    assert ('ResNet-18-D8, input 2x3x64x128, cpu fp32, median of 1 '
            'interleaved rounds (wall / process CPU, malloc retain)'
            in resnet_run)
    check_ratios(table_rows(resnet_run), VARIANTS, ('eval', 'train'))


@pytest.mark.slow
def test_retained_memory_removes_the_page_faults_of_a_training_step(
        resnet_run, monkeypatch):
    # a fixed mmap threshold: glibc's default one rises after large frees,
    # and whether it has risen by the timed step varies from run to run
    monkeypatch.setenv('MALLOC_MMAP_THRESHOLD_', str(128 * 1024))
    system = run_benchmark(*TINY, '--modes', 'train', '--variants', 'plain',
                           '--malloc', 'system')
    system_faults = table_rows(system.stdout)['train', 'plain'][4]
    retain_faults = table_rows(resnet_run)['train', 'plain'][4]
    # a 2x3x64x128 ResNet-18 step maps ~75 MiB afresh with mmap'd blocks;
    # retained, only the OpenMP threads' arenas may still grow a little
    assert system_faults > 5000
    assert retain_faults < system_faults / 5


@pytest.mark.slow
def test_densenet_variants_and_the_normalisation_layers_share(capsys):
    load_tool('benchmark_backbones').main([
        '--backbone', 'densenet', '--size', '32x32', '--rounds', '1',
        '--modes', 'train', '--variants', 'IBN-a', 'plain', '--malloc',
        'system', '--profile'])
    out = capsys.readouterr().out
    assert 'DenseNet-121-D8, input 2x3x32x32' in out
    check_ratios(table_rows(out), ('plain', 'IBN-a'), ('train', ))
    rows = table_rows(out, width=6)
    assert set(rows) == {('train', 'plain'), ('train', 'IBN-a')}

    # printed: seconds to 1 ms, percentages to 0.1
    def rounding(num, den):
        return 0.05 + 100 * 5e-4 * (2 / den + abs(num) / den**2)

    plain_step, plain_norm, _, plain_extra = rows['train', 'plain']
    assert plain_extra == 0.0
    for step, norm, share, extra in rows.values():
        # BN (and IN) forward and backward run in every step
        assert 0 < norm < step
        assert share == pytest.approx(100 * norm / step,
                                      abs=rounding(norm, step))
        assert extra == pytest.approx(
            100 * (norm - plain_norm) / plain_step,
            abs=rounding(norm - plain_norm, plain_step))


@pytest.mark.parametrize('args, message', [
    (['--size', '64by128'], r'--size: expected HEIGHTxWIDTH'),
    (['--variants', 'IBN-a'], r'--variants must include plain'),
    (['--rounds', '0'], r'--rounds and --batch must be at least 1'),
    (['--backbone', 'densenet', '--variants', 'plain', 'IBN-b'],
     re.escape('--variants: IBN-b not for --backbone densenet (it has plain, '
               'IBN-a, ref-a, plain-copy)')),
])
def test_bad_arguments_are_named(args, message, monkeypatch, capsys):
    status, err = run_main('benchmark_backbones', args, monkeypatch, capsys,
                           guards=('run', ))
    assert status == 2
    assert re.search(message, err), err
