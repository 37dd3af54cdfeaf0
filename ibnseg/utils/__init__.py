from . import mmcv_ext_placeholder  # noqa: F401  (first: stdlib only)
from .checkpoint import (CheckpointDownloadError, CheckpointError,
                         CheckpointMismatchError, UnsafeCheckpointError,
                         load_checkpoint_safely, load_strictly)

__all__ = ['CheckpointDownloadError', 'CheckpointError',
           'CheckpointMismatchError', 'UnsafeCheckpointError',
           'load_checkpoint_safely', 'load_strictly']
