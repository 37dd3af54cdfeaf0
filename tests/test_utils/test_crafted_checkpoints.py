"""Checkpoints built by hand to run code, crash the process or mislead
mmengine: refused with a message naming the file and the place in it,
through the commands and APIs users call; broken files are told apart."""
import io
import pickle
import subprocess
import sys
import textwrap
import zipfile

import cv2
import numpy as np
import pytest
import torch
from mmengine.logging import HistoryBuffer, MessageHub
from mmengine.runner import CheckpointLoader
from mmseg.apis import MMSegInferencer

import ibnseg  # noqa: F401  (installs the safe loaders)
from ibnseg.engine import runner_setup
from ibnseg.utils import (CheckpointError, UnsafeCheckpointError,
                          load_checkpoint_safely)
from tests.helpers.crafted_checkpoints import (
    Pickled, nested_list, object_scalar_with_cleared_flags, save_checkpoint,
    structured_meta, touch)
from tests.helpers.tiny_experiment import (make_tiny_cityscapes,
                                           write_tiny_config)
from tests.helpers.tiny_setup import make_domains, write_config
from tests.helpers.tools import (must_not_run, run_in_process, run_tool,
                                 tool_env)


def _refused(path, *words):
    with pytest.raises(UnsafeCheckpointError) as info:
        load_checkpoint_safely(path)
    message = str(info.value)
    for word in (str(path), 'refused', *words):
        assert word in message, message
    assert 'arbitrary code' not in message  # it pickles nothing unsafe


@pytest.mark.slow
def test_the_tools_end_with_one_line_naming_the_file(tmp_path, marker, server,
                                                     monkeypatch, capsys):
    """test.py given a URL of a pickled command, in a real process; in this
    one: train.py --resume (meta whose ``'config' in meta`` is text), and
    infer.py, cross_domain_eval.py given an object dtype (a crash)."""
    data = make_tiny_cityscapes(tmp_path / 'cityscapes', train=0, val=1)
    config = write_tiny_config(tmp_path / 'tiny.py', data.root)
    evil = server.serve_malicious('evil.pth', marker)
    proc = run_tool('test.py', [config, evil, '--work-dir', tmp_path / 'w'],
                    check=False)
    assert proc.returncode == 2, proc.stdout[-3000:]
    last = proc.stdout.splitlines()[-1]
    assert last.startswith(f'error: {evil} (cached as ') and \
        'refused to load this checkpoint: it pickles' in last, last
    assert 'Traceback' not in proc.stdout and 'Runner' not in proc.stdout

    monkeypatch.setattr(runner_setup, 'build_runner',
                        must_not_run('build_runner'))
    structured = server.url('iter_2.pth')
    save_checkpoint(server.path('iter_2.pth'), meta=structured_meta(marker))
    work_dir = tmp_path / 'run'
    work_dir.mkdir()
    (work_dir / 'last_checkpoint').write_text(structured)
    domains_config = write_config(tmp_path / 'domains.py',
                                  make_domains(str(tmp_path / 'domains')))
    crash = save_checkpoint(tmp_path / 'crash.pth', meta=dict(
        seed=object_scalar_with_cleared_flags()))
    image = str(tmp_path / 'image.png')
    cv2.imwrite(image, np.zeros((8, 8, 3), np.uint8))
    for tool, args, path in [
            ('train.py', [config, '--work-dir', work_dir, '--resume'],
             f'{structured} (cached as '),
            ('infer.py', [config, crash, image, '--out', tmp_path / 'i'],
             f'{crash}: '),
            ('cross_domain_eval.py', [domains_config, crash, '--out',
                                      tmp_path / 'c'], f'{crash}: ')]:
        status, err = run_in_process(tool, args, monkeypatch, capsys)
        last = err.splitlines()[-1]
        assert status in (1, 2) and last.startswith(f'error: {path}'), last
        assert "refused to load this checkpoint: checkpoint['meta']" in last
    assert not marker.exists(), 'the checkpoint ran code'


