"""Checkpoints served the way a download finds them, for the security tests.

``CheckpointServer`` serves a folder over HTTP on 127.0.0.1 (a free port,
in a thread) so that ``http://`` checkpoints really go through mmengine's
download and cache; ``malicious_checkpoint`` pickles a command that touches
a marker file, so a test can tell whether unpickling ran code.
"""
import functools
import http.server
import os
import os.path as osp
import shlex
import threading

import pytest
import torch

from ibnseg.utils import UnsafeCheckpointError
from tests.helpers.crafted_checkpoints import Pickled


def RunsCommand(marker):
    """Pickles as ``os.system('touch marker')``: what a malicious weight
    file does."""
    return Pickled(os.system, (f'touch {shlex.quote(str(marker))}', ))


def malicious_checkpoint(path, marker):
    """A weight file that runs ``touch marker`` when unpickled unsafely."""
    torch.save({'weight': torch.zeros(2, 2), 'bias': torch.zeros(2),
                'payload': RunsCommand(marker)}, path)
    return str(path)


def assert_refused(load, marker, *names):
    """``load()`` raises UnsafeCheckpointError naming ``names``, and the
    pickled command never ran."""
    with pytest.raises(UnsafeCheckpointError) as info:
        load()
    message = str(info.value)
    assert 'refused to load this checkpoint' in message
    assert 'posix.system' in message or 'nt.system' in message
    for name in names:
        assert str(name) in message, f'{name} not named in: {message}'
    assert not osp.exists(marker), 'the pickled command must never run'
    return message


class _QuietHandler(http.server.SimpleHTTPRequestHandler):

    def log_message(self, *args):
        pass


class CheckpointServer:
    """Serves the files of ``root`` at ``http://127.0.0.1:<port>/``."""

    def __init__(self, root):
        self.root = str(root)
        os.makedirs(self.root, exist_ok=True)
        handler = functools.partial(_QuietHandler, directory=self.root)
        self._server = http.server.ThreadingHTTPServer(('127.0.0.1', 0),
                                                       handler)
        self.port = self._server.server_address[1]
        self._thread = threading.Thread(
            target=self._server.serve_forever, kwargs=dict(poll_interval=0.05),
            daemon=True)
        self._thread.start()

    def url(self, name):
        return f'http://127.0.0.1:{self.port}/{name}'

    def path(self, name):
        return osp.join(self.root, name)

    def serve(self, name, obj):
        """``torch.save(obj)`` as ``name``; returns its URL."""
        torch.save(obj, self.path(name))
        return self.url(name)

    def serve_malicious(self, name, marker):
        malicious_checkpoint(self.path(name), marker)
        return self.url(name)

    def close(self):
        self._server.shutdown()
        self._server.server_close()
        self._thread.join()
