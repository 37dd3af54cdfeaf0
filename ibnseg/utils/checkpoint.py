"""Safe checkpoint loading for mmengine 0.10 on torch >= 2.6.

torch >= 2.6 loads with ``weights_only=True`` by default: only tensors and
plain containers are unpickled, so a downloaded ``.pth`` cannot run code.
mmengine 0.10.7 writes checkpoints that also pickle a few of its own objects
(the message hub's ``HistoryBuffer``, numpy arrays and scalars inside it), so
resuming training or testing a checkpoint fails with that default.

Rather than turning safe loading off, this module allow-lists exactly those
types (:func:`allow_mmengine_checkpoint_types`, run on ``import ibnseg``) and
loads every checkpoint with :func:`load_checkpoint_safely`, which turns a
refused file into an :class:`UnsafeCheckpointError` that names the source
and the object it tried to unpickle. Nothing else is allowed: a weight file
that pickles an arbitrary callable is still refused.

Every source, not only local files. mmengine's ``CheckpointLoader`` (behind
``load_checkpoint``, ``Runner.load_checkpoint``/``resume``, ``init_cfg``
``Pretrained`` and ``mmseg.apis.init_model``) picks a loader by scheme, and
mmengine 0.10.7's own loaders are not safe on torch 2.x:

- ``http(s)://``, and ``open-mmlab://``, ``torchvision://``, ``mmcls://``
  names that map to URLs, go through ``mmengine.utils.dl_utils.load_url``,
  which is ``torch.hub.load_state_dict_from_url``: it downloads into
  ``<torch hub dir>/checkpoints`` and passes ``weights_only=False`` to
  ``torch.load`` (its default), on the first download and every time the
  cached copy is loaded again;
- the local, ``pavi://``, ``s3://``/``petrel://`` and ``open-mmlab://``
  local-file loaders call ``torch.load`` without ``weights_only``, so
  ``TORCH_FORCE_NO_WEIGHTS_ONLY_LOAD=1`` (or torch < 2.6) makes them unsafe.

So :data:`SAFE_LOADERS` re-registers every scheme (with the public
``CheckpointLoader.register_scheme``) by a loader that finds the file the
way mmengine does (its name tables, torch.hub's cache folder and
``download_url_to_file``, mmengine's file backends) and then always
unpickles it with :func:`load_checkpoint_safely`. A scheme another package
registers is not covered; mmengine's module functions (``load_from_http``
...) stay unsafe when called directly, which nothing in mmengine, mmcv or
mmseg does. A loaded checkpoint's ``meta['config']`` (config text that
``Runner.resume`` would execute) is dropped.
"""
import functools
import io
import logging
import os
import os.path as osp
import pickle
import re
import sys
import zipfile
from tempfile import TemporaryDirectory
from urllib.parse import urlparse

import numpy as np
import torch
from mmengine.dist import get_dist_info
from mmengine.logging import HistoryBuffer, print_log
from mmengine.model import is_model_wrapper
from mmengine.runner import CheckpointLoader
from mmengine.runner import checkpoint as mmengine_checkpoint
from mmengine.runner import load_checkpoint

__all__ = ['CheckpointDownloadError', 'CheckpointError',
           'CheckpointMismatchError', 'UnsafeCheckpointError',
           'allow_mmengine_checkpoint_types', 'load_checkpoint_safely',
           'load_strictly']


class CheckpointError(Exception):
    """A checkpoint that cannot be used; its message says why and names it.
    The tools print it instead of a traceback, whatever the kind below."""


class UnsafeCheckpointError(CheckpointError, pickle.UnpicklingError):
    """A checkpoint holds objects that safe loading refuses to unpickle."""


class CheckpointDownloadError(CheckpointError, OSError):
    """A checkpoint URL could not be downloaded (no network, a wrong
    address): the message names the URL and the cache file it would have
    gone to."""


class CheckpointMismatchError(CheckpointError, RuntimeError):
    """A checkpoint's weights do not fit the model its config builds."""


def load_strictly(model, checkpoint: str, config: str) -> None:
    """Load ``checkpoint`` into ``model`` (unwrapped if wrapped), strictly:
    ibnseg's one way to put trained weights into a built segmentor
    (mmengine's ``load_checkpoint`` with ``strict=True``, through the safe
    loaders below), so a checkpoint of another model fails the same way in
    evaluation, inference and the analysis tools.

    Raises:
        CheckpointMismatchError: Missing, unexpected or mis-shaped keys; the
            message names them, the checkpoint and ``config``.
    """
    if is_model_wrapper(model):
        model = model.module
    try:
        load_checkpoint(model, checkpoint, map_location='cpu', strict=True)
    except RuntimeError as error:
        if 'do not match' not in str(error):
            raise
        raise CheckpointMismatchError(
            f'checkpoint {checkpoint} does not match the model of config '
            f'{config}:\n{error}') from None


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


