"""ibnseg: IBN-Net for cross-domain semantic segmentation, as an mmseg plugin.

Importing the package registers every ibnseg module (backbones, norm layer,
datasets, transforms, metrics, hooks) in mmseg's registries, so an mmseg config
only needs ``custom_imports = dict(imports=['ibnseg'])``.
"""
from .utils import mmcv_ext_placeholder

# Before mmseg is imported: with mmcv-lite, mmseg's import of mmcv.ops needs
# the stand-in for the compiled ops (a no-op where compiled mmcv exists).
mmcv_ext_placeholder.install()

from .version import __version__  # noqa: E402
from . import utils  # noqa: F401,E402  (safe checkpoint loading for mmengine)
from . import models  # noqa: F401,E402
from . import datasets  # noqa: F401,E402
from . import evaluation  # noqa: F401,E402
from . import engine  # noqa: F401,E402

__all__ = ['__version__']
