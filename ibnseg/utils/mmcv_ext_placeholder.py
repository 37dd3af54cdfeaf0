"""A stand-in for mmcv's compiled ops (``mmcv._ext``) where mmcv-lite is used.

mmseg 1.2.2 imports ``mmcv.ops`` (hence ``mmcv._ext``) when its models load,
and PyPI has no compiled mmcv 2.1.0 wheel; nothing ibnseg runs calls a
compiled op. :func:`install` appends a finder to the END of
``sys.meta_path`` (a real compiled mmcv wins) whose module answers every op
name, and calling one raises :class:`MMCVOpsUnavailableError`.

``tools/setup_env.sh`` writes :func:`pth_line` into site-packages, so that
mmseg's own entry points work before ibnseg is imported; hence only the
standard library is imported here.
"""
import importlib.abc
import importlib.machinery
import sys

__all__ = ['MMCVOpsUnavailableError', 'install', 'is_placeholder',
           'pth_line']

#: The module that stands in for the compiled ops.
TARGET = 'mmcv._ext'
#: This module's import name (also when a ``.pth`` file loads it by path).
MODULE_NAME = 'ibnseg.utils.mmcv_ext_placeholder'


class MMCVOpsUnavailableError(RuntimeError):
    """A compiled mmcv op was called where only mmcv-lite is installed."""


def _unavailable(op_name: str):
    def op(*args, **kwargs):
        raise MMCVOpsUnavailableError(
            f"mmcv op '{op_name}' needs mmcv's compiled ops (mmcv._ext), "
            'and this environment has mmcv-lite, the pure-Python mmcv that '
            "ibnseg's default set-up installs. ibnseg's backbones and the "
            'FCN, DeepLabV3 and DeepLabV3+ heads call no compiled op; heads '
            'and losses that do (PSA, CCNet, Point head, sigmoid focal loss, '
            'deformable convolutions, ...) need the compiled build: run '
            '`IBNSEG_MMCV=full bash tools/setup_env.sh` (builds mmcv once, '
            'about 30 minutes on 2 cores, needs a C++ compiler) or '
            '`IBNSEG_WHEEL_DIR=<folder with a compiled mmcv 2.1.0 wheel> '
            'bash tools/setup_env.sh`.')

    op.__name__ = op.__qualname__ = op_name
    return op


class _PlaceholderFinder(importlib.abc.MetaPathFinder, importlib.abc.Loader):
    """Finds and makes ``mmcv._ext`` when, and only when, nothing else
    does."""

    IBNSEG_MMCV_EXT_PLACEHOLDER = True

    def find_spec(self, fullname, path=None, target=None):
        if fullname != TARGET:
            return None
        return importlib.machinery.ModuleSpec(fullname, self,
                                              origin='ibnseg placeholder')

    def create_module(self, spec):
        return None  # the default module object

    def exec_module(self, module):
        module.IBNSEG_MMCV_EXT_PLACEHOLDER = True

        def __getattr__(name):  # PEP 562: any op name mmcv asks for
            if name.startswith('__'):  # keep Python's protocols honest
                raise AttributeError(name)
            return _unavailable(name)

        module.__getattr__ = __getattr__


def install() -> None:
    """Append the finder to ``sys.meta_path`` (once per process)."""
    if not any(getattr(finder, 'IBNSEG_MMCV_EXT_PLACEHOLDER', False)
               for finder in sys.meta_path):
        sys.meta_path.append(_PlaceholderFinder())


def is_placeholder(module) -> bool:
    """Whether ``module`` (e.g. ``mmcv._ext``) is this stand-in."""
    return getattr(module, 'IBNSEG_MMCV_EXT_PLACEHOLDER', False) is True


def pth_line(path: str) -> str:
    """The ``.pth`` line that activates this file at start-up under its
    package name (``import ibnseg`` reuses it); a no-op once ``path`` is
    gone."""
    return (
        'import os, sys, importlib.util as u; p = %r; '
        's = os.path.exists(p) and u.spec_from_file_location(%r, p); '
        'm = s and u.module_from_spec(s); '
        'm and (s.loader.exec_module(m), sys.modules.setdefault(s.name, m), '
        'm.install())\n' % (path, MODULE_NAME))
