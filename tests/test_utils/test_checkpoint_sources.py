"""Every checkpoint source mmengine knows loads safely, not only local files.

mmengine downloads ``http(s)://`` checkpoints (and the ``open-mmlab://``,
``torchvision://``, ``mmcls://`` names that map to URLs) into torch's hub
cache and unpickled them with ``weights_only=False``; the other schemes
rely on torch's default, which an environment variable turns off. Each test
offers a malicious pickle through one route (it must be refused, naming the
source, without running) and a benign checkpoint through the same route
(it must load).
"""
import json
import os.path as osp
import shutil
import sys
import types
import zipfile

import numpy as np
import pytest
import torch
from mmengine.logging import HistoryBuffer, MessageHub
from mmengine.runner import CheckpointLoader, load_checkpoint
from mmengine.runner import checkpoint as mmengine_checkpoint

import ibnseg  # noqa: F401  (installs the safe loaders)
from ibnseg.utils import checkpoint as safe_checkpoint
from tests.helpers.served_checkpoints import (RunsCommand, assert_refused,
                                              malicious_checkpoint)


def _weights():
    torch.manual_seed(0)
    return torch.nn.Linear(2, 2).state_dict()


def _mmengine_checkpoint(state_dict):
    """What mmengine's Runner saves: message hub buffers, numpy values."""
    hub = MessageHub.get_instance('ibnseg-test-checkpoint-sources')
    hub.update_scalar('train/loss', np.float64(0.5))
    return dict(meta=dict(iter=3, seed=np.int64(7)), state_dict=state_dict,
                message_hub=hub.state_dict())


def _assert_loaded(checkpoint, state_dict):
    loaded = checkpoint.get('state_dict', checkpoint)
    for key, value in state_dict.items():
        assert torch.equal(loaded[key], value), key


def test_every_scheme_has_a_safe_loader():
    """No scheme of CheckpointLoader is left with mmengine's own loader."""
    for prefix, loader in CheckpointLoader._schemes.items():
        assert loader is safe_checkpoint.SAFE_LOADERS.get(prefix), prefix
    # mmengine logs 'Loads checkpoint by <name[10:]> backend'.
    assert all(loader.__name__.startswith('load_from_')
               for loader in CheckpointLoader._schemes.values())


@pytest.mark.parametrize('load', ['CheckpointLoader', 'load_checkpoint'])
def test_http_url(server, caches, marker, load):
    """A URL downloads into the hub cache and loads from there, safely;
    a refused file stays refused when it is found in the cache later."""
    if load == 'CheckpointLoader':
        def load(url):
            return CheckpointLoader.load_checkpoint(url, map_location='cpu')
    else:
        def load(url):
            model = torch.nn.Linear(2, 2)
            return load_checkpoint(model, url, map_location='cpu',
                                   strict=True)

    url = server.serve_malicious('evil.pth', marker)
    assert_refused(lambda: load(url), marker, url, caches.hub / 'evil.pth')
    assert osp.isfile(caches.hub / 'evil.pth')  # cached, as torch.hub does
    # The second call finds the cached copy, not the server's.
    shutil.move(server.path('evil.pth'), server.path('moved.pth'))
    assert_refused(lambda: load(url), marker, url)

    weights = _weights()
    # An mmengine checkpoint (HistoryBuffer, numpy) loads: the allow-list
    # applies to downloads as to local files.
    url = server.serve('iter_3.pth', _mmengine_checkpoint(weights))
    checkpoint = load(url)
    _assert_loaded(checkpoint, weights)
    buffer = checkpoint['message_hub']['log_scalars']['train/loss']
    assert isinstance(buffer, HistoryBuffer)


def test_cached_copy_loads_safely(server, caches, marker):
    """A file already in torch's hub cache is not downloaded again; it is
    loaded with the same safe loading (the server has neither file, so a
    download would fail)."""
    caches.hub.mkdir(parents=True)
    cached = malicious_checkpoint(caches.hub / 'planted.pth', marker)
    url = server.url('planted.pth')
    assert_refused(lambda: CheckpointLoader.load_checkpoint(url, 'cpu'),
                   marker, url, cached)

    weights = _weights()
    torch.save(weights, caches.hub / 'cached_ok.pth')
    _assert_loaded(
        CheckpointLoader.load_checkpoint(server.url('cached_ok.pth'), 'cpu'),
        weights)


def test_http_zip_of_old_checkpoint(server, caches, marker, tmp_path):
    """torch.hub also takes a URL of a zip holding one checkpoint in the
    format of torch < 1.6; it loads safely too."""

    def serve_zipped(name, obj):
        inner = tmp_path / f'{name}.pth'
        torch.save(obj, inner, _use_new_zipfile_serialization=False)
        with zipfile.ZipFile(server.path(f'{name}.zip'), 'w') as archive:
            archive.write(inner, inner.name)
        return server.url(f'{name}.zip')

    url = serve_zipped('evil', {'payload': RunsCommand(marker)})
    assert_refused(lambda: CheckpointLoader.load_checkpoint(url, 'cpu'),
                   marker, url, caches.hub / 'evil.zip')
    weights = _weights()
    url = serve_zipped('ok', weights)
    _assert_loaded(CheckpointLoader.load_checkpoint(url, 'cpu'), weights)


