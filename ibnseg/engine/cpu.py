"""CPU training that holds up on a shared machine.

OpenMP threads wait for each other at the end of every parallel region, so
one core taken by another program slows every op (docs/demo.md):
``AdaptiveThreadsHook`` gives torch the cores others leave free
(:class:`OtherCpuLoad`). glibc returns large freed blocks to the system, so
each step pays page faults afresh (docs/benchmarks.md):
:func:`retain_freed_memory` keeps them.
"""
import ctypes
import os
import time
from typing import Optional

__all__ = ['OtherCpuLoad', 'available_cores', 'retain_freed_memory',
           'threads_for_load']

# glibc mallopt parameters (malloc.h)
M_TRIM_THRESHOLD = -1
M_MMAP_MAX = -4
M_ARENA_MAX = -8


def retain_freed_memory() -> bool:
    """Make glibc's malloc keep freed memory: no mmap'd blocks, no trimming
    of the heap top (-1 is SIZE_MAX to glibc), one arena for all threads.
    False (nothing changed) where the C library is not glibc."""
    try:
        mallopt = ctypes.CDLL('libc.so.6').mallopt
    except (OSError, AttributeError):
        return False
    return all(
        mallopt(param, value)
        for param, value in ((M_ARENA_MAX, 1), (M_MMAP_MAX, 0),
                             (M_TRIM_THRESHOLD, -1)))


def available_cores() -> int:
    """The cores this process may run on (its affinity mask, not the
    machine's count)."""
    try:
        return len(os.sched_getaffinity(0))
    except AttributeError:  # not Linux
        return os.cpu_count() or 1


def threads_for_load(cores: int, other_load: float) -> int:
    """Threads that leave the cores other processes use to them: all cores
    when the others use under half a core, at least 1."""
    return max(1, min(cores, round(cores - other_load)))


class OtherCpuLoad:
    """Cores other processes kept busy since the last :meth:`sample`: the
    machine's busy time (``/proc/stat``; None elsewhere) minus this
    process's CPU time (children count as others), over the wall time."""
    STAT = '/proc/stat'

    def __init__(self):
        self._tick = os.sysconf('SC_CLK_TCK') if hasattr(os, 'sysconf') \
            else 100
        self._last = self._read()

    def _read(self):
        try:
            with open(self.STAT) as f:
                fields = f.readline().split()
        except OSError:
            return None
        # cpu user nice system idle iowait irq softirq steal ...
        values = [int(v) for v in fields[1:]]
        idle = values[3] + (values[4] if len(values) > 4 else 0)
        busy = (sum(values[:8]) - idle) / self._tick
        return time.monotonic(), busy, time.process_time()

    def sample(self) -> Optional[float]:
        """Cores the other processes used since the last sample (or since
        the object was made)."""
        now = self._read()
        last, self._last = self._last, now
        if now is None or last is None or now[0] - last[0] <= 0:
            return None
        wall = now[0] - last[0]
        others = (now[1] - last[1]) - (now[2] - last[2])
        return max(0.0, others / wall)