@pytest.mark.parametrize('where', ['message_hub', 'meta'])
def test_inferencer_without_model_does_not_run_config_text(
        tmp_path, marker, where, server):
    """``MMSegInferencer(model=None, weights=...)`` executes a checkpoint's
    config text, from a file or a URL: it is dropped, leaving no config."""
    text = touch(marker)
    fields = (dict(message_hub=dict(runtime_info=dict(cfg=text)))
              if where == 'message_hub' else dict(meta=dict(cfg=text)))
    path = save_checkpoint(tmp_path / 'model.pth', **fields)
    url = server.serve('model.pth', load_checkpoint_safely(path))
    for weights in (path, url):
        # mmengine's word for a checkpoint without config text
        with pytest.raises((ValueError, AssertionError), match='config'):
            MMSegInferencer(model=None, weights=weights, device='cpu')
        assert not marker.exists(), 'the config text in the checkpoint ran'


@pytest.mark.parametrize('fields,words', [
    # a nested seed list made mmengine's "seed is different" warning 8 GB
    (dict(meta=dict(seed=nested_list(24))),
     "checkpoint['meta']['seed'] is a list, not an int or None"),
    (dict(meta=dict(epoch=0, iter='3')),
     "checkpoint['meta']['iter'] is a str, not an int"),
    (dict(meta=dict(dataset_meta=dict(classes=torch.zeros(2)))),
     "checkpoint['meta']['dataset_meta'] holds more than names and numbers"),
    (dict(meta=[1, 2]), "checkpoint['meta'] is a list, not a dict"),
    (dict(message_hub='hub'), "checkpoint['message_hub'] is a str, not a "
     'dict'),
    (dict(message_hub=dict(log_scalars=dict(loss=[1.0]))),
     "['log_scalars']['loss'] is a list, not a HistoryBuffer"),
    (dict(meta=dict(seed=object_scalar_with_cleared_flags())),
     "checkpoint['meta']['seed'] (its dtype): a numpy dtype ('O8', False, "
     "True): only "
     'bool, integer, float and complex dtypes load'),
    (dict(meta=dict(x=Pickled(getattr, (HistoryBuffer, '__init__')))),
     "'__init__'): only the statistics methods of HistoryBuffer load"),
])
def test_fields_mmengine_acts_on_need_their_types(tmp_path, fields, words):
    _refused(save_checkpoint(tmp_path / 'x.pth', **fields), words)


_F8 = ('f8', False, True)
_SWAPPED = Pickled(np.dtype, _F8, (3, '>', None, None, None, -1, -1, 0))
_CYCLE = []
_CYCLE.append(_CYCLE)


@pytest.mark.parametrize('value, words', [
    (Pickled(np.dtype, _F8, (3, '<', None, None, None, -1, -1, 63)),
     'which numpy never writes'),
    (Pickled(np.dtype, ('V8', False, True), (3, '|', None, ('a', ), {
        'a': (np.dtype('O'), 0)}, 8, 1, 63)), "('V8', False, True)"),
    (Pickled(np.core.multiarray.scalar, (_SWAPPED, b'\0' * 4)),
     'needs 8 bytes, not 4'),
    (Pickled(np.core.multiarray._reconstruct, (np.ndarray, (0, ), b'b'),
             (1, (4, ), _SWAPPED, False, b'\0' * 8)), 'needs 32 bytes, not 8'),
    (Pickled(np.core.multiarray._reconstruct, (np.ndarray, (2, ), b'x')),
     'only plain ndarrays'),
    ({1, 2}, 'an object of type builtins.set'),
    (_CYCLE, 'contains itself'),
    (nested_list(80)[0], 'nested deeper than'),
    ({(1, 2): 0}, 'a dict key (1, 2) of type tuple'),
    (torch.zeros(1).expand(1000), 'claims more elements than its storage'),
])
def test_values_are_only_what_numpy_torch_and_containers_write(
        tmp_path, value, words):
    path = save_checkpoint(tmp_path / 'x.pth', meta=dict(x=value))
    _refused(path, "checkpoint['meta']['x']", words)


