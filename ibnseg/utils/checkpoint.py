"""Safe checkpoint loading for mmengine 0.10 on torch >= 2.5.

mmengine 0.10.7's scheme loaders are not safe on torch 2.x (``load_url``
passes ``weights_only=False``; the others rely on torch's default, which
``TORCH_FORCE_NO_WEIGHTS_ONLY_LOAD`` flips), so :data:`SAFE_LOADERS`
re-registers every scheme of ``CheckpointLoader`` (behind every mmengine and
mmseg route) with a loader that finds the file as mmengine does and reads it
with :func:`load_checkpoint_safely`.
"""
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

import torch
from mmengine.dist import get_dist_info
from mmengine.logging import print_log
from mmengine.model import is_model_wrapper
from mmengine.runner import CheckpointLoader
from mmengine.runner import checkpoint as mmengine_checkpoint
from mmengine.runner import load_checkpoint

from .checkpoint_contents import (Refused, check_fields, rebuild,
                                  stand_in_globals)

__all__ = ['CheckpointDownloadError', 'CheckpointError',
           'CheckpointMismatchError', 'UnsafeCheckpointError',
           'load_checkpoint_safely', 'load_strictly']


class CheckpointError(Exception):
    """A checkpoint that cannot be used; the message names it and says
    why."""


class UnsafeCheckpointError(CheckpointError, pickle.UnpicklingError):
    """A checkpoint holds objects that safe loading refuses to unpickle."""


class CheckpointDownloadError(CheckpointError, OSError):
    """A checkpoint URL could not be downloaded (its cache file named)."""


class CheckpointMismatchError(CheckpointError, RuntimeError):
    """A checkpoint's weights do not fit the model its config builds."""


def load_strictly(model, checkpoint: str, config: str) -> None:
    """Load ``checkpoint`` into ``model`` (unwrapped) with mmengine's
    ``load_checkpoint(strict=True)``; :class:`CheckpointMismatchError`
    names the keys that do not fit, the checkpoint and ``config``."""
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


def _conflicting_globals(stand_ins) -> list:
    """Entries another package allow-listed under the stand-ins' names:
    torch would pick either, and theirs may be numpy's real constructors."""
    names = {name for _, name in stand_ins}
    return [entry for entry in torch.serialization.get_safe_globals()
            if entry not in stand_ins and (
                entry[1] if isinstance(entry, tuple) else
                f'{entry.__module__}.{getattr(entry, "__qualname__", "")}')
            in names]


def load_checkpoint_safely(filename, map_location=None, source=None):
    """Load a checkpoint so that nothing in it runs code or crashes the
    process: ``weights_only=True`` (explicit, so the environment cannot turn
    it off) with the stand-ins of :mod:`ibnseg.utils.checkpoint_contents`,
    then its checked rebuild without config text.

    Args:
        filename (str | PathLike | file-like): The checkpoint.
        map_location: As in ``torch.load``.
        source (str, optional): What an error names. Default: ``filename``.

    Raises:
        UnsafeCheckpointError: Something the checks refuse, named.
        CheckpointError: Not a checkpoint torch can read.
    """
    source = filename if source is None else source
    if not hasattr(torch.serialization, 'safe_globals'):  # torch < 2.5
        raise CheckpointError(
            f'{source}: loading checkpoints safely needs torch >= 2.5 '
            f'(this is {torch.__version__}); upgrade torch')
    stand_ins = stand_in_globals()
    conflicts = _conflicting_globals(stand_ins)
    if conflicts:
        raise CheckpointError(
            f'{source}: not loaded: another package allow-listed '
            f'{conflicts} for torch.load under the names ibnseg checks '
            '(torch.serialization.clear_safe_globals() removes them)')
    try:
        if zipfile.is_zipfile(filename):
            with zipfile.ZipFile(filename) as archive:
                _refuse_expansion(archive, source)
        if hasattr(filename, 'seek'):  # is_zipfile read a file object
            filename.seek(0)
        with torch.serialization.safe_globals(stand_ins):
            loaded = torch.load(filename, map_location=map_location,
                                weights_only=True)
        return check_fields(rebuild(loaded))
    except CheckpointError:
        raise
    except Refused as error:
        raise UnsafeCheckpointError(
            f'{source}: refused to load this checkpoint: {error}') from None
    except pickle.UnpicklingError as error:
        if 'GLOBAL' in str(error):
            raise _unsafe_error(source, error) from None
        raise _unreadable_error(source, error) from None
    except Exception as error:  # torch's and zipfile's many ways to fail
        raise _unreadable_error(source, error) from None


#: How many times its stored bytes a zip entry may expand to: torch writes
#: checkpoints uncompressed; a zip bomb would be inflated into memory.
MAX_EXPANSION = 100


def _refuse_expansion(archive: zipfile.ZipFile, source) -> None:
    for entry in archive.infolist():
        if entry.file_size > MAX_EXPANSION * max(entry.compress_size,
                                                 1 << 20):
            raise UnsafeCheckpointError(
                f'{source}: refused to load this checkpoint: its zip entry '
                f'{entry.filename} would expand from {entry.compress_size} '
                f'to {entry.file_size} bytes, more than {MAX_EXPANSION} '
                'times (torch writes checkpoints uncompressed)')


