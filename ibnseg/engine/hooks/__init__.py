from .checkpoint_hook import ATOMIC_BACKEND_ARGS, AtomicCheckpointHook

__all__ = ['ATOMIC_BACKEND_ARGS', 'AtomicCheckpointHook']
