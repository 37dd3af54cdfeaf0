"""Checkpoints an attacker builds by hand, for the security tests.

Each pickles only globals that safe loading knows (numpy's dtype, scalar
and array rebuilders, plain containers), with arguments and states that
numpy and mmengine never write. ``Pickled`` makes any such call: torch.save
writes it as ``GLOBAL func``, the arguments, ``REDUCE`` and, given a state,
``BUILD``.
"""
import shlex

import numpy as np
import torch

try:  # the names numpy 1.x pickles under
    from numpy.core import multiarray
except ImportError:  # pragma: no cover - numpy 2.x
    from numpy._core import multiarray


class Pickled:
    """Pickles as ``func(*args)``, then BUILD with ``state`` if given."""

    def __init__(self, func, args, state=None):
        self.func, self.args, self.state = func, args, state

    def __reduce__(self):
        if self.state is None:
            return self.func, self.args
        return self.func, self.args, self.state


def touch(marker) -> str:
    """Python that creates ``marker``: config text that must never run."""
    return f"__import__('os').system('touch {shlex.quote(str(marker))}')\n"


def object_scalar_with_cleared_flags():
    """An object-dtype scalar whose dtype state clears numpy's object flags,
    so numpy reads the 8 bytes as a pointer (a crash, unless refused)."""
    dtype = Pickled(np.dtype, ('O8', False, True),
                    (3, '|', None, None, None, -1, -1, 0))
    return Pickled(multiarray.scalar, (dtype, b'\x41' * 8))


def structured_meta(marker):
    """A structured numpy scalar standing in for ``meta``: one field's
    value is 'config' (so ``'config' in meta``), the field of that name is
    Python text, and ``epoch``/``iter`` read as numbers: what
    ``Runner.resume`` wants from a dict."""
    text = touch(marker)
    dtype = np.dtype([('key', '<U6'), ('config', f'<U{len(text)}'),
                      ('epoch', '<i8'), ('iter', '<i8')])
    return np.array(('config', text, 0, 1), dtype=dtype)[()]


def nested_list(depth: int):
    value = [0]
    for _ in range(depth):
        value = [value, value]
    return value


def save_checkpoint(path, **fields) -> str:
    """``torch.save`` a checkpoint of a one-weight model with ``fields``."""
    torch.save(dict(state_dict={'w': torch.zeros(2)}, **fields), path)
    return str(path)
