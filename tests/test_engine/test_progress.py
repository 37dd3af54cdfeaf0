"""The phase console of long runs (ibnseg/engine/progress.py)."""
import io
import os
import subprocess
import sys

import pytest

from ibnseg.engine.progress import (PhaseConsole, PhaseLine,
                                    TrainProgressHook, format_duration)


class Terminal(io.StringIO):
    def isatty(self):
        return True


def test_format_duration():
    assert format_duration(42.4) == '42s'
    assert format_duration(185) == '3m05s'
    assert format_duration(3725) == '1h02m'


def test_a_pipe_gets_one_line_per_phase_when_it_ends():
    out = io.StringIO()
    line = PhaseLine('train plain', out, total=600)
    for done in range(1, 601):
        line.update(done)
    assert out.getvalue() == ''  # nothing until the phase ends
    line.note = 'reused'
    line.finish()
    text = out.getvalue()
    assert text.count('\n') == 1 and '\r' not in text
    assert text.startswith('train plain') and '600/600 iters' in text
    assert '#' * PhaseLine.BAR in text and text.rstrip().endswith('reused')


def test_a_terminal_gets_a_redrawn_bar_with_an_eta():
    out = Terminal()
    line = PhaseLine('train IBN-b', out, total=10)
    line.REDRAW = 0  # draw on every update
    line.update(1)
    line.start -= 5.0  # 5 s have passed...
    line.update(5)  # ...for the first 5 of 10 steps
    drawn = out.getvalue().split('\r')[-1]
    assert '5/10 iters' in drawn and 'ETA 5s' in drawn
    assert '#' * (PhaseLine.BAR // 2) + '.' in drawn
    line.finish()
    assert out.getvalue().endswith('\n') and 'ETA' not in \
        out.getvalue().split('\r')[-1]


def test_a_resumed_run_estimates_from_the_steps_it_did():
    out = Terminal()
    line = PhaseLine('train', out, total=100)
    line.REDRAW = 0
    line.update(91)  # resumed at 90: one step done here
    line.start -= 1.0
    line.update(92)  # two steps in about a second: 8 left, about 4 s
    assert 'ETA 4s' in out.getvalue().split('\r')[-1]


def test_train_progress_hook_follows_the_runner():
    out = io.StringIO()
    line = PhaseLine('train', out, total=3)
    hook = TrainProgressHook(line)
    runner = type('Runner', (), {'iter': 0})()
    for it in range(3):
        runner.iter = it
        hook.after_train_iter(runner, it)
    assert line.done == 3


@pytest.mark.slow
def test_quiet_console_sends_everything_printed_to_the_log(tmp_path):
    """Python prints, C-level writes to fd 1/2 and child processes go to the
    log file; the phase lines stay on the terminal."""
    script = f'''
import os, subprocess, sys, warnings
from ibnseg.engine.progress import PhaseConsole
console = PhaseConsole({str(tmp_path / "run" / "demo.log")!r})
with console.quiet():
    print('from python')
    os.write(1, b'from fd 1\\n')
    os.write(2, b'from fd 2\\n')
    warnings.warn('a library warning')
    subprocess.run(['echo', 'from a child'])
    with console.phase('train plain', total=2) as line:
        line.update(2)
console.print('after')
'''
    proc = subprocess.run([sys.executable, '-c', script], capture_output=True,
                          text=True, timeout=120)
    assert proc.returncode == 0, proc.stderr
    assert proc.stdout.splitlines()[0].startswith('train plain')
    assert proc.stdout.splitlines()[-1] == 'after'
    assert 'from' not in proc.stdout + proc.stderr
    log = (tmp_path / 'run' / 'demo.log').read_text()
    for text in ('from python', 'from fd 1', 'from fd 2', 'a library warning',
                 'from a child'):
        assert text in log


@pytest.mark.slow
def test_quiet_console_restores_the_terminal_on_an_error(tmp_path):
    script = f'''
from ibnseg.engine.progress import PhaseConsole
console = PhaseConsole({str(tmp_path / "demo.log")!r})
with console.quiet():
    print('details of the failure')
    raise RuntimeError('training failed')
'''
    proc = subprocess.run([sys.executable, '-c', script], capture_output=True,
                          text=True, timeout=120)
    assert proc.returncode == 1
    assert f'the full log is {tmp_path / "demo.log"}' in proc.stdout
    assert 'RuntimeError: training failed' in proc.stderr  # not in the log
    assert 'details of the failure' in (tmp_path / 'demo.log').read_text()


def test_verbose_console_prints_as_it_comes(tmp_path, capsys):
    console = PhaseConsole(str(tmp_path / 'demo.log'), verbose=True)
    with console.quiet():
        with console.phase('train plain', total=5) as line:
            assert line is None
            print('mmengine line')
    out = capsys.readouterr().out
    assert '=== train plain ===' in out and 'mmengine line' in out
    assert not os.path.exists(tmp_path / 'demo.log')


@pytest.mark.parametrize('interactive', [True, False])
def test_phase_without_count_shows_done(interactive):
    out = Terminal() if interactive else io.StringIO()
    line = PhaseLine('generate data', out)
    line.note = '12 samples written'
    line.finish()
    final = out.getvalue().split('\r')[-1].replace('\x1b[K', '').rstrip()
    assert final == 'generate data   done  0s  12 samples written'
