from .checkpoint_hook import (ATOMIC_BACKEND_ARGS, RNG_STATE_KEY,
                              AtomicCheckpointHook)

__all__ = ['ATOMIC_BACKEND_ARGS', 'RNG_STATE_KEY', 'AtomicCheckpointHook']
