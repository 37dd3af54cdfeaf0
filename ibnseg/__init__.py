"""ibnseg: IBN-Net for cross-domain semantic segmentation, as an mmseg plugin.

Importing the package registers every ibnseg module (backbones, norm layer,
datasets, transforms, metrics, hooks) in mmseg's registries, so an mmseg config
only needs ``custom_imports = dict(imports=['ibnseg'])``.
"""
from .version import __version__
from . import utils  # noqa: F401  (first: safe checkpoint loading for mmengine)
from . import models  # noqa: F401
from . import datasets  # noqa: F401
from . import evaluation  # noqa: F401
from . import engine  # noqa: F401

__all__ = ['__version__']