def test_what_runner_and_numpy_write_loads_without_config_text(tmp_path):
    """A model-zoo checkpoint written by mmengine's Runner loads without its
    config text (which MMSegInferencer(model=None) would run), numpy values
    as numpy wrote them, shared objects still shared."""
    hub = MessageHub.get_instance('crafted-checkpoints-test')
    hub.update_scalar('train/loss', np.float64(0.5))
    hub.update_info('cfg', 'model = dict()')
    hub.update_info('max_iters', 4)
    dataset_meta = dict(classes=('road', 'sky'), palette=[[1, 2, 3]] * 2)
    numpy_values = dict(x=np.arange(6, dtype='>i4').reshape(2, 3),
                        y=np.float32(0.5), z=np.asfortranarray(np.eye(2)))
    path = save_checkpoint(
        tmp_path / 'zoo.pth', message_hub=hub.state_dict(),
        meta=dict(config='x = 1', cfg='x = 1', seed=np.int64(3), iter=4,
                  epoch=0, dataset_meta=dataset_meta, dag=nested_list(40),
                  **numpy_values))
    checkpoint = CheckpointLoader.load_checkpoint(path, 'cpu')
    meta, hub = checkpoint['meta'], checkpoint['message_hub']
    dag = meta.pop('dag')
    assert dag[0] is dag[1]  # no blow-up for a DAG
    for name, value in numpy_values.items():
        loaded = meta.pop(name)
        np.testing.assert_array_equal(loaded, value)
        assert type(loaded) is type(value) and loaded.dtype == value.dtype
        assert np.isscalar(loaded) or loaded.flags.writeable
    assert meta == dict(seed=3, iter=4, epoch=0, dataset_meta=dataset_meta)
    assert type(meta['seed']) is int
    assert hub['runtime_info'] == dict(max_iters=4)
    assert hub['log_scalars']['train/loss'].current() == 0.5


def test_numpy_allow_listed_by_another_package_is_named(tmp_path):
    """torch would pick numpy's real dtype or the stand-in at random."""
    path = save_checkpoint(tmp_path / 'ok.pth', meta=dict(seed=3))
    with torch.serialization.safe_globals([np.dtype]):
        with pytest.raises(CheckpointError, match='another package '
                           "allow-listed .*numpy.dtype"):
            load_checkpoint_safely(path)
    assert load_checkpoint_safely(path)['meta']['seed'] == 3


@pytest.mark.slow  # compresses 400 MB of zeros
def test_a_zip_bomb_is_refused_before_it_expands(tmp_path, server, caches):
    """torch inflates zip entries in memory: a file and a download (torch.hub's
    one-file zip) are refused from the zip's directory."""
    good = io.BytesIO()
    torch.save({'w': torch.zeros(4)}, good)
    path = tmp_path / 'bomb.pth'
    with zipfile.ZipFile(io.BytesIO(good.getvalue())) as source, \
            zipfile.ZipFile(path, 'w', zipfile.ZIP_DEFLATED) as bomb:
        for entry in source.infolist():
            bomb.writestr(entry.filename, source.read(entry))
        bomb.writestr('bomb/data/1', bytes(200 << 20))
    assert path.stat().st_size < 1 << 20
    _refused(path, 'its zip entry bomb/data/1 would expand from')
    with zipfile.ZipFile(tmp_path / 'served' / 'old.zip', 'w',
                         zipfile.ZIP_DEFLATED) as one_file:
        one_file.writestr('old.pth', bytes(200 << 20))
    with pytest.raises(UnsafeCheckpointError, match='would expand from'):
        CheckpointLoader.load_checkpoint(server.url('old.zip'), 'cpu')


