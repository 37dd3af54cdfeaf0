"""Training and testing machinery: atomic checkpoints, CPU distributed runs,
CPU threads and allocator, and the set-up shared by ``tools/train.py`` and
``tools/test.py``."""
from .amp import CPUAmpOptimWrapper
from .cpu import retain_freed_memory
from .distributed import CPUDistributedDataParallel, setup_cpu_distributed
from .fileio import AtomicLocalBackend, atomic_write, remove_partial_files
from .hooks import AdaptiveThreadsHook, AtomicCheckpointHook

__all__ = ['AdaptiveThreadsHook', 'AtomicCheckpointHook', 'AtomicLocalBackend',
           'CPUAmpOptimWrapper', 'CPUDistributedDataParallel', 'atomic_write',
           'remove_partial_files', 'retain_freed_memory',
           'setup_cpu_distributed']