def load_checkpoint_safely(filename, map_location=None, source=None):
    """``torch.load`` with ``weights_only=True`` and a clear refusal.

    ``weights_only`` is passed explicitly, so an environment that flips
    torch's default (``TORCH_FORCE_NO_WEIGHTS_ONLY_LOAD``) does not turn it
    off.

    Args:
        filename (str | PathLike | file-like): The checkpoint.
        map_location: As in ``torch.load``.
        source (str, optional): What a refusal names (a URL and where it was
            downloaded to, say); defaults to ``filename``.

    Raises:
        UnsafeCheckpointError: The file pickles something other than
            tensors, containers and the allow-listed mmengine types.
    """
    try:
        checkpoint = torch.load(filename, map_location=map_location,
                                weights_only=True)
    except pickle.UnpicklingError as error:
        raise _unsafe_error(filename if source is None else source,
                            error) from None
    return _without_config_text(checkpoint,
                                filename if source is None else source)


def _without_config_text(checkpoint, source):
    """Drop ``meta['config']``: text that runs as code on resume.

    mmengine's ``Runner.resume`` executes ``checkpoint['meta']['config']``
    (written by mmcv 1.x-era runners) with ``Config.fromstring`` only to read
    its ``gpu_ids``. Being text, not a pickled object, it passes safe
    unpickling, yet it is Python code. mmengine's own checkpoints keep their
    config under ``meta['cfg']``, which nothing executes.
    """
    meta = checkpoint.get('meta') if isinstance(checkpoint, dict) else None
    if isinstance(meta, dict) and 'config' in meta:
        del meta['config']
        print_log(
            f"{source}: ignored the config text in meta['config'] (a "
            'Python config that resuming would execute); the run uses its '
            'own config', logger='current', level=logging.WARNING)
    return checkpoint


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


# The scheme loaders: mmengine 0.10.7's (mmengine/runner/checkpoint.py), with
# the same arguments, lookups, caches and log lines, except that the file is
# always unpickled by load_checkpoint_safely. Their names start with
# 'load_from_' because mmengine logs 'Loads checkpoint by <name[10:]> backend'.


def load_from_local(filename, map_location=None):
    """A local path (``~`` expanded)."""
    filename = osp.expanduser(filename)
    if not osp.isfile(filename):
        raise FileNotFoundError(f'{filename} can not be found.')
    return load_checkpoint_safely(filename, map_location)


def _download(url, cached, progress):
    """``url`` to ``cached``, unless already there (torch.hub's cache rule:
    the file name is the URL's; a cached file is never checked again)."""
    if not osp.exists(cached):
        os.makedirs(osp.dirname(cached), exist_ok=True)
        sys.stdout.write(f'Downloading: "{url}" to {cached}\n')
        try:
            torch.hub.download_url_to_file(url, cached, progress=progress)
        except OSError as error:  # urllib's URLError/HTTPError are OSErrors
            raise CheckpointDownloadError(
                f'cannot download the checkpoint {url} ({error}); without '
                f'network, download it elsewhere and put it at {cached}, '
                'or give a local file instead of the URL') from error


def _load_downloaded(cached, map_location, source):
    # torch.hub also accepts a zip holding one file (a checkpoint of
    # torch < 1.6 zipped by hand); read that file from the zip. A torch
    # >= 1.6 checkpoint is a zip of several entries and loads as is.
    if zipfile.is_zipfile(cached):
        with zipfile.ZipFile(cached) as archive:
            members = archive.infolist()
            if len(members) == 1 and not members[0].is_dir():
                buffer = io.BytesIO(archive.read(members[0]))
                return load_checkpoint_safely(buffer, map_location, source)
    return load_checkpoint_safely(cached, map_location, source)


def load_from_http(filename, map_location=None, model_dir=None,
                   progress=os.isatty(0), source=None):
    """An ``http(s)://`` URL, downloaded where mmengine's ``load_url``
    (``torch.hub.load_state_dict_from_url``) keeps it: ``model_dir``, by
    default ``<torch.hub.get_dir()>/checkpoints`` (``$TORCH_HOME/hub``).

    ``source`` is the name the user gave (``torchvision://...``), for the
    message of a refusal.
    """
    if model_dir is None:
        model_dir = osp.join(torch.hub.get_dir(), 'checkpoints')
    cached = osp.join(model_dir, osp.basename(urlparse(filename).path))
    # As mmengine: rank 0 downloads first; the other ranks wait for it, then
    # find the file in the cache (or download their own on other machines).
    rank, world_size = get_dist_info()
    if rank == 0:
        _download(filename, cached, progress)
    if world_size > 1:
        torch.distributed.barrier()
        if rank > 0:
            _download(filename, cached, progress)
    where = f'cached as {cached}'
    source = (f'{filename} ({where})' if source is None else
              f'{source} ({filename}, {where})')
    return _load_downloaded(cached, map_location, source)


