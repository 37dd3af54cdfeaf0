"""Mutants of a real mmengine checkpoint, from a fixed seed, load or raise
a CheckpointError in a child process; none crashes it or runs code. A
longer run than ``QUICK_MUTANTS``::

    IBNSEG_FUZZ_MUTANTS=20000 .venv/bin/python -m pytest \\
        tests/test_utils/test_checkpoint_fuzz.py
"""
import io
import json
import os
import pickletools
import random
import subprocess
import sys
import time
import zipfile

import torch

from tests.helpers.crafted_checkpoints import touch
from tests.helpers.tools import REPO_ROOT
from tests.helpers.toy_runner import toy_runner

QUICK_MUTANTS = 400

#: Opcode arguments a mutant may put in place of what was there.
STRINGS = ['O8', 'V8', 'V16', 'U4', 'S3', 'M8', 'f8', 'i8', '<', '>', '|',
           '=', 'config', 'cfg', 'meta', 'latin1', 'b', '', 'x' * 300]
INTEGERS = [0, 1, 2, 3, -1, 8, 63, 255, 1 << 30, -(1 << 31)]


def _base_checkpoint(path, marker):
    """A Runner's checkpoint with config text that would touch marker."""
    toy_runner(path.parent, 1, hook_type='CheckpointHook').train()
    checkpoint = torch.load(path.parent / 'iter_1.pth', weights_only=False)
    checkpoint['meta']['config'] = checkpoint['meta']['cfg'] = touch(marker)
    torch.save(checkpoint, path)


def _mutate_pickle(data: bytes, rng: random.Random) -> bytes:
    kind = rng.randrange(3)
    if kind == 0:  # flip a few bytes
        data = bytearray(data)
        for _ in range(rng.randint(1, 4)):
            data[rng.randrange(len(data))] = rng.randrange(256)
        return bytes(data)
    if kind == 1:  # drop or repeat a range
        start = rng.randrange(len(data))
        end = min(len(data), start + rng.randint(1, 64))
        return data[:start] + (data[start:end] * 2 if rng.random() < .5
                               else b'') + data[end:]
    # replace one opcode's argument, keeping the pickle well-formed
    ops = [(op, arg, pos) for op, arg, pos in pickletools.genops(data)
           if op.name in ('BINUNICODE', 'BININT', 'BININT1', 'BININT2')]
    op, arg, pos = rng.choice(ops)
    if op.name == 'BINUNICODE':
        text = rng.choice(STRINGS).encode()
        old_end = pos + 5 + len(arg.encode('utf-8', 'surrogatepass'))
        return data[:pos] + b'X' + len(text).to_bytes(4, 'little') + text + \
            data[old_end:]
    width = {'BININT': 4, 'BININT1': 1, 'BININT2': 2}[op.name]
    value = rng.choice(INTEGERS) % (1 << (8 * width))
    return data[:pos + 1] + value.to_bytes(width, 'little') + \
        data[pos + 1 + width:]


def _mutant(original: bytes, rng: random.Random) -> bytes:
    if rng.random() < 0.1:  # the zip container itself
        data = bytearray(original)
        for _ in range(rng.randint(1, 8)):
            data[rng.randrange(len(data))] = rng.randrange(256)
        return bytes(data)
    out = io.BytesIO()
    with zipfile.ZipFile(io.BytesIO(original)) as source, \
            zipfile.ZipFile(out, 'w', zipfile.ZIP_STORED) as target:
        for info in source.infolist():
            content = source.read(info)
            if info.filename.endswith('/data.pkl'):
                content = _mutate_pickle(content, rng)
            target.writestr(info.filename, content)
    return out.getvalue()


def fuzz(base: str, count: int, seed: int, scratch: str) -> dict:
    """Counts of ``count`` mutants of ``base`` that load, are refused or
    are unreadable; anything else raised fails."""
    import ibnseg  # noqa: F401  (installs the safe loaders)
    from mmengine.runner import CheckpointLoader
    from ibnseg.utils import CheckpointError, UnsafeCheckpointError

    with open(base, 'rb') as f:
        original = f.read()
    rng = random.Random(seed)
    counts = dict(loaded=0, refused=0, unreadable=0)
    path = os.path.join(scratch, 'mutant.pth')
    start = time.perf_counter()
    for index in range(count):
        with open(path, 'wb') as f:
            f.write(_mutant(original, rng))
        print(index, flush=True)  # the last index printed names a crash
        try:
            CheckpointLoader.load_checkpoint(path, 'cpu')
            counts['loaded'] += 1
        except UnsafeCheckpointError:
            counts['refused'] += 1
        except CheckpointError:
            counts['unreadable'] += 1
    counts['seconds'] = round(time.perf_counter() - start, 1)
    return counts


def test_mutants_load_or_raise_checkpoint_error(tmp_path, marker):
    base = tmp_path / 'base.pth'
    _base_checkpoint(base, marker)
    count = int(os.environ.get('IBNSEG_FUZZ_MUTANTS', QUICK_MUTANTS))
    proc = subprocess.run(
        [sys.executable, '-m', 'tests.test_utils.test_checkpoint_fuzz',
         str(base), str(count), '0', str(tmp_path)],
        cwd=REPO_ROOT, capture_output=True, text=True, timeout=3600,
        env=dict(os.environ, PYTHONPATH=REPO_ROOT))
    lines = proc.stdout.splitlines()
    assert proc.returncode == 0, (
        f'exit {proc.returncode} at mutant {lines[-1] if lines else None} '
        f'(seed 0):\n{proc.stderr[-3000:]}')
    counts = json.loads(lines[-1])
    print(counts)  # with -s, as docs/security.md runs it
    # every outcome is reached: the checks are tested, not only the zip
    assert min(counts['loaded'], counts['refused'], counts['unreadable']) \
        > 0, counts
    assert not marker.exists(), 'a mutant ran code'


if __name__ == '__main__':
    base, count, seed, scratch = sys.argv[1:]
    print(json.dumps(fuzz(base, int(count), int(seed), scratch)))
