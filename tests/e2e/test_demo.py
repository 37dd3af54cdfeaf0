"""The README's main command, ``tools/demo.py``, as a user runs it: the short
console (one line per phase, the table, where the outputs went), the full
logs in files, ``--verbose``, runs of other settings kept apart and reused,
and a bad output location refused before any work."""
import json
from types import SimpleNamespace

import pytest

from tests.helpers.tools import REPO_ROOT, run_in_process, run_tool

SMOKE = ['--preset', 'smoke', '--targets', 'dusk', '--shifts', '--nproc', '1']


@pytest.fixture(scope='module')
def demo(tmp_path_factory):
    """The smoke preset, its data where the demo configs look for it."""
    root = tmp_path_factory.mktemp('demo')
    out = root / 'out'
    args = SMOKE + ['--out', out, '--data-root', root / 'data' / 'synthetic']
    stdout = run_tool('demo.py', args, timeout=900).stdout
    return SimpleNamespace(root=root, out=out, args=args, stdout=stdout)


def _train_line(stdout: str) -> str:
    return next(line for line in stdout.splitlines()
                if line.startswith('train IBN-b'))


def _summary(demo) -> dict:
    return json.loads((demo.out / 'summary.json').read_text())['models']


@pytest.mark.slow
def test_demo_prints_phases_and_table_and_keeps_logs_in_files(demo):
    lines = demo.stdout.splitlines()
    phases = [line.split('  ')[0].strip() for line in lines
              if line.startswith(('generate', 'train', 'evaluate'))]
    assert phases == ['generate data', 'train plain', 'evaluate plain',
                      'train IBN-a', 'evaluate IBN-a', 'train IBN-b',
                      'evaluate IBN-b']
    assert '4/4 iters' in _train_line(demo.stdout)
    assert '| source |' in demo.stdout and '| dusk |' in demo.stdout
    assert f'Outputs in {demo.out}' in demo.stdout
    # the libraries' logs went to files, not to the console
    assert 'mmengine - INFO' not in demo.stdout
    assert 'Warning' not in demo.stdout and len(lines) < 40, demo.stdout
    assert 'mmengine - INFO' in (demo.out / 'demo.log').read_text()
    run = demo.out / 'seed0' / 'ibn_b' / '4iters-32x64-8frames'
    assert list(run.glob('*/*.log'))
    assert (run / 'iter_4.pth').is_file()
    assert list(_summary(demo)) == ['plain', 'ibn_a', 'ibn_b']

    # tools/test.py with a demo config tests every style it has data for
    # (the config's cross_domain section; only dusk of the targets exists)
    log = run_tool('test.py', [
        f'{REPO_ROOT}/configs/demo/fcn_r18-tiny-ibn-b-d8_synthetic.py',
        run / 'iter_4.pth', '--work-dir', demo.root / 'test',
        '--cfg-options', 'test_cfg.skip_missing=True', '--verbose'
    ], cwd=demo.root).stdout
    assert 'test: 2 domains on the full splits: source' in log
    assert 'source/mIoU' in log and 'dusk/mIoU' in log
    assert "skipping domain 'real'" in log


@pytest.mark.slow
def test_demo_runs_of_other_settings_are_kept_apart_and_reused(demo):
    args = demo.args + ['--models', 'ibn_b', '--iters', '6']
    # 6 iterations into the same --out, verbose: a run of its own from the
    # first iteration (not a resume of the preset's 4-iteration run), with
    # mmengine's logs printed
    verbose = run_tool('demo.py', args + ['--verbose']).stdout
    assert '=== train IBN-b ===' in verbose
    assert 'mmengine - INFO' in verbose and 'Iter(train) [1/6]' in verbose
    runs = demo.out / 'seed0' / 'ibn_b'
    assert (runs / '6iters-32x64-8frames' / 'iter_6.pth').is_file()
    assert (runs / '4iters-32x64-8frames' / 'iter_4.pth').is_file()
    assert len(list(runs.glob('*/iter_[0-9]*.pth'))) == 2
    trained = _summary(demo)

    # again: reused, not trained, and evaluated to the same numbers
    line = _train_line(run_tool('demo.py', args).stdout)
    assert '6/6 iters' in line and line.endswith('reused')
    assert 'exists: not training again' in \
        (demo.out / 'demo.log').read_text()
    assert _summary(demo) == trained


def test_demo_refuses_a_bad_output_location_before_any_work(
        tmp_path, monkeypatch, capsys):
    taken = tmp_path / 'results'
    taken.write_text('a file the user had')
    status, err = run_in_process('demo.py', SMOKE + [
        '--out', taken, '--data-root', tmp_path / 'data'], monkeypatch,
        capsys)
    assert status == 2
    assert '--out' in err and str(taken) in err
    assert not (tmp_path / 'data').exists()  # nothing was generated
    assert taken.read_text() == 'a file the user had'
