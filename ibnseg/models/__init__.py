"""IBN-Net backbones and the IBN norm layer (registered in mmseg's MODELS)."""
from .backbones import *  # noqa: F401,F403
from .layers import *  # noqa: F401,F403
