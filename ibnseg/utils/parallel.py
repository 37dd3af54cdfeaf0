"""One process pool for the package's per-item work (label conversion,
synthetic data generation).

:func:`parallel_map` is ``[func(task) for task in tasks]`` with an optional
progress bar (mmengine's ``ProgressBar``), run in ``nproc`` worker
processes, or in this process when ``nproc`` is 1 (or there is one task):
no pool to start, and a debugger or a profiler sees the work.
"""
import multiprocessing
import reprlib
from typing import Any, Callable, Iterable, List, Optional, Sequence

from mmengine.utils import ProgressBar

__all__ = ['parallel_map']


def _describe(task: Any) -> str:
    return reprlib.repr(task)


class _NamedCall:
    """``func(task)``, whose exceptions say which task raised them.

    A class (not a closure) so that spawned workers can unpickle it. The
    exception keeps its type, arguments and errno (callers test for them);
    the task goes into a note, which tracebacks print and which survives
    the trip from a worker back to the parent.
    """

    def __init__(self, func: Callable, describe: Optional[Callable]):
        self.func = func
        self.describe = describe or _describe

    def __call__(self, indexed_task):
        index, task = indexed_task
        try:
            return self.func(task)
        except Exception as err:
            try:
                what = self.describe(task)
            except Exception:  # the note must never hide the real error
                what = _describe(task)
            name = getattr(self.func, '__qualname__', repr(self.func))
            err.add_note(f'{name}: task {index}: {what}')
            raise


def parallel_map(func: Callable[[Any], Any],
                 tasks: Iterable,
                 nproc: int = 1,
                 *,
                 progress: bool = False,
                 initializer: Optional[Callable] = None,
                 initargs: Sequence = (),
                 chunksize: int = 1,
                 describe: Optional[Callable[[Any], str]] = None,
                 start_method: Optional[str] = 'spawn') -> List:
    """``func`` over ``tasks``; the results in the order of ``tasks``.

    Args:
        func (callable): Applied to each task. With ``nproc`` > 1 it (and
            each task and result) must be picklable: a module-level
            function, not a lambda or a closure.
        tasks (Iterable): The tasks; consumed into a list first.
        nproc (int): Worker processes (at most one per task). 1 runs
            everything in this process, without ``initializer``.
        progress (bool): Print mmengine's progress bar (to stdout), one step
            per finished task.
        initializer (callable, optional): Called once in each worker before
            its first task, with ``initargs``, e.g. to limit a library's
            threads (the workers already share the cores). Module-level,
            like ``func``.
        initargs (Sequence): Arguments of ``initializer``.
        chunksize (int): Tasks sent to a worker at a time: more than 1 saves
            round trips when tasks are quick.
        describe (callable, optional): ``task -> str`` for the note added to
            an exception that ``func`` raises; module-level when ``nproc`` >
            1. Defaults to a shortened ``repr`` of the task.
        start_method (str, optional): How workers start
            (``multiprocessing.get_context``). The default, 'spawn', starts
            them from scratch: each imports ``func``'s module (for ibnseg,
            seconds), but forking a process whose OpenCV or torch thread
            pools are running can deadlock a child that uses them (seen with
            the synthetic generator in the test suite). None is the
            platform's default (fork on Linux: starts at once), for workers
            that use no such library.

    Returns:
        list: ``[func(task) for task in tasks]``.

    Raises:
        ValueError: ``nproc`` or ``chunksize`` below 1.
        Exception: The first exception ``func`` raised, of its own type, with
            a note ``'<func>: task <index>: <description>'``; the pool is
            stopped and no further results are returned.
    """
    for name, value in (('nproc', nproc), ('chunksize', chunksize)):
        if isinstance(value, bool) or not isinstance(value, int) \
                or value < 1:
            raise ValueError(f'{name} must be an integer >= 1, got {value!r}')
    tasks = list(tasks)
    call = _NamedCall(func, describe)
    indexed = list(enumerate(tasks))
    bar = ProgressBar(len(tasks)) if progress and tasks else None
    results = []
    if nproc == 1 or len(tasks) <= 1:
        for item in indexed:
            results.append(call(item))
            if bar is not None:
                bar.update()
    else:
        context = multiprocessing.get_context(start_method)
        # the with block terminates the workers, also when a task fails
        with context.Pool(min(nproc, len(tasks)), initializer,
                          tuple(initargs)) as pool:
            for result in pool.imap(call, indexed, chunksize=chunksize):
                results.append(result)
                if bar is not None:
                    bar.update()
    if bar is not None:
        bar.file.write('\n')  # as mmengine's track_progress ends its bar
    return results
