"""tools/benchmark_backbones.py --backbone densenet at a tiny size, in a
subprocess (its ``--malloc retain`` changes the allocator of the whole
process)."""
import pytest

from tests.helpers.benchmark import run_benchmark, table_rows


@pytest.mark.slow
def test_densenet_ibn_a_and_plain_reported_against_plain():
    result = run_benchmark('--backbone', 'densenet', '--size', '32x64',
                           '--rounds', '1', '--variants', 'plain', 'IBN-a')
    assert result.returncode == 0, result.stderr
    assert 'DenseNet-121-D8, input 2x3x32x64' in result.stdout
    rows = table_rows(result.stdout)
    assert set(rows) == {(m, v) for m in ('eval', 'train')
                         for v in ('plain', 'IBN-a')}
    for (mode, variant), cells in rows.items():
        assert cells[0] > 0 and cells[2] > 0  # wall and CPU time
    assert rows['eval', 'plain'][1] == 1.0


@pytest.mark.slow
def test_resnet_only_variants_are_refused_for_densenet():
    result = run_benchmark('--backbone', 'densenet', '--variants', 'plain',
                           'IBN-b')
    assert result.returncode == 2
    assert ('--variants: IBN-b not for --backbone densenet (it has plain, '
            'IBN-a, ref-a, plain-copy)') in result.stderr
