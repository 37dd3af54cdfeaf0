from .adaptive_threads_hook import AdaptiveThreadsHook
from .checkpoint_hook import (ATOMIC_BACKEND_ARGS, RNG_STATE_KEY,
                              AtomicCheckpointHook)
from .visualization_hook import DomainSegVisualizationHook

__all__ = [
    'ATOMIC_BACKEND_ARGS', 'AdaptiveThreadsHook', 'AtomicCheckpointHook',
    'DomainSegVisualizationHook', 'RNG_STATE_KEY'
]
