"""Every way a checkpoint arrives through mmengine's ``CheckpointLoader``
(and a backbone's ``init_cfg``) refuses a malicious pickle, naming the
source, without running it, and loads a benign mmengine checkpoint."""
import json
import os
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
from mmseg.registry import MODELS

import ibnseg  # noqa: F401  (installs the safe loaders)
from ibnseg.utils import checkpoint as safe_checkpoint
from tests.helpers.served_checkpoints import (RunsCommand, assert_refused,
                                              malicious_checkpoint)
from tests.helpers.tiny_experiment import RESNET18_TINY, assert_same_weights


def test_every_scheme_has_a_safe_loader():
    for prefix, loader in CheckpointLoader._schemes.items():
        assert loader is safe_checkpoint.SAFE_LOADERS.get(prefix), prefix
    # mmengine logs 'Loads checkpoint by <name[10:]> backend'.
    assert all(loader.__name__.startswith('load_from_')
               for loader in CheckpointLoader._schemes.values())


class _Route(types.SimpleNamespace):
    """A case's fixtures and the benign checkpoint."""

    def local_pair(self, folder):
        """(malicious, benign) files in ``folder``."""
        os.makedirs(folder, exist_ok=True)
        torch.save(self.benign, os.path.join(folder, 'ok.pth'))
        return (malicious_checkpoint(os.path.join(folder, 'evil.pth'),
                                     self.marker),
                os.path.join(folder, 'ok.pth'))

    def open_mmlab_json(self, urls):
        self.caches.mmengine.mkdir(parents=True, exist_ok=True)
        (self.caches.mmengine / 'open_mmlab.json').write_text(
            json.dumps(urls))


def _local(route):
    evil, ok = route.local_pair(route.tmp_path / 'local')
    return evil, [], ok


def _http(route):
    """Downloaded into torch.hub's cache, and loaded from there."""
    url = route.server.serve_malicious('evil.pth', route.marker)
    return url, [route.caches.hub / 'evil.pth'], route.server.serve(
        'ok.pth', route.benign)


def _http_cached(route):
    """Already in the hub cache (the server has neither file)."""
    evil, _ = route.local_pair(route.caches.hub)
    return route.server.url('evil.pth'), [evil], route.server.url('ok.pth')


def _http_zip(route):
    """torch.hub's zip holding one checkpoint of torch < 1.6."""
    urls = []
    for name, obj in [('evil', {'payload': RunsCommand(route.marker)}),
                      ('ok', route.benign)]:
        inner = route.tmp_path / f'{name}.pth'
        torch.save(obj, inner, _use_new_zipfile_serialization=False)
        with zipfile.ZipFile(route.server.path(f'{name}.zip'), 'w') as zf:
            zf.write(inner, inner.name)
        urls.append(route.server.url(f'{name}.zip'))
    return urls[0], [route.caches.hub / 'evil.zip'], urls[1]


def _via_url_table(prefix, table_function):
    """A scheme that maps names to URLs with ``table_function``."""

    def case(route):
        evil = route.server.serve_malicious('evil.pth', route.marker)
        urls = {'ibnseg_evil': evil,
                'ibnseg_ok': route.server.serve('ok.pth', route.benign)}
        if table_function == 'open_mmlab.json':
            route.open_mmlab_json(urls)
        else:  # torchvision is not installed; mmcls' table names no test
            route.monkeypatch.setattr(mmengine_checkpoint, table_function,
                                      lambda: urls)
        return f'{prefix}ibnseg_evil', [evil], f'{prefix}ibnseg_ok'

    return case


def _open_mmlab_local_file(route):
    """open_mmlab.json may name a file under mmengine's home instead."""
    evil, _ = route.local_pair(route.caches.mmengine / 'weights')
    route.open_mmlab_json({'ibnseg_evil': 'weights/evil.pth',
                           'ibnseg_ok': 'weights/ok.pth'})
    return 'open-mmlab://ibnseg_evil', [evil], 'open-mmlab://ibnseg_ok'


