"""Safe checkpoint loading for mmengine 0.10 on torch >= 2.6.

torch >= 2.6 loads with ``weights_only=True`` by default: only tensors and
plain containers are unpickled, so a downloaded ``.pth`` cannot run code.
mmengine 0.10.7 writes checkpoints that also pickle a few of its own objects
(the message hub's ``HistoryBuffer``, numpy arrays and scalars inside it), so
resuming training or testing a checkpoint fails with that default.

Rather than turning safe loading off, this module allow-lists exactly those
types (:func:`allow_mmengine_checkpoint_types`, run on ``import ibnseg``) and
makes every mmengine checkpoint loader turn a refused file into an
:class:`UnsafeCheckpointError` that names the file and the object it tried
to unpickle. Nothing else is allowed: a weight file that pickles an arbitrary
callable is still refused.
"""
import functools
import pickle
import re

import numpy as np
import torch
from mmengine.logging import HistoryBuffer
from mmengine.runner import CheckpointLoader

__all__ = ['UnsafeCheckpointError', 'allow_mmengine_checkpoint_types',
           'load_checkpoint_safely']


class UnsafeCheckpointError(pickle.UnpicklingError):
    """A checkpoint holds objects that safe loading refuses to unpickle."""


def _history_buffer_attribute(owner, name):
    """Stand-in for ``getattr`` during unpickling, limited to HistoryBuffer.

    A ``HistoryBuffer`` pickles its statistics methods (``min``, ``max``,
    ``mean``, ``current``) as ``getattr(HistoryBuffer, name)``. Allowing the
    real ``getattr`` would let a file reach any attribute of any allowed
    object, so only HistoryBuffer's own public methods resolve here.
    """
    if owner is HistoryBuffer and not name.startswith('_') \
            and callable(getattr(HistoryBuffer, name, None)):
        return getattr(HistoryBuffer, name)
    raise UnsafeCheckpointError(
        f'refusing getattr({owner!r}, {name!r}) while unpickling: only '
        'HistoryBuffer statistics methods are allowed')


def _numpy_globals():
    """The numpy objects needed to rebuild arrays, scalars and dtypes."""
    try:  # numpy >= 2 moved the core module
        from numpy._core import multiarray
    except ImportError:  # pragma: no cover - numpy 1.x
        from numpy.core import multiarray
    dtype_classes = {type(np.dtype(code)) for code in np.typecodes['All']
                     if code not in 'Mm'}  # datetimes pickle no class
    allowed = [np.ndarray, np.dtype, *dtype_classes]
    # Checkpoints written under numpy 1.x name 'numpy.core.multiarray.*',
    # under 2.x 'numpy._core.multiarray.*': accept both spellings.
    for module in ('numpy.core.multiarray', 'numpy._core.multiarray'):
        allowed.append((multiarray._reconstruct, f'{module}._reconstruct'))
        allowed.append((multiarray.scalar, f'{module}.scalar'))
    return allowed


@functools.lru_cache(maxsize=None)
def allow_mmengine_checkpoint_types() -> bool:
    """Allow-list the types mmengine checkpoints pickle, for safe loading.

    Returns False (and changes nothing) on a torch without
    ``torch.serialization.add_safe_globals`` (< 2.4); there, mmengine's own
    checkpoints cannot be loaded safely and :func:`load_checkpoint_safely`
    says so.
    """
    if not hasattr(torch.serialization, 'add_safe_globals'):
        return False
    torch.serialization.add_safe_globals([
        HistoryBuffer,
        (_history_buffer_attribute, 'builtins.getattr'),
        *_numpy_globals(),
    ])
    return True


def _refused_global(error: Exception) -> str:
    match = re.search(r'GLOBAL ([\w.]+)', str(error))
    return match.group(1) if match else 'an object that is not a tensor'


def load_checkpoint_safely(filename, map_location=None):
    """``torch.load`` with ``weights_only=True`` and a clear refusal.

    Args:
        filename (str | PathLike | file-like): The checkpoint.
        map_location: As in ``torch.load``.

    Raises:
        UnsafeCheckpointError: The file pickles something other than
            tensors, containers and the allow-listed mmengine types.
    """
    try:
        return torch.load(filename, map_location=map_location,
                          weights_only=True)
    except pickle.UnpicklingError as error:
        raise _unsafe_error(filename, error) from None


def _unsafe_error(filename, error) -> UnsafeCheckpointError:
    hint = ''
    if not allow_mmengine_checkpoint_types():
        hint = (' mmengine checkpoints need torch >= 2.4 to load safely; '
                'upgrade torch.')
    return UnsafeCheckpointError(
        f'{filename}: refused to load this checkpoint: it pickles '
        f'{_refused_global(error)}, which is neither a tensor nor a type '
        'that mmengine checkpoints use, and unpickling it could run '
        'arbitrary code. Only load files from sources you trust; if you '
        'trust this one, re-save its tensors with torch.save(state_dict).'
        + hint)


def _refuse_unsafe(loader):
    """Wrap an mmengine scheme loader so a refusal names the file."""

    @functools.wraps(loader)
    def load(filename, map_location=None):
        try:
            return loader(filename, map_location)
        except UnsafeCheckpointError:
            raise
        except pickle.UnpicklingError as error:
            raise _unsafe_error(filename, error) from None

    return load


def _install_safe_loaders():
    """Route mmengine's checkpoint loading through safe loading.

    Local files go through :func:`load_checkpoint_safely` (``weights_only``
    is passed explicitly, so an environment that flips torch's default does
    not turn it off); the other schemes (http, open-mmlab://, ...) already
    call ``torch.load`` with torch's safe default and only get the clear
    error message.
    """
    # CheckpointLoader keeps its schemes in a private dict; there is no
    # public way to list them, and re-registering each one is public API.
    for prefix, loader in list(CheckpointLoader._schemes.items()):
        if getattr(loader, '_ibnseg_safe', False):
            continue
        if prefix == '':
            loader = load_checkpoint_safely
        wrapped = _refuse_unsafe(loader)
        # mmengine logs 'Loads checkpoint by <name[10:]> backend'.
        wrapped.__name__ = CheckpointLoader._schemes[prefix].__name__
        wrapped._ibnseg_safe = True
        CheckpointLoader.register_scheme(prefix, wrapped, force=True)


allow_mmengine_checkpoint_types()
_install_safe_loaders()
