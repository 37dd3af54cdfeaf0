"""tools/benchmark_backbones.py in a subprocess (its ``--malloc retain``
changes the allocator of the whole process) and its tables."""
from tests.helpers.tools import run_tool


def run_benchmark(*args):
    """``tools/benchmark_backbones.py args``, unchecked; stderr apart."""
    return run_tool('benchmark_backbones.py', args, timeout=600, check=False,
                    merge_output=False)


def table_rows(stdout, width=9):
    """Rows of the tables with ``width`` columns, ``{(mode, variant): [the
    other cells as numbers]}``: the timing table (9: time, x plain, cpu,
    x plain, faults, MiB, x plain) or the profile table (6: step, norm,
    share, extra share)."""
    rows = {}
    for line in stdout.splitlines():
        cells = [c.strip() for c in line.strip('|').split('|')]
        if len(cells) == width and cells[0] in ('eval', 'train'):
            rows[cells[0], cells[1]] = [
                float(c.rstrip('%')) for c in cells[2:]
            ]
    return rows