def _object_storage(prefix):
    """s3:// and petrel:// read bytes through mmengine's file backend
    (petrel_client is not installed: the backend is replaced)."""

    def case(route):
        folder = route.tmp_path / 'bucket'
        route.local_pair(folder)
        backend = types.SimpleNamespace(
            get=lambda name: (folder / name.split('/')[-1]).read_bytes())
        route.monkeypatch.setattr(mmengine_checkpoint, 'get_file_backend',
                                  lambda *args, **kwargs: backend)
        return f'{prefix}bucket/evil.pth', [], f'{prefix}bucket/ok.pth'

    return case


def _pavi(route):
    """pavi:// downloads through the pavi package (faked here)."""
    folder = route.tmp_path / 'pavi'
    route.local_pair(folder)

    def get(name):
        return types.SimpleNamespace(name=f'{name}.pth', download=lambda to:
                                     shutil.copy(folder / f'{name}.pth', to))

    route.monkeypatch.setitem(sys.modules, 'pavi', types.SimpleNamespace(
        modelcloud=types.SimpleNamespace(get=get)))
    return 'pavi://evil', [], 'pavi://ok'


SCHEMES = {
    'path': _local,
    'http://': _http,
    'http://(cached)': _http_cached,
    'http://(zip)': _http_zip,
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
    monkeypatch.setenv('TORCH_FORCE_NO_WEIGHTS_ONLY_LOAD', '1')  # unsafe
    torch.manual_seed(0)
    weights = torch.nn.Linear(2, 2).state_dict()
    hub = MessageHub.get_instance('ibnseg-test-checkpoint-sources')
    hub.update_scalar('train/loss', np.float64(0.5))
    # mmcls:// keeps only the 'backbone.' weights, without the prefix
    benign = dict(meta=dict(iter=3, seed=np.int64(7)),
                  message_hub=hub.state_dict(), state_dict={
                      f'backbone.{k}' if scheme == 'mmcls://' else k: v
                      for k, v in weights.items()})
    route = _Route(server=server, caches=caches, marker=marker,
                   tmp_path=tmp_path, monkeypatch=monkeypatch, benign=benign)
    evil, resolved, ok = SCHEMES[scheme](route)

    assert_refused(lambda: CheckpointLoader.load_checkpoint(evil, 'cpu'),
                   marker, evil, *resolved)
    model = torch.nn.Linear(2, 2)
    checkpoint = load_checkpoint(model, ok, map_location='cpu', strict=True)
    assert_same_weights(weights, model.state_dict())
    if scheme != 'mmcls://':  # whose conversion keeps the weights only
        assert isinstance(checkpoint['message_hub']['log_scalars']
                          ['train/loss'], HistoryBuffer)
        assert checkpoint['meta']['seed'] == 7


def test_unreachable_url_names_the_url_and_where_to_put_the_file(caches):
    """No network (port 9 refuses): every tool reports this one error."""
    url = 'http://127.0.0.1:9/weights.pth'
    with pytest.raises(safe_checkpoint.CheckpointDownloadError) as error:
        CheckpointLoader.load_checkpoint(url, map_location='cpu')
    message = str(error.value)
    assert url in message and 'Connection refused' in message
    assert str(caches.hub / 'weights.pth') in message
    assert not (caches.hub / 'weights.pth').exists()  # nothing half-written


@pytest.mark.parametrize('backbone', [
    dict(type='ResNet'), dict(type='IBNResNet', ibn='a')])
def test_backbone_pretrained_url(server, marker, backbone):
    """mmengine's PretrainedInit (ResNet) and ibnseg's strict loader
    (IBNResNet) both take a URL as ``init_cfg.checkpoint``."""
    cfg = dict(RESNET18_TINY, **backbone)
    url = server.serve_malicious('evil.pth', marker)
    model = MODELS.build(
        dict(cfg, init_cfg=dict(type='Pretrained', checkpoint=url)))
    assert_refused(model.init_weights, marker, url)

    torch.manual_seed(2)
    weights = MODELS.build(cfg).state_dict()
    url = server.serve('backbone.pth', weights)
    model = MODELS.build(
        dict(cfg, init_cfg=dict(type='Pretrained', checkpoint=url)))
    model.init_weights()
    assert_same_weights(weights, model.state_dict())
