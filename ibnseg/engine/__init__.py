"""Training and testing machinery: atomic checkpoints, CPU distributed runs
and the set-up shared by ``tools/train.py`` and ``tools/test.py``."""
from .distributed import CPUDistributedDataParallel, setup_cpu_distributed
from .fileio import AtomicLocalBackend, atomic_write, remove_partial_files
from .hooks import AtomicCheckpointHook

__all__ = ['AtomicCheckpointHook', 'AtomicLocalBackend',
           'CPUDistributedDataParallel', 'atomic_write',
           'remove_partial_files', 'setup_cpu_distributed']
