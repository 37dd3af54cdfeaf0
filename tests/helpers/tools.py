"""The repository's tools/ as the tests run them: in a subprocess the way a
user does (``run_tool``), in this process for errors found before any work
(``run_in_process``), or imported as a module (``load_tool``)."""
import glob
import importlib.util
import os
import os.path as osp
import re
import runpy
import socket
import subprocess
import sys
from typing import Optional, Sequence

import pytest

REPO_ROOT = osp.dirname(osp.dirname(osp.dirname(osp.abspath(__file__))))
TOOLS = osp.join(REPO_ROOT, 'tools')


def free_port() -> int:
    """A local TCP port free now, for a process group's rendezvous."""
    with socket.socket() as sock:
        sock.bind(('127.0.0.1', 0))
        return sock.getsockname()[1]


def tool_env(threads: Optional[int] = None) -> dict:
    """Environment for the tools: the repo importable, and ``threads``
    torch threads (default: this worker's share of the cores, pytest-xdist
    running one test per worker; a test running several tool processes at
    once passes its share)."""
    workers = int(os.environ.get('PYTEST_XDIST_WORKER_COUNT', 1))
    threads = str(threads or max(1, len(os.sched_getaffinity(0)) // workers))
    env = dict(os.environ, OMP_NUM_THREADS=threads, MKL_NUM_THREADS=threads)
    env['PYTHONPATH'] = os.pathsep.join(
        p for p in (REPO_ROOT, env.get('PYTHONPATH')) if p)
    return env


def tool_command(tool: str, args: Sequence[str]) -> list:
    return [sys.executable, osp.join(TOOLS, tool), *map(str, args)]


def run_tool(tool: str, args: Sequence[str], timeout: float = 300,
             check: bool = True, cwd=REPO_ROOT,
             merge_output: bool = True) -> subprocess.CompletedProcess:
    """Run ``tools/<tool>`` with ``args`` in ``cwd``; raise with its output
    if it fails and ``check`` is set. Its stderr goes to ``stdout`` unless
    ``merge_output`` is off."""
    proc = subprocess.run(
        tool_command(tool, args), cwd=cwd, env=tool_env(),
        stdout=subprocess.PIPE,
        stderr=subprocess.STDOUT if merge_output else subprocess.PIPE,
        text=True, timeout=timeout)
    if check and proc.returncode != 0:
        raise AssertionError(
            f'tools/{tool} {" ".join(map(str, args))} exited with '
            f'{proc.returncode}:\n{proc.stdout[-6000:]}')
    return proc


def run_in_process(tool, args, monkeypatch, capsys):
    """``tools/<tool> args`` in this process (the tool's ``__main__`` code):
    for errors found before any work, where a subprocess would spend seconds
    importing torch and mmseg. Returns (exit status, stderr)."""
    monkeypatch.setattr(sys, 'argv', [tool, *map(str, args)])
    with pytest.raises(SystemExit) as exit_info:
        runpy.run_path(osp.join(TOOLS, tool), run_name='__main__')
    return exit_info.value.code, capsys.readouterr().err


def load_tool(name: str):
    """Import ``tools/<name>.py`` as a module (tools/ is not a package)."""
    path = osp.join(TOOLS, f'{name}.py')
    spec = importlib.util.spec_from_file_location(f'tool_{name}', path)
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


def must_not_run(what):
    """A function failing the test when called: work an error must stop."""

    def fail(*args, **kwargs):
        raise AssertionError(f'{what} ran before the error')

    return fail


def run_main(tool, argv, monkeypatch, capsys, guards=()):
    """``tools/<tool>.py``'s ``main(argv)`` in this process, the tool's
    functions ``guards`` made to fail the test. Returns (exit status,
    stderr) of the usage error it must end with."""
    module = load_tool(tool)
    monkeypatch.setattr(sys, 'argv', [f'{tool}.py'])  # argparse's prog
    for name in guards:
        monkeypatch.setattr(module, name, must_not_run(name))
    with pytest.raises(SystemExit) as exit_info:
        module.main([str(arg) for arg in argv])
    return exit_info.value.code, capsys.readouterr().err


def mmengine_log(work_dir) -> str:
    """mmengine's own logs of the runs in ``work_dir``
    (``<timestamp>/<timestamp>.log``), oldest first."""
    paths = sorted(glob.glob(osp.join(str(work_dir), '*', '*.log')))
    assert paths, f'no mmengine log under {work_dir}'
    return ''.join(open(p, encoding='utf-8').read() for p in paths)


def log_metric(log: str, name: str) -> float:
    """The first value of metric ``name`` (``name: value``) in ``log``."""
    match = re.search(rf'(?<![\w/]){re.escape(name)}: (-?[\d.]+|nan)', log)
    assert match, f'{name} not in the log:\n{log[-3000:]}'
    return float(match.group(1))