def test_broken_files_say_what_is_wrong(tmp_path, server, caches):
    """One CheckpointError naming the file, not 'could run arbitrary code'
    nor a traceback from inside torch."""
    good = io.BytesIO()
    torch.save({'w': torch.arange(1000.0)}, good)
    rng = np.random.default_rng(0)
    other_zip = io.BytesIO()
    with zipfile.ZipFile(other_zip, 'w') as archive:
        archive.writestr('notes/readme.txt', b'hi')
    legacy = io.BytesIO()  # torch < 1.6 format, its storage declared huge
    pickler = pickle.Pickler(legacy, protocol=2)
    for value in (0x1950a86a20f9469cfc6c, 1001, {}):  # magic, version, info
        pickler.dump(value)
    storage = object()
    pickler.persistent_id = lambda obj: (
        ('storage', torch.FloatStorage, '0', 'cpu', 2 ** 40)
        if obj is storage else None)
    pickler.dump({'w': storage})
    for name, data in [
        ('truncated', good.getvalue()[:len(good.getvalue()) // 2]),
        ('random', rng.integers(0, 256, 4096, dtype=np.uint8).tobytes()),
        ('empty', b''),
        ('zip_of_other_things', other_zip.getvalue()),
        ('legacy_huge_storage', legacy.getvalue()),
    ]:
        path = tmp_path / f'{name}.pth'
        path.write_bytes(data)
        with pytest.raises(CheckpointError) as info:
            CheckpointLoader.load_checkpoint(str(path), 'cpu')
        message = str(info.value)
        assert message.startswith(f'{path}: not a checkpoint torch can read'
                                  ), message
        assert type(info.value) is CheckpointError, message
    # a URL without a file name has no cache file to go to
    with pytest.raises(CheckpointError, match='the URL names no file'):
        CheckpointLoader.load_checkpoint(server.url(''), 'cpu')
    with pytest.raises(CheckpointError, match="'resnet0' is not a model name "
                       "mmengine's open-mmlab table knows"):
        CheckpointLoader.load_checkpoint('open-mmlab://resnet0', 'cpu')


PLUGIN_ROUTES = textwrap.dedent('''
    import sys
    from mmengine.config import Config
    from mmengine.runner import Runner
    import mmseg.apis
    from mmseg.registry import MODELS

    config, work_dir, structured, crash = sys.argv[1:]

    def attempt(route, call):
        try:
            call()
            print('OUTCOME', route, 'LOADED')
        except Exception as error:
            print('OUTCOME', route, type(error).__name__,
                  str(error).splitlines()[0])

    def train(load_from, resume):
        cfg = Config.fromfile(config)      # imports ibnseg: custom_imports
        cfg.work_dir, cfg.load_from, cfg.resume = work_dir, load_from, resume
        Runner.from_cfg(cfg).train()

    def pretrained():
        cfg = Config.fromfile(config)
        cfg.model.backbone.init_cfg = dict(type='Pretrained', checkpoint=crash)
        MODELS.build(cfg.model).init_weights()

    assert 'ibnseg' not in sys.modules
    attempt('resume', lambda: train(structured, True))
    attempt('load_from', lambda: train(crash, False))
    attempt('init_model', lambda: mmseg.apis.init_model(config, crash, 'cpu'))
    attempt('inferencer', lambda: mmseg.apis.MMSegInferencer(
        model=config, weights=crash, device='cpu'))
    attempt('pretrained', pretrained)
''')


@pytest.mark.slow
def test_routes_of_a_plugin_user(tmp_path, marker):
    """ibnseg only through ``custom_imports``: the Runner (resume and
    load_from), init_model, MMSegInferencer and Pretrained weights refuse
    the crafted files; nothing runs or crashes."""
    data = make_tiny_cityscapes(tmp_path / 'cityscapes', train=2, val=1)
    config = write_tiny_config(
        tmp_path / 'plugin.py', data.root,
        extra="custom_imports = dict(imports=['ibnseg'])\n")
    structured = save_checkpoint(tmp_path / 'structured.pth',
                                 meta=structured_meta(marker))
    crash = save_checkpoint(tmp_path / 'crash.pth', meta=dict(
        seed=object_scalar_with_cleared_flags()))
    proc = subprocess.run(
        [sys.executable, '-c', PLUGIN_ROUTES, config, str(tmp_path / 'run'),
         structured, crash],
        capture_output=True, text=True, timeout=300, env=tool_env())
    assert proc.returncode == 0, proc.stderr[-3000:]
    outcomes = dict(line.split(' ', 2)[1:] for line in
                    proc.stdout.splitlines() if line.startswith('OUTCOME '))
    for route in ('resume', 'load_from', 'init_model', 'inferencer',
                  'pretrained'):
        path = structured if route == 'resume' else crash
        assert outcomes[route].startswith(
            f'UnsafeCheckpointError {path}: refused to load this '
            'checkpoint'), (route, outcomes)
    assert not marker.exists(), 'config text in a checkpoint ran'
