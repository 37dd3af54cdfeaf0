"""Fixtures for the checkpoint security tests (see served_checkpoints.py)."""
import types

import pytest

from tests.helpers.served_checkpoints import CheckpointServer


@pytest.fixture
def caches(tmp_path, monkeypatch):
    """torch's hub cache and mmengine's home in ``tmp_path``, never the
    user's (subprocesses inherit them); no proxy for 127.0.0.1."""
    torch_home = tmp_path / 'torch_home'
    mmengine_home = tmp_path / 'mmengine_home'
    monkeypatch.setenv('TORCH_HOME', str(torch_home))
    monkeypatch.setenv('MMENGINE_HOME', str(mmengine_home))
    for name in ('no_proxy', 'NO_PROXY'):
        monkeypatch.setenv(name, '127.0.0.1,localhost')
    return types.SimpleNamespace(
        hub=torch_home / 'hub' / 'checkpoints', mmengine=mmengine_home)


@pytest.fixture
def server(tmp_path, caches):
    """An HTTP server on 127.0.0.1 serving ``tmp_path/served``."""
    server = CheckpointServer(tmp_path / 'served')
    yield server
    server.close()


@pytest.fixture
def marker(tmp_path):
    """The file a malicious checkpoint's pickled command would create."""
    return tmp_path / 'payload-ran'
