"""A short console for long runs: :class:`PhaseConsole` moves everything
printed (Python and C level) into a log file and keeps the terminal for one
line per phase (a label; for counted phases a bar, the count, the elapsed
time and an ETA). Unlike mmengine's ``ProgressBar`` (no label, a redraw on
every update even into a file), a file or pipe gets one line per phase."""
import contextlib
import numbers
import os
import sys
import time
from typing import Callable, Iterator, Optional, TextIO

from mmengine.dist import is_main_process
from mmengine.hooks import Hook

from .runner_state import built_train_loop

__all__ = [
    'PhaseConsole', 'PhaseLine', 'RunnerProgressHook',
    'format_duration', 'format_metrics', 'run_with_console'
]


def format_duration(seconds: float) -> str:
    """``'42s'``, ``'3m05s'`` or ``'1h02m'``."""
    seconds = int(round(seconds))
    if seconds < 60:
        return f'{seconds}s'
    if seconds < 3600:
        return f'{seconds // 60}m{seconds % 60:02d}s'
    return f'{seconds // 3600}h{seconds % 3600 // 60:02d}m'


class PhaseLine:
    """The console line of one phase on ``stream``: ``label`` (padded to
    ``width``), and with a ``total`` of steps (``unit``) a bar and an ETA,
    which leaves out the steps ``done`` before the line (a resumed run)."""
    BAR = 24  # characters of the bar
    REDRAW = 0.25  # seconds between redraws in a terminal

    def __init__(self, label: str, stream: TextIO,
                 total: Optional[int] = None, unit: str = 'iters',
                 width: int = 16, done: int = 0):
        self.label = label.ljust(width)
        self.stream = stream
        self.total = total
        self.unit = unit
        self.interactive = stream.isatty()  # a terminal: redraw in place
        self.done = self.start_done = done
        self.note = ''  # printed after the final line
        self.start = time.monotonic()
        self._last_draw = 0.0
        if self.interactive:
            self._draw(self._text())

    def update(self, done: int) -> None:
        """``done`` of ``total`` steps are finished."""
        self.done = done
        now = time.monotonic()
        if self.interactive and now - self._last_draw >= self.REDRAW:
            self._last_draw = now
            self._draw(self._text())

    def finish(self, final: bool = True) -> None:
        """End the line, :attr:`note` after it (``final=False``: a pause,
        with its ETA)."""
        text = self._text(final=final)
        if self.note:
            text += f'  {self.note}'
        self._draw(text)
        self.stream.write('\n')
        self.stream.flush()

    def _eta(self) -> Optional[float]:
        steps = self.done - self.start_done
        if not self.total or steps <= 0:
            return None
        per_step = (time.monotonic() - self.start) / steps
        return per_step * (self.total - self.done)

    def _text(self, final: bool = False) -> str:
        elapsed = format_duration(time.monotonic() - self.start)
        if not self.total:
            return f'{self.label}{"done" if final else "..."}  {elapsed}'
        filled = int(self.BAR * min(self.done, self.total) / self.total)
        bar = '#' * filled + '.' * (self.BAR - filled)
        text = (f'{self.label}[{bar}] {self.done}/{self.total} {self.unit}'
                f'  {elapsed}')
        eta = self._eta()
        if not final and eta is not None:
            text += f'  ETA {format_duration(eta)}'
        return text

    def _draw(self, text: str) -> None:
        if self.interactive:
            # '\r' back to the start, then clear what a longer text left
            self.stream.write('\r' + text + '\x1b[K')
        else:
            self.stream.write(text)
        self.stream.flush()


def format_metrics(metrics: Optional[dict]) -> str:
    """The mIoU values of an evaluation's metrics (every number when none
    is an mIoU), e.g. ``'cityscapes/mIoU 45.12  gta5/mIoU 30.01'``."""
    numbers_ = {key: value for key, value in (metrics or {}).items()
                if isinstance(value, numbers.Number)}
    shown = {key: value for key, value in numbers_.items()
             if key.split('/')[-1] == 'mIoU'} or numbers_
    return '  '.join(f'{key} {value:.2f}' for key, value in shown.items())


