"""The package's one worker pool, for per-item work in processes or
threads."""
import multiprocessing
import reprlib
from multiprocessing.pool import ThreadPool
from typing import Any, Callable, Iterable, List, Optional, Sequence

from mmengine.utils import ProgressBar

__all__ = ['parallel_map']


class _NamedCall:
    """``func(task)``, whose exceptions get a note naming the task (a
    class: spawned workers unpickle it)."""

    def __init__(self, func: Callable, describe: Optional[Callable]):
        self.func = func
        self.describe = describe or reprlib.repr

    def __call__(self, indexed_task):
        index, task = indexed_task
        try:
            return self.func(task)
        except Exception as err:
            try:
                what = self.describe(task)
            except Exception:  # the note must never hide the real error
                what = reprlib.repr(task)
            name = getattr(self.func, '__qualname__', repr(self.func))
            err.add_note(f'{name}: task {index}: {what}')
            raise


def parallel_map(func: Callable[[Any], Any],
                 tasks: Iterable,
                 nproc: int = 1,
                 *,
                 threads: bool = False,
                 progress: bool = False,
                 initializer: Optional[Callable] = None,
                 initargs: Sequence = (),
                 chunksize: int = 1,
                 describe: Optional[Callable[[Any], str]] = None,
                 start_method: Optional[str] = 'spawn') -> List:
    """``[func(task) for task in tasks]`` in ``nproc`` workers, in order.

    Args:
        func (callable): Applied to each task; picklable for processes.
        tasks (Iterable): The tasks.
        nproc (int): Workers (at most one per task); 1 runs everything in
            this process, without ``initializer``.
        threads (bool): Threads (for I/O-bound work) instead of processes.
        progress (bool): Print mmengine's progress bar.
        initializer (callable, optional): Called once in each worker with
            ``initargs``.
        initargs (Sequence): Arguments of ``initializer``.
        chunksize (int): Tasks sent to a worker at a time.
        describe (callable, optional): ``task -> str`` for the note added to
            an exception of ``func``; default: a shortened ``repr``.
        start_method (str, optional): ``multiprocessing`` start method:
            'spawn' (forking a process whose OpenCV or torch thread pools
            run can deadlock the child); None: the platform's default.

    Raises:
        ValueError: ``nproc`` or ``chunksize`` below 1.
        Exception: The first exception of ``func``, of its own type, with a
            note ``'<func>: task <index>: <description>'``.
    """
    for name, value in (('nproc', nproc), ('chunksize', chunksize)):
        if isinstance(value, bool) or not isinstance(value, int) \
                or value < 1:
            raise ValueError(f'{name} must be an integer >= 1, got {value!r}')
    indexed = list(enumerate(tasks))
    call = _NamedCall(func, describe)
    bar = ProgressBar(len(indexed)) if progress and indexed else None
    results = []
    if nproc == 1 or len(indexed) <= 1:
        for item in indexed:
            results.append(call(item))
            if bar is not None:
                bar.update()
    else:
        pool_type = ThreadPool if threads else \
            multiprocessing.get_context(start_method).Pool
        # the with block stops the workers, also when a task fails
        with pool_type(min(nproc, len(indexed)), initializer,
                       tuple(initargs)) as pool:
            for result in pool.imap(call, indexed, chunksize=chunksize):
                results.append(result)
                if bar is not None:
                    bar.update()
    if bar is not None:
        bar.file.write('\n')  # as mmengine's track_progress ends its bar
    return results
