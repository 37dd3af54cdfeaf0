"""The phase console of long runs (ibnseg/engine/progress.py)."""
import io
import os
import subprocess
import sys
from types import SimpleNamespace

import pytest

from ibnseg.engine import progress
from ibnseg.engine.progress import (PhaseConsole, PhaseLine,
                                    RunnerProgressHook, format_duration,
                                    format_metrics)


class Terminal(io.StringIO):
    def isatty(self):
        return True


def test_format_duration():
    assert format_duration(42.4) == '42s'
    assert format_duration(185) == '3m05s'
    assert format_duration(3725) == '1h02m'


@pytest.mark.parametrize('stream, total, final', [
    (io.StringIO, 600, f'[{"#" * 24}] 600/600 iters  0s  a note'),
    (io.StringIO, None, 'done  0s  a note'),
    (Terminal, None, 'done  0s  a note'),
])
def test_a_line_ends_with_its_note(stream, total, final):
    out = stream()
    line = PhaseLine('train plain', out, total=total)
    for done in range(1, (total or 0) + 1):
        line.update(done)
    assert out.isatty() or out.getvalue() == ''  # a pipe: one line at the end
    line.note = 'a note'
    line.finish()
    assert out.getvalue().split('\r')[-1].replace('\x1b[K', '') == \
        f'train plain     {final}\n'


def test_a_terminal_gets_a_redrawn_bar_with_an_eta_of_the_steps_done():
    out = Terminal()
    line = PhaseLine('train IBN-b', out, total=20, done=10)  # resumed at 10
    line.REDRAW = 0  # draw on every update
    line.start -= 5.0  # 5 s have passed...
    line.update(15)  # ...for 5 steps here: 5 left, about 5 s
    drawn = out.getvalue().split('\r')[-1]
    assert '15/20 iters' in drawn and 'ETA 5s' in drawn
    assert '#' * (PhaseLine.BAR * 3 // 4) + '.' in drawn
    line.finish()
    assert out.getvalue().endswith('\n') and 'ETA' not in \
        out.getvalue().split('\r')[-1]


def test_progress_hook_moves_a_given_line_and_draws_nothing_else():
    out = io.StringIO()
    line = PhaseLine('train', out, total=3)
    hook = RunnerProgressHook(line)
    runner = type('Runner', (), {'iter': 0, 'val_dataloader': [1]})()
    hook.before_train(runner)
    for it in range(3):
        runner.iter = it
        hook.after_train_iter(runner, it)
    hook.before_val(runner)
    hook.after_train(runner)
    assert (line.done, hook.train_line, out.getvalue()) == (3, line, '')


def test_progress_hook_draws_train_val_and_test_lines(monkeypatch):
    out = io.StringIO()
    hook = RunnerProgressHook(console=PhaseConsole('x.log', stream=out))
    runner = SimpleNamespace(iter=0, max_iters=4, val_dataloader=[0, 1],
                             test_dataloader=[0])
    loop = SimpleNamespace(iter=2, max_iters=4)
    monkeypatch.setattr(progress, 'built_train_loop', lambda runner: loop)
    hook.before_train(runner)
    for runner.iter in range(4):
        hook.after_train_iter(runner, runner.iter)
        if runner.iter == 1:  # a validation after iteration 2
            runner.iter = 2
            hook.before_val(runner)
            hook.after_val_iter(runner, 1)
            hook.after_val_epoch(runner, {'a/mIoU': 50.0, 'a/aAcc': 9.0})
            hook.after_val(runner)
            runner.iter = 1
    hook.after_train(runner)
    hook.before_test(runner)
    hook.after_test_iter(runner, 0)
    hook.after_test_epoch(runner, {'a/mIoU': 40.0})
    assert out.getvalue().splitlines() == [
        f'train   [{"#" * 12}{"." * 12}] 2/4 iters  0s  ETA 0s',
        f'val     [{"#" * 24}] 2/2 batches  0s  a/mIoU 50.00',
        f'train   [{"#" * 24}] 4/4 iters  0s',
        f'test    [{"#" * 24}] 1/1 batches  0s  a/mIoU 40.00']


def test_metrics_show_the_miou_values_or_else_every_number():
    assert format_metrics({'aAcc': 90.0, 'mIoU': 45.123, 'mAcc': 50.0}) == \
        'mIoU 45.12'
    assert format_metrics({'a/mIoU': 1.0, 'b/mIoU': 2.0, 'a/aAcc': 3.0,
                           'per_class': 'table'}) == 'a/mIoU 1.00  b/mIoU 2.00'
    assert format_metrics({'loss': 0.5}) == 'loss 0.50'
    assert format_metrics(None) == ''


def test_quiet_console_sends_everything_printed_to_the_log(
        tmp_path, capfd, monkeypatch):
    """Python prints, C-level writes to fd 1/2 and child processes go to the
    log file; the phase lines stay on the terminal, and an error restores
    the file descriptors before its traceback."""
    for name, fd in (('stdout', 1), ('stderr', 2)):  # as in a tool
        monkeypatch.setattr(sys, name, open(fd, 'w', closefd=False))
    log, terminal = tmp_path / 'run' / 'demo.log', io.StringIO()
    console = PhaseConsole(str(log), stream=terminal)
    with console.quiet():
        print('from python')
        print('from python stderr', file=sys.stderr)
        os.write(1, b'from fd 1\n')
        os.write(2, b'from fd 2\n')
        subprocess.run(['echo', 'from a child'])
        with console.phase('train plain', total=2) as line:
            line.update(2)
    console.print('after')
    with pytest.raises(RuntimeError), console.quiet():
        raise RuntimeError('training failed')
    os.write(2, b'restored\n')
    lines = terminal.getvalue().splitlines()
    assert lines[0].startswith('train plain') and lines[1:] == [
        'after', '', f'Failed; the full log is {log}']
    assert capfd.readouterr() == ('', 'restored\n')
    for text in ('from python', 'from python stderr', 'from fd 1',
                 'from fd 2', 'from a child'):
        assert text in log.read_text()


def test_verbose_console_prints_as_it_comes(tmp_path, capsys):
    console = PhaseConsole(str(tmp_path / 'demo.log'), verbose=True)
    with console.quiet():
        with console.phase('train plain', total=5) as line:
            assert line is None
            print('mmengine line')
    out = capsys.readouterr().out
    assert '=== train plain ===' in out and 'mmengine line' in out
    assert not os.path.exists(tmp_path / 'demo.log')