def _unreadable_error(source, error) -> CheckpointError:
    # the first line of torch's weights-only message says what failed
    reason = str(error).strip()
    if 'WeightsUnpickler error:' in reason:
        reason = reason.split('WeightsUnpickler error:', 1)[1].strip()
    reason = reason.splitlines()[0] if reason else 'the file ends early'
    return CheckpointError(
        f'{source}: not a checkpoint torch can read (truncated, damaged, '
        f'or another kind of file): {type(error).__name__}: {reason}')


def _unsafe_error(filename, error) -> UnsafeCheckpointError:
    match = re.search(r'GLOBAL ([\w.]+)', str(error))
    return UnsafeCheckpointError(
        f'{filename}: refused to load this checkpoint: it pickles '
        f'{match.group(1) if match else "an unknown global"}, which is '
        'neither a tensor nor a type that mmengine checkpoints use, and '
        'unpickling it could run arbitrary code. Only load files from '
        'sources you trust; if you trust this one, re-save its tensors with '
        'torch.save(state_dict).')


# mmengine 0.10.7's scheme loaders (same arguments, lookups, caches and log
# lines, which name the backend by <name[10:]>), but unpickling safely.


def load_from_local(filename, map_location=None):
    """A local path (``~`` expanded)."""
    filename = osp.expanduser(filename)
    if not osp.isfile(filename):
        raise FileNotFoundError(f'{filename} can not be found.')
    return load_checkpoint_safely(filename, map_location)


def _download(url, cached, progress):
    """``url`` to ``cached`` unless already there (torch.hub's rule)."""
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
    # torch.hub also takes a zip of one file (a torch < 1.6 checkpoint)
    if zipfile.is_zipfile(cached):
        with zipfile.ZipFile(cached) as archive:
            members = archive.infolist()
            if len(members) == 1 and not members[0].is_dir():
                _refuse_expansion(archive, source)
                buffer = io.BytesIO(archive.read(members[0]))
                return load_checkpoint_safely(buffer, map_location, source)
    return load_checkpoint_safely(cached, map_location, source)


def load_from_http(filename, map_location=None, model_dir=None,
                   progress=os.isatty(0), source=None):
    """An ``http(s)://`` URL, cached where torch.hub keeps it; ``source``:
    the name the user gave (``torchvision://...``), for errors."""
    if model_dir is None:
        model_dir = osp.join(torch.hub.get_dir(), 'checkpoints')
    name = osp.basename(urlparse(filename).path)
    if not name:
        raise CheckpointError(
            f'{filename if source is None else source}: the URL names no '
            'file (it ends in /), so there is no cache file to keep it in; '
            'give the URL of the checkpoint file itself')
    cached = osp.join(model_dir, name)
    # As mmengine: rank 0 downloads first, the others then find the cache.
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


def _model_url(table: dict, name: str, filename: str, where: str) -> str:
    """``table[name]``, or an error naming what exists."""
    if name not in table:
        raise CheckpointError(
            f'{filename}: {name!r} is not a model name {where} knows; it '
            f'knows {len(table)} names, such as {sorted(table)[:5]}')
    return table[name]


def load_from_torchvision(filename, map_location=None):
    """``torchvision://NAME`` (``modelzoo://NAME``): torchvision's URL."""
    try:
        model_urls = mmengine_checkpoint.get_torchvision_models()
    except ImportError as error:  # mmengine reads torchvision's own table
        raise CheckpointError(f'{filename}: torchvision:// names need '
                              f'torchvision installed ({error})') from None
    if filename.startswith('modelzoo://'):
        print_log('The URL scheme of "modelzoo://" is deprecated, please '
                  'use "torchvision://" instead', logger='current',
                  level=logging.WARNING)
    url = _model_url(model_urls, filename.split('://', 1)[1], filename,
                     "torchvision's table")
    return load_from_http(url, map_location=map_location, source=filename)


def load_from_openmmlab(filename, map_location=None):
    """``open-mmlab://NAME``: a URL or a file under mmengine's home."""
    model_urls = mmengine_checkpoint.get_external_models()
    scheme, model_name = filename.split('://', 1)
    prefix = scheme + '://'
    deprecated = mmengine_checkpoint.get_deprecated_model_names()
    if model_name in deprecated:
        print_log(
            f'{prefix}{model_name} is deprecated in favor '
            f'of {prefix}{deprecated[model_name]}',
            logger='current', level=logging.WARNING)
        model_name = deprecated[model_name]
    model_url = _model_url(model_urls, model_name, filename,
                           "mmengine's open-mmlab table")
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
    url = _model_url(model_urls, filename[8:], filename, "mmcls' table")
    checkpoint = load_from_http(url, map_location=map_location,
                                source=filename)
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


for _prefix, _loader in SAFE_LOADERS.items():
    CheckpointLoader.register_scheme(_prefix, _loader, force=True)
