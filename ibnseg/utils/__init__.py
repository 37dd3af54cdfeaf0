from . import mmcv_ext_placeholder  # noqa: F401  (first: stdlib only)
from .checkpoint import (CheckpointDownloadError, UnsafeCheckpointError,
                         allow_mmengine_checkpoint_types,
                         load_checkpoint_safely)

__all__ = ['CheckpointDownloadError', 'UnsafeCheckpointError',
           'allow_mmengine_checkpoint_types', 'load_checkpoint_safely']