class _Route(types.SimpleNamespace):
    """What one scheme case needs: a server, caches, a marker, patching."""

    def serve(self, name, obj=None):
        """(url, path) of a served file; malicious unless ``obj`` given."""
        if obj is None:
            return self.server.serve_malicious(name, self.marker), None
        return self.server.serve(name, obj), None

    def open_mmlab_json(self, urls):
        self.caches.mmengine.mkdir(parents=True, exist_ok=True)
        with open(self.caches.mmengine / 'open_mmlab.json', 'w') as f:
            json.dump(urls, f)


def _via_url_table(prefix, table_function):
    """A scheme that maps names to URLs with ``table_function``."""

    def case(route):
        evil_url, _ = route.serve('evil.pth')
        ok_url, _ = route.serve('ok.pth', route.benign)
        urls = {'ibnseg_evil': evil_url, 'ibnseg_ok': ok_url}
        if table_function == 'open_mmlab.json':
            route.open_mmlab_json(urls)
        else:  # torchvision is not installed; mmcls' table names no test
            route.monkeypatch.setattr(mmengine_checkpoint, table_function,
                                      lambda: urls)
        return (f'{prefix}ibnseg_evil', [evil_url],
                f'{prefix}ibnseg_ok')

    return case


def _open_mmlab_local_file(route):
    """open_mmlab.json may name a file under mmengine's home instead."""
    folder = route.caches.mmengine / 'weights'
    folder.mkdir(parents=True)
    evil = malicious_checkpoint(folder / 'evil.pth', route.marker)
    torch.save(route.benign, folder / 'ok.pth')
    route.open_mmlab_json({'ibnseg_evil': 'weights/evil.pth',
                           'ibnseg_ok': 'weights/ok.pth'})
    return 'open-mmlab://ibnseg_evil', [evil], 'open-mmlab://ibnseg_ok'


def _object_storage(prefix):
    """s3:// and petrel:// read bytes through mmengine's file backend
    (petrel_client is not installed: the backend is replaced)."""

    def case(route):
        files = {f'{prefix}bucket/evil.pth':
                 malicious_checkpoint(route.tmp_path / 'evil.pth',
                                      route.marker),
                 f'{prefix}bucket/ok.pth': str(route.tmp_path / 'ok.pth')}
        torch.save(route.benign, route.tmp_path / 'ok.pth')

        class Backend:
            def get(self, filename):
                with open(files[filename], 'rb') as f:
                    return f.read()

        route.monkeypatch.setattr(mmengine_checkpoint, 'get_file_backend',
                                  lambda *args, **kwargs: Backend())
        return f'{prefix}bucket/evil.pth', [], f'{prefix}bucket/ok.pth'

    return case


def _pavi(route):
    """pavi:// downloads through the pavi package (faked here)."""
    files = {'evil': malicious_checkpoint(route.tmp_path / 'evil.pth',
                                          route.marker),
             'ok': str(route.tmp_path / 'ok.pth')}
    torch.save(route.benign, files['ok'])

    class Model:
        def __init__(self, path):
            self.name = f'{path}.pth'
            self.path = path

        def download(self, destination):
            shutil.copy(files[self.path], destination)

    pavi = types.ModuleType('pavi')
    pavi.modelcloud = types.SimpleNamespace(get=Model)
    route.monkeypatch.setitem(sys.modules, 'pavi', pavi)
    return 'pavi://evil', [], 'pavi://ok'


SCHEMES = {
    'open-mmlab://(url)': _via_url_table('open-mmlab://', 'open_mmlab.json'),
    'openmmlab://(url)': _via_url_table('openmmlab://', 'open_mmlab.json'),
    'open-mmlab://(file)': _open_mmlab_local_file,
    'torchvision://': _via_url_table('torchvision://',
                                     'get_torchvision_models'),
    'modelzoo://': _via_url_table('modelzoo://', 'get_torchvision_models'),
    'mmcls://': _via_url_table('mmcls://', 'get_mmcls_models'),
    's3://': _object_storage('s3://'),
    'petrel://': _object_storage('petrel://'),
    'pavi://': _pavi,
}


@pytest.mark.parametrize('scheme', SCHEMES)
def test_scheme_loads_safely(scheme, server, caches, marker, tmp_path,
                             monkeypatch):
    """Every scheme: refused with its name in the message, even where
    TORCH_FORCE_NO_WEIGHTS_ONLY_LOAD flips torch's default to unsafe
    loading; a benign file loads."""
    monkeypatch.setenv('TORCH_FORCE_NO_WEIGHTS_ONLY_LOAD', '1')
    weights = _weights()
    # mmcls:// keeps only the 'backbone.' entries, without the prefix.
    benign = {'state_dict': {f'backbone.{k}': v for k, v in weights.items()}
              } if scheme == 'mmcls://' else weights
    route = _Route(server=server, caches=caches, marker=marker,
                   tmp_path=tmp_path, monkeypatch=monkeypatch, benign=benign)
    evil, resolved, ok = SCHEMES[scheme](route)

    assert_refused(lambda: CheckpointLoader.load_checkpoint(evil, 'cpu'),
                   marker, evil, *resolved)
    _assert_loaded(CheckpointLoader.load_checkpoint(ok, 'cpu'), weights)


def test_unreachable_url_names_the_url_and_where_to_put_the_file(caches):
    """No network (port 9 refuses): every tool reports this one error."""
    url = 'http://127.0.0.1:9/weights.pth'
    with pytest.raises(safe_checkpoint.CheckpointDownloadError) as error:
        CheckpointLoader.load_checkpoint(url, map_location='cpu')
    message = str(error.value)
    assert url in message and 'Connection refused' in message
    assert str(caches.hub / 'weights.pth') in message
    assert not (caches.hub / 'weights.pth').exists()  # nothing half-written
