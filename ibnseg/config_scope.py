"""``ibnseg::`` config paths: ``_base_ = ['ibnseg::ibn_b_cityscapes.py']``.

mmengine 0.10.7 resolves ``<package>::<path>`` bases only for the packages
in its own table. :func:`install` makes ``Config._get_cfg_path`` resolve
``ibnseg::<path>`` under ``ibnseg/.mim/configs`` (the checkout's
``configs/``, or a wheel's copy), read without a ``_scope_``. mmengine reads
the ``_base_`` chain before a config's ``custom_imports``, so
``ibnseg-config-scope.pth`` (put into site-packages by setup.py) calls
:func:`install` at interpreter start: this module imports only the standard
library and patches mmengine's config module when it is imported.
"""
import difflib
import importlib.abc
import os
import sys

__all__ = ['PREFIX', 'PTH_LINE', 'PTH_NAME', 'configs_dir', 'install',
           'resolve']

PREFIX = 'ibnseg::'
#: The module whose ``Config`` is patched when it is first imported.
TARGET = 'mmengine.config.config'
#: This module's import name (also when the ``.pth`` file loads it by path).
MODULE_NAME = 'ibnseg.config_scope'
PTH_NAME = 'ibnseg-config-scope.pth'
#: The ``.pth`` line: loads this file by path where ``ibnseg`` is found (not
#: the package, which imports torch) and calls install(); ``site`` runs it
#: after the ``__editable__.*.pth`` finder of an editable install.
PTH_LINE = (
    "import os, sys, importlib.util as u; s = u.find_spec('ibnseg'); "
    "d = s and list(s.submodule_search_locations or ()); "
    "p = d and os.path.join(d[0], 'config_scope.py'); "
    "f = p and os.path.isfile(p) and u.spec_from_file_location(%r, p); "
    "m = f and u.module_from_spec(f); "
    "m and (f.loader.exec_module(m), "
    "sys.modules.setdefault(f.name, m).install())\n" % MODULE_NAME)


def configs_dir() -> str:
    """The folder ``ibnseg::`` paths are relative to."""
    return os.path.join(os.path.dirname(os.path.abspath(__file__)), '.mim',
                        'configs')


def _config_names(root: str):
    for folder, _, files in os.walk(root, followlinks=True):
        for name in files:
            if name.endswith('.py'):
                yield os.path.relpath(os.path.join(folder, name),
                                      root).replace(os.sep, '/')


def resolve(cfg_path: str) -> str:
    """The file an ``ibnseg::<path>`` base names; FileNotFoundError (with
    the nearest config names) if ibnseg ships no such config."""
    name = cfg_path[len(PREFIX):]
    root = configs_dir()
    path = os.path.normpath(os.path.join(root, name))
    if os.path.isfile(path) and path.startswith(root + os.sep):
        return path
    if not os.path.isdir(root):
        raise FileNotFoundError(
            f"_base_ '{cfg_path}': ibnseg's configs are not installed "
            f'({root} is missing); reinstall ibnseg (pip install <checkout> '
            'or its wheel)')
    near = difflib.get_close_matches(name, sorted(_config_names(root)), n=3)
    hint = ('; nearest: ' + ', '.join(PREFIX + n for n in near)) if near \
        else ''
    raise FileNotFoundError(
        f"_base_ '{cfg_path}': ibnseg has no config '{name}' under "
        f'{root}{hint}')


def _patch(config_module) -> None:
    """Make ``Config._get_cfg_path`` resolve ``ibnseg::`` paths."""
    config_cls = config_module.Config
    original = config_cls._get_cfg_path
    if getattr(original, 'ibnseg_config_scope', False):
        return

    def _get_cfg_path(cfg_path, filename):
        if cfg_path.startswith(PREFIX):
            return resolve(cfg_path), None
        return original(cfg_path, filename)

    _get_cfg_path.ibnseg_config_scope = True
    config_cls._get_cfg_path = staticmethod(_get_cfg_path)


class _PatchOnImport(importlib.abc.MetaPathFinder):
    """Lets the other finders find :data:`TARGET` and patches the module
    right after its loader has run it."""

    IBNSEG_CONFIG_SCOPE = True

    def find_spec(self, fullname, path=None, target=None):
        if fullname != TARGET:
            return None
        for finder in sys.meta_path:
            if finder is self or not hasattr(finder, 'find_spec'):
                continue
            spec = finder.find_spec(fullname, path, target)
            if spec is not None:
                break
        else:
            return None
        loader = spec.loader
        if loader is None or not hasattr(loader, 'exec_module'):
            return spec
        exec_module = loader.exec_module

        def exec_and_patch(module):
            exec_module(module)
            _patch(module)

        # The loader is this module's own instance (file loaders are made
        # per module): shadow its bound method, keep the rest of it.
        loader.exec_module = exec_and_patch
        return spec


def install() -> None:
    """Resolve ``ibnseg::`` in mmengine configs (once per process)."""
    module = sys.modules.get(TARGET)
    if module is not None and hasattr(module, 'Config'):
        _patch(module)
    elif not any(getattr(finder, 'IBNSEG_CONFIG_SCOPE', False)
                 for finder in sys.meta_path):
        sys.meta_path.insert(0, _PatchOnImport())