class RunnerProgressHook(Hook):
    """Moves console lines with a Runner's run; only the main process draws:
    a ``train_line`` its caller started and ends (nothing else), or on
    ``console`` its own ``train``, ``val`` (training goes on in a new
    ``train`` line) and ``test`` lines, the last two with their mIoUs."""
    priority = 'LOWEST'

    def __init__(self, train_line: Optional[PhaseLine] = None,
                 console: Optional['PhaseConsole'] = None):
        self.train_line = train_line
        self.console = console
        self.eval_line: Optional[PhaseLine] = None

    def _line(self, label: str, total: int, unit: str, done: int = 0):
        if self.console is not None and is_main_process():
            return PhaseLine(label, self.console.out, total=total, unit=unit,
                             width=8, done=done)
        return None

    def before_train(self, runner) -> None:
        if self.console is not None:
            # resumed, or after a validation: the ETA counts from here
            self.train_line = self._line('train', runner.max_iters, 'iters',
                                         done=runner.iter)

    def after_train_iter(self, runner, batch_idx, data_batch=None,
                         outputs=None) -> None:
        if self.train_line is not None:
            self.train_line.update(runner.iter + 1)

    def after_train(self, runner) -> None:
        if self.console is not None and self.train_line is not None:
            self.train_line.finish()
            self.train_line = None

    def _start_eval(self, label: str, loader) -> None:
        self.eval_line = self._line(label, len(loader), 'batches')
        line = self.train_line
        if self.eval_line is not None and line is not None:
            # training pauses (or ends) for validation
            line.finish(final=line.done >= line.total)
            self.train_line = None

    def _end_eval(self, metrics: Optional[dict]) -> None:
        if self.eval_line is not None:
            self.eval_line.note = format_metrics(metrics)
            self.eval_line.finish()
            self.eval_line = None

    def before_val(self, runner) -> None:
        self._start_eval('val', runner.val_dataloader)

    def after_val_iter(self, runner, batch_idx, data_batch=None,
                       outputs=None) -> None:
        if self.eval_line is not None:
            self.eval_line.update(batch_idx + 1)

    def after_val_epoch(self, runner, metrics=None) -> None:
        self._end_eval(metrics)

    def after_val(self, runner) -> None:
        loop = built_train_loop(runner)
        if loop is not None and loop.iter < loop.max_iters:
            self.before_train(runner)

    def before_test(self, runner) -> None:
        self._start_eval('test', runner.test_dataloader)

    after_test_iter = after_val_iter
    after_test_epoch = after_val_epoch


def run_with_console(build: Callable[[], object], run: str, log_file: str,
                     verbose: bool = False):
    """``build()``'s Runner's ``run`` method (``'train'``/``'test'``) with
    one line per phase and everything printed in ``log_file``; ``verbose``
    (and ranks but the first) print everything as it comes."""
    rank = os.environ.get('RANK', os.environ.get('SLURM_PROCID', '0'))
    console = PhaseConsole(log_file, verbose or rank != '0')
    if console.verbose:
        return getattr(build(), run)()
    console.print(f'full log: {console.log_file}')
    with console.quiet():
        runner = build()
        runner.register_hook(RunnerProgressHook(console=console))
        return getattr(runner, run)()


class PhaseConsole:
    """The console of a multi-phase run: while quiet everything printed is
    appended to ``log_file``; ``verbose`` prints it as it comes, without
    phase lines; ``stream`` is the terminal (default ``sys.stdout``)."""

    def __init__(self, log_file: str, verbose: bool = False,
                 stream: Optional[TextIO] = None):
        self.log_file = os.path.abspath(log_file)
        self.verbose = verbose
        self._stream = stream
        self.out: TextIO = stream or sys.stdout  # the terminal, while quiet

    @contextlib.contextmanager
    def quiet(self) -> Iterator['PhaseConsole']:
        """Send file descriptors 1 and 2 to the log file (``self.out`` stays
        the terminal); an error restores them before its traceback."""
        if self.verbose:
            yield self
            return
        os.makedirs(os.path.dirname(self.log_file), exist_ok=True)
        sys.stdout.flush()
        sys.stderr.flush()
        saved_out, saved_err = os.dup(1), os.dup(2)
        terminal = self._stream or os.fdopen(
            os.dup(saved_out), 'w', buffering=1, encoding='utf-8',
            errors='replace')
        log_fd = os.open(self.log_file, os.O_WRONLY | os.O_CREAT | os.O_APPEND,
                         0o644)
        os.dup2(log_fd, 1)
        os.dup2(log_fd, 2)
        os.close(log_fd)
        self.out = terminal
        try:
            yield self
        except BaseException:
            self._restore(saved_out, saved_err)  # before the traceback
            terminal.write(f'\nFailed; the full log is {self.log_file}\n')
            terminal.flush()
            raise
        finally:
            self._restore(saved_out, saved_err)
            if terminal is not self._stream:
                terminal.close()
            self.out = self._stream or sys.stdout
            os.close(saved_out)
            os.close(saved_err)

    @staticmethod
    def _restore(saved_out: int, saved_err: int) -> None:
        sys.stdout.flush()
        sys.stderr.flush()
        os.dup2(saved_out, 1)
        os.dup2(saved_err, 2)

    @contextlib.contextmanager
    def phase(self, label: str, total: Optional[int] = None
              ) -> Iterator[Optional[PhaseLine]]:
        """A phase's line (None when verbose), ended with the block."""
        if self.verbose:
            print(f'=== {label} ===', flush=True)
            yield None
            return
        line = PhaseLine(label, self.out, total=total)
        yield line
        line.finish()

    def print(self, text: str = '') -> None:
        """A line on the terminal, quiet or not."""
        self.out.write(text + '\n')
        self.out.flush()
