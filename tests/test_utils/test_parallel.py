"""ibnseg.utils.parallel.parallel_map."""
import errno
import os

import pytest

from ibnseg.utils.parallel import parallel_map

#: Set by _init_worker in worker processes only.
_WORKER_TAG = None


def _init_worker(tag):
    global _WORKER_TAG
    _WORKER_TAG = tag


def _square_with_tag(value):
    return value * value, _WORKER_TAG, os.getpid()


def _fail_on_three(value):
    if value == 3:
        raise OSError(errno.ENOSPC, 'No space left on device', 'x.png')
    return value


def _name(value):
    return f'item #{value}'


@pytest.mark.parametrize('nproc, tag', [(1, None), (2, 'worker')])
def test_order_is_kept_and_only_workers_run_the_initializer(nproc, tag):
    tasks = [3, 1, 2, 6, 0, 5, 4]
    results = parallel_map(_square_with_tag, iter(tasks), nproc, chunksize=2,
                           initializer=_init_worker, initargs=('worker',),
                           start_method=None)
    assert [r[:2] for r in results] == [(t * t, tag) for t in tasks]
    pids = {r[2] for r in results}
    assert pids == {os.getpid()} if nproc == 1 else os.getpid() not in pids


@pytest.mark.parametrize('nproc', [1, 2])
def test_an_error_keeps_its_type_and_names_the_task(nproc):
    # forked workers (start_method=None on Linux) start at once
    with pytest.raises(OSError) as info:
        parallel_map(_fail_on_three, [1, 2, 3, 4], nproc, describe=_name,
                     start_method=None)
    assert info.value.errno == errno.ENOSPC
    assert info.value.filename == 'x.png'
    assert info.value.__notes__ == ['_fail_on_three: task 2: item #3']


def test_a_failing_description_does_not_hide_the_error():
    def bad_describe(task):
        raise KeyError('oops')

    with pytest.raises(OSError) as info:
        parallel_map(_fail_on_three, [3], 1, describe=bad_describe)
    assert info.value.__notes__ == ['_fail_on_three: task 0: 3']


def test_no_tasks():
    assert parallel_map(_fail_on_three, [], 4, progress=True) == []


@pytest.mark.parametrize('kwargs', [dict(nproc=0), dict(nproc=1.5),
                                    dict(nproc=True), dict(chunksize=0)])
def test_bad_counts_are_refused_before_any_work(kwargs):
    name = next(iter(kwargs))
    with pytest.raises(ValueError, match=f'{name} must be an integer >= 1'):
        parallel_map(_fail_on_three, [3], **kwargs)
