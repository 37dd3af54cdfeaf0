"""The README's main command, ``tools/demo.py``, as a user runs it: the short
console (one line per phase, the table, where the outputs went), the full
logs in files, reuse on a second run, ``--verbose``, and a bad output
location refused before any work."""
import json
import time

import pytest

from tests.helpers.tools import REPO_ROOT, run_tool

SMOKE = ['--preset', 'smoke', '--targets', 'dusk', '--shifts', '--nproc', '1']


@pytest.mark.slow
def test_demo_prints_phases_and_table_and_keeps_logs_in_files(tmp_path):
    # the data where the demo configs look for it from tmp_path
    out, data = tmp_path / 'out', tmp_path / 'data' / 'synthetic'
    args = SMOKE + ['--out', out, '--data-root', data]
    stdout = run_tool('demo.py', args).stdout
    lines = stdout.splitlines()
    phases = [line.split('  ')[0].strip() for line in lines
              if line.startswith(('generate', 'train', 'evaluate'))]
    assert phases == ['generate data', 'train plain', 'evaluate plain',
                      'train IBN-a', 'evaluate IBN-a', 'train IBN-b',
                      'evaluate IBN-b']
    train_line = next(line for line in lines if line.startswith('train IBN-b'))
    assert '4/4 iters' in train_line
    assert '| source |' in stdout and '| dusk |' in stdout
    assert f'Outputs in {out}' in stdout
    # the libraries' logs went to files, not to the console
    assert 'mmengine - INFO' not in stdout and 'Warning' not in stdout
    assert len(lines) < 40, stdout
    assert 'mmengine - INFO' in (out / 'demo.log').read_text()
    run = out / 'seed0' / 'ibn_b' / '4iters-32x64-8frames'
    assert list(run.glob('*/*.log'))
    assert (run / 'iter_4.pth').is_file()
    summary = json.loads((out / 'summary.json').read_text())
    assert list(summary['models']) == ['plain', 'ibn_a', 'ibn_b']

    # again, verbose: everything is reused and mmengine's logs are printed
    again = run_tool('demo.py', args + ['--verbose']).stdout
    assert 'exists: not training again' in again
    assert '=== train IBN-b ===' in again
    assert json.loads((out / 'summary.json').read_text())['models'] == \
        summary['models']

    # tools/test.py with a demo config tests every style it has data for
    # (the config's cross_domain section; only dusk of the targets exists)
    log = run_tool('test.py', [
        f'{REPO_ROOT}/configs/demo/fcn_r18-tiny-ibn-b-d8_synthetic.py',
        run / 'iter_4.pth', '--work-dir',
        tmp_path / 'test', '--cfg-options', 'test_cfg.skip_missing=True',
        '--verbose'
    ], cwd=tmp_path).stdout
    assert 'test: 2 domains on the full splits: source' in log
    assert 'source/mIoU' in log and 'dusk/mIoU' in log
    assert "skipping domain 'real'" in log


def _train_line(stdout: str) -> str:
    return next(line for line in stdout.splitlines()
                if line.startswith('train IBN-b'))


@pytest.mark.slow
def test_demo_runs_of_other_settings_never_resume_each_other(tmp_path):
    out = tmp_path / 'out'
    args = SMOKE + ['--models', 'ibn_b', '--out', out, '--data-root',
                    tmp_path / 'data']
    assert '6/6 iters' in _train_line(
        run_tool('demo.py', args + ['--iters', '6']).stdout)
    # the preset's own 4 iterations into the same --out: a run of its own,
    # not a resume of the longer run's last checkpoint
    assert 'reused' not in _train_line(run_tool('demo.py', args).stdout)
    runs = out / 'seed0' / 'ibn_b'
    assert (runs / '6iters-32x64-8frames' / 'iter_6.pth').is_file()
    assert (runs / '4iters-32x64-8frames' / 'iter_4.pth').is_file()
    assert not list(runs.glob('*/iter_[0-9]*.pth'))[2:]
    # each is still there to be reused
    assert _train_line(run_tool('demo.py', args + ['--iters', '6']).stdout
                       ).endswith('reused')


@pytest.mark.slow
def test_demo_refuses_a_bad_output_location_before_any_work(tmp_path):
    taken = tmp_path / 'results'
    taken.write_text('a file the user had')
    start = time.monotonic()
    proc = run_tool('demo.py', SMOKE + ['--out', taken, '--data-root',
                                        tmp_path / 'data'], check=False)
    assert proc.returncode == 2
    assert '--out' in proc.stdout and str(taken) in proc.stdout
    assert not (tmp_path / 'data').exists()  # nothing was generated
    assert taken.read_text() == 'a file the user had'
    assert time.monotonic() - start < 60
