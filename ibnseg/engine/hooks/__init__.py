from .adaptive_threads_hook import AdaptiveThreadsHook
from .checkpoint_hook import (ATOMIC_BACKEND_ARGS, RNG_STATE_KEY,
                              AtomicCheckpointHook)

__all__ = ['ATOMIC_BACKEND_ARGS', 'AdaptiveThreadsHook', 'AtomicCheckpointHook',
           'RNG_STATE_KEY']
