from .adaptive_threads_hook import AdaptiveThreadsHook
from .checkpoint_hook import RNG_STATE_KEY, AtomicCheckpointHook
from .visualization_hook import DomainSegVisualizationHook

__all__ = [
    'AdaptiveThreadsHook', 'AtomicCheckpointHook',
    'DomainSegVisualizationHook', 'RNG_STATE_KEY'
]