def load_from_pavi(filename, map_location=None):
    """``pavi://``: downloaded by pavi's model cloud to a temporary file."""
    assert filename.startswith('pavi://'), \
        f'Expected filename startswith `pavi://`, but get {filename}'
    try:
        from pavi import modelcloud
    except ImportError:
        raise ImportError(
            'Please install pavi to load checkpoint from modelcloud.')
    model = modelcloud.get(filename[7:])
    with TemporaryDirectory() as tmp_dir:
        downloaded = osp.join(tmp_dir, model.name)
        model.download(downloaded)
        return load_checkpoint_safely(downloaded, map_location, filename)


def load_from_ceph(filename, map_location=None, backend='petrel'):
    """``s3://`` and ``petrel://``: read through mmengine's file backend."""
    file_backend = mmengine_checkpoint.get_file_backend(
        filename, backend_args={'backend': backend})
    with io.BytesIO(file_backend.get(filename)) as buffer:
        return load_checkpoint_safely(buffer, map_location, filename)


def load_from_torchvision(filename, map_location=None):
    """``torchvision://NAME`` (``modelzoo://NAME``): torchvision's URL."""
    model_urls = mmengine_checkpoint.get_torchvision_models()
    if filename.startswith('modelzoo://'):
        print_log(
            'The URL scheme of "modelzoo://" is deprecated, please '
            'use "torchvision://" instead',
            logger='current', level=logging.WARNING)
        model_name = filename[11:]
    else:
        model_name = filename[14:]
    return load_from_http(model_urls[model_name], map_location=map_location,
                          source=filename)


def load_from_openmmlab(filename, map_location=None):
    """``open-mmlab://NAME`` (``openmmlab://NAME``): the URL mmengine's
    table (and ``$MMENGINE_HOME/open_mmlab.json``) gives, or a file under
    mmengine's home."""
    model_urls = mmengine_checkpoint.get_external_models()
    prefix = 'open-mmlab://'
    if not filename.startswith(prefix):
        prefix = 'openmmlab://'
    model_name = filename[len(prefix):]
    deprecated = mmengine_checkpoint.get_deprecated_model_names()
    if model_name in deprecated:
        print_log(
            f'{prefix}{model_name} is deprecated in favor '
            f'of {prefix}{deprecated[model_name]}',
            logger='current', level=logging.WARNING)
        model_name = deprecated[model_name]
    model_url = model_urls[model_name]
    if model_url.startswith(('http://', 'https://')):
        return load_from_http(model_url, map_location=map_location,
                              source=filename)
    # mmengine has no public getter for its home folder.
    local = osp.join(mmengine_checkpoint._get_mmengine_home(), model_url)
    if not osp.isfile(local):
        raise FileNotFoundError(f'{local} can not be found.')
    return load_checkpoint_safely(local, map_location,
                                  f'{filename} ({local})')


def load_from_mmcls(filename, map_location=None):
    """``mmcls://NAME``: mmcls' URL; keeps the ``backbone.`` weights."""
    model_urls = mmengine_checkpoint.get_mmcls_models()
    checkpoint = load_from_http(model_urls[filename[8:]],
                                map_location=map_location, source=filename)
    # mmengine's own conversion (private, as the home folder above).
    return mmengine_checkpoint._process_mmcls_checkpoint(checkpoint)


#: The loader of every scheme mmengine 0.10.7 registers, by prefix.
SAFE_LOADERS = {
    '': load_from_local,
    'http://': load_from_http,
    'https://': load_from_http,
    'pavi://': load_from_pavi,
    r'(\S+\:)?s3://': load_from_ceph,
    r'(\S+\:)?petrel://': load_from_ceph,
    'modelzoo://': load_from_torchvision,
    'torchvision://': load_from_torchvision,
    'open-mmlab://': load_from_openmmlab,
    'openmmlab://': load_from_openmmlab,
    'mmcls://': load_from_mmcls,
}


def _install_safe_loaders():
    """Route every mmengine checkpoint scheme through safe loading."""
    for prefix, loader in SAFE_LOADERS.items():
        CheckpointLoader.register_scheme(prefix, loader, force=True)


allow_mmengine_checkpoint_types()
_install_safe_loaders()
