"""ibnseg: IBN-Net for cross-domain semantic segmentation, as an mmseg plugin.

Importing the package registers every ibnseg module (backbones, norm layer,
datasets, transforms, metrics, hooks) in mmseg's registries, so an mmseg config
only needs ``custom_imports = dict(imports=['ibnseg'])``.
"""
import importlib.util

# ibnseg's metadata names no mmcv (either distribution would make pip
# replace or build the other): say what to install before mmseg's import of
# mmcv fails with a bare ModuleNotFoundError.
if importlib.util.find_spec('mmcv') is None:
    raise ImportError(
        'ibnseg needs mmcv 2.x (>=2.0.0rc4, <2.2.0, as mmseg 1.2 requires), '
        'and none is installed: `pip install mmcv-lite==2.1.0` (pure Python, '
        "enough for ibnseg's models) or the compiled `mmcv==2.1.0` (for mmseg "
        'heads that call its ops; built for your torch)')

from . import config_scope  # noqa: E402
from .utils import mmcv_ext_placeholder  # noqa: E402

# Before mmseg is imported: with mmcv-lite, mmseg's import of mmcv.ops needs
# the stand-in for the compiled ops (a no-op where compiled mmcv exists).
mmcv_ext_placeholder.install()
# `_base_ = ['ibnseg::...']` in configs read after this import, also where
# the .pth file that does it at start-up is missing (PYTHONPATH checkouts).
config_scope.install()

from .version import __version__  # noqa: E402
from . import utils  # noqa: F401,E402  (safe checkpoint loading for mmengine)
from . import models  # noqa: F401,E402
from . import datasets  # noqa: F401,E402
from . import evaluation  # noqa: F401,E402
from . import engine  # noqa: F401,E402

__all__ = ['__version__']
