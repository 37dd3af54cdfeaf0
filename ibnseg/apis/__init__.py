"""Inference on one's own images (``tools/infer.py``), next to mmseg.apis."""
from .inference import *  # noqa: F401,F403
from .inference import __all__  # noqa: F401
