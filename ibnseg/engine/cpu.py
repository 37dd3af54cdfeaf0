"""CPU training that holds up on a shared machine: threads and allocator.

Threads. torch runs each op on all cores with OpenMP, whose threads wait
for each other at the end of every parallel region. When another program
takes a core, one of those threads is descheduled and the others spin until
it runs again: on the 2-core demo machine, one busy process made a demo
training step 3.7x slower with 2 threads (0.77 s against 0.21 s idle), while
1 thread took 0.37 s (docs/demo.md has the table and the command,
``tools/benchmark_demo_cpu.py``).
:class:`~ibnseg.engine.hooks.AdaptiveThreadsHook` therefore measures how much CPU the *other*
processes use (``/proc/stat`` minus this process's own CPU time, over the
interval between two checks: nothing extra is sampled) and gives torch the
cores they leave free, re-checking every ``interval`` iterations.

Allocator. glibc returns every large freed block (above its mmap threshold,
at most 32 MiB) to the system, so each training step maps its activations
afresh and pays a page fault per 4 KiB page (docs/benchmarks.md: 1.5x the
step time for ResNet-50-D8 at 512x1024). :func:`retain_freed_memory` makes
glibc keep freed memory for reuse, as jemalloc or tcmalloc do. It is safe
for a process that allocates the same sizes step after step (its memory
stays at its peak instead of shrinking between steps), and a no-op
elsewhere.
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
    """Make glibc's malloc keep freed memory for reuse.

    No block is served by mmap (each would be unmapped on free), the heap
    top is never trimmed (-1 is SIZE_MAX to glibc), and threads share the
    main heap (their own arenas would be mmap'd heaps that shrink again).

    Returns:
        bool: False (and nothing changed) where the C library is not glibc.
    """
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
    """How many cores other processes kept busy since the last call.

    Linux only (``/proc/stat``): :meth:`sample` returns None elsewhere. The
    machine's busy time minus this process's CPU time (all its threads;
    children such as data workers count as others) over the wall time.
    """
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
