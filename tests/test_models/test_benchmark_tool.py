"""tools/benchmark_backbones.py at a tiny size, in a subprocess (its
``--malloc retain`` changes the allocator of the whole process)."""
import re

import pytest

from tests.helpers.benchmark import run_benchmark, table_rows

TINY = ['--size', '64x128', '--rounds', '2', '--depth', '18']


@pytest.mark.slow
@pytest.mark.parametrize('args,variants,title', [
    (TINY, ('IBN-b', 'plain', 'plain-copy'), 'ResNet-18-D8, input 2x3x64x128'),
    (['--backbone', 'densenet', '--size', '32x64', '--rounds', '1'],
     ('plain', 'IBN-a'), 'DenseNet-121-D8, input 2x3x32x64'),
])
def test_every_variant_and_mode_reported_against_plain(args, variants, title):
    result = run_benchmark(*args, '--variants', *variants)
    assert result.returncode == 0, result.stderr
    assert 'malloc retain' in result.stdout and title in result.stdout
    rows = table_rows(result.stdout)
    assert set(rows) == {(m, v) for m in ('eval', 'train') for v in variants}
    for (mode, variant), cells in rows.items():
        time, ratio, cpu, cpu_ratio = cells[:4]
        base = rows[mode, 'plain']
        # the printed times are rounded to 1 ms
        assert ratio == pytest.approx(time / base[0],
                                      abs=1e-3 + 5e-4 * (1 + ratio) / base[0])
        assert cpu_ratio == pytest.approx(
            cpu / base[2], abs=1e-3 + 5e-4 * (1 + cpu_ratio) / base[2])
    assert rows['train', 'plain'][1] == rows['eval', 'plain'][1] == 1.0


@pytest.mark.slow
def test_retained_memory_removes_the_page_faults_of_a_training_step():
    common = [*TINY[:2], '--rounds', '3', *TINY[4:], '--modes', 'train',
              '--variants', 'plain']
    system = table_rows(run_benchmark(*common, '--malloc', 'system').stdout)
    retain = table_rows(run_benchmark(*common, '--malloc', 'retain').stdout)
    system_faults = system['train', 'plain'][4]
    retain_faults = retain['train', 'plain'][4]
    # a 2x3x64x128 ResNet-18 step maps ~75 MiB afresh with glibc's default;
    # retained, only the OpenMP threads' arenas may still grow a little
    assert system_faults > 5000
    assert retain_faults < system_faults / 5


@pytest.mark.slow
def test_profile_reports_the_normalisation_layers_share():
    result = run_benchmark(*TINY, '--modes', 'train', '--variants', 'plain',
                           'IBN-b', '--profile')
    assert result.returncode == 0, result.stderr
    rows = table_rows(result.stdout, width=6)
    assert set(rows) == {('train', 'plain'), ('train', 'IBN-b')}
    plain_step, plain_norm, _, plain_extra = rows['train', 'plain']
    assert plain_extra == 0.0

    # printed: seconds to 1 ms, percentages to 0.1
    def rounding(num, den):
        return 0.05 + 100 * 5e-4 * (2 / den + abs(num) / den**2)

    for step, norm, share, _ in rows.values():
        # BN (and IN) forward and backward run in every step
        assert 0 < norm < step
        assert share == pytest.approx(100 * norm / step,
                                      abs=rounding(norm, step))
    _, ibn_norm, _, ibn_extra = rows['train', 'IBN-b']
    extra = ibn_norm - plain_norm
    assert ibn_extra == pytest.approx(100 * extra / plain_step,
                                      abs=rounding(extra, plain_step))


@pytest.mark.slow
@pytest.mark.parametrize('args, message', [
    (['--size', '64by128'], r'--size: expected HEIGHTxWIDTH'),
    (['--variants', 'IBN-a'], r'--variants must include plain'),
    (['--rounds', '0'], r'--rounds and --batch must be at least 1'),
    (['--backbone', 'densenet', '--variants', 'plain', 'IBN-b'],
     re.escape('--variants: IBN-b not for --backbone densenet (it has plain, '
               'IBN-a, ref-a, plain-copy)')),
])
def test_bad_arguments_are_named(args, message):
    result = run_benchmark(*args)
    assert result.returncode == 2
    assert re.search(message, result.stderr), result.stderr
