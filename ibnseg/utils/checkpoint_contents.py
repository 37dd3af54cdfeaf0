"""What may come out of a checkpoint: inert stand-ins while unpickling, then
one checked rebuild.

``weights_only=True`` calls any allow-listed global with the file's
arguments, so numpy's real classes would let a file hand numpy a dtype that
reads raw bytes as pointers (a crash) or a "scalar" that answers ``'config'
in meta`` with text mmengine executes. The globals mmengine checkpoints name
resolve to stand-ins that only record their arguments; :func:`rebuild`
builds the real objects from checked values and :func:`check_fields` checks
the fields mmengine acts on; :class:`Refused` names anything else.
"""
import numpy as np
import torch
from collections import OrderedDict
from mmengine.logging import HistoryBuffer

__all__ = ['CONFIG_TEXT', 'MAX_DEPTH', 'Refused', 'check_fields',
           'rebuild', 'stand_in_globals']

#: Containers nested deeper than this are refused (a deep one can exhaust
#: the stack of whatever walks it later).
MAX_DEPTH = 64

#: Config text mmengine 0.10.7 executes (``Runner.resume``,
#: ``MMSegInferencer(model=None, weights=...)``): dropped.
CONFIG_TEXT = (('meta', 'config'), ('meta', 'cfg'),
               ('message_hub', 'runtime_info', 'cfg'))


class Refused(ValueError):
    """A checkpoint's content that is not loaded; the message says what and
    where (``checkpoint['meta']['seed']``, say)."""


def _numeric_dtypes():
    """{(type string, pickled state): dtype} of the numeric dtypes, both
    byte orders."""
    table = {}
    codes = '?' + np.typecodes['AllInteger'] + np.typecodes['AllFloat']
    for code in codes:
        for dtype in (np.dtype(code), np.dtype(code).newbyteorder()):
            _, args, state = dtype.__reduce__()
            table[args[0], state] = dtype
    return table


_DTYPES = _numeric_dtypes()
_TYPE_STRINGS = {type_string for type_string, _ in _DTYPES}


class _StandIn:
    """Records a global's arguments and BUILD state; :meth:`build` makes the
    real object from checked values (an instance from NEWOBJ, without
    ``__init__``, fails it)."""
    _args = None
    _state = None
    _has_state = False

    def __init__(self, *args):
        self._args = args

    def __setstate__(self, state):
        if self._has_state:
            raise Refused(f'{self._what}: its state is given twice')
        self._state, self._has_state = state, True

    def build(self, where, walk):
        raise NotImplementedError


class _Dtype(_StandIn):
    """``numpy.dtype(type string, align, copy)`` and its state."""
    _what = 'a numpy dtype'

    def build(self, where, walk=None):
        if self._args is None or len(self._args) != 3 or \
                self._args[1:] != (False, True) or \
                self._args[0] not in _TYPE_STRINGS:
            raise Refused(f'{where}: a numpy dtype {self._args!r}: only '
                          'bool, integer, float and complex dtypes load')
        type_string = self._args[0]
        if not self._has_state:
            return np.dtype(type_string)
        dtype = _DTYPES.get((type_string, self._state)) \
            if isinstance(self._state, tuple) else None
        if dtype is None:
            raise Refused(f'{where}: numpy dtype {type_string!r} with the '
                          f'state {self._state!r}, which numpy never '
                          'writes for it')
        return dtype


class _NdarrayClass:
    """``numpy.ndarray`` while unpickling: only an argument of _Array."""


class _Array(_StandIn):
    """``numpy.core.multiarray._reconstruct(ndarray, (0,), b'b')``, then the
    array's state ``(1, shape, dtype, is_fortran, raw bytes)``."""
    _what = 'a numpy array'

    def build(self, where, walk):
        if self._args != (_NdarrayClass, (0, ), b'b'):
            raise Refused(f'{where}: a numpy array of another kind '
                          f'{self._args!r}: only plain ndarrays load')
        state = self._state
        if not (isinstance(state, tuple) and len(state) == 5
                and state[0] == 1 and type(state[1]) is tuple
                and all(type(n) is int and n >= 0 for n in state[1])
                and isinstance(state[2], _Dtype)
                and type(state[3]) is bool and type(state[4]) is bytes):
            raise Refused(f'{where}: a numpy array whose state is not '
                          "numpy's (1, shape, dtype, is_fortran, bytes)")
        _, shape, dtype, fortran, data = state
        dtype = dtype.build(f'{where} (its dtype)')
        size = int(np.prod(shape, dtype=object)) * dtype.itemsize
        if len(data) != size:
            raise Refused(f'{where}: a numpy array of shape {shape} and '
                          f'dtype {dtype} needs {size} bytes, not '
                          f'{len(data)}')
        return np.frombuffer(data, dtype=dtype).reshape(
            shape, order='F' if fortran else 'C').copy(order='K')


class _Scalar(_StandIn):
    """``numpy.core.multiarray.scalar(dtype, raw bytes)``."""
    _what = 'a numpy scalar'

    def build(self, where, walk):
        if self._has_state or self._args is None or len(self._args) != 2 \
                or not isinstance(self._args[0], _Dtype) \
                or type(self._args[1]) is not bytes:
            raise Refused(f'{where}: a numpy scalar that is not a dtype '
                          'and its bytes')
        dtype = self._args[0].build(f'{where} (its dtype)')
        if len(self._args[1]) != dtype.itemsize:
            raise Refused(f'{where}: a numpy {dtype} scalar needs '
                          f'{dtype.itemsize} bytes, not {len(self._args[1])}')
        return np.frombuffer(self._args[1], dtype=dtype)[0]


class _HistoryBuffer(_StandIn):
    """mmengine's ``HistoryBuffer``: NEWOBJ, then its attributes as state."""
    _what = 'a HistoryBuffer'
    _ATTRIBUTES = {'max_length', '_log_history', '_count_history'}
    # pickled as getattr(HistoryBuffer, name); the class sets its own again
    _METHODS = {'statistics_methods', '_statistics_methods'}

    def build(self, where, walk):
        state = self._state
        if not (isinstance(state, dict)
                and self._ATTRIBUTES <= set(state)
                and set(state) <= self._ATTRIBUTES | self._METHODS
                and all(_statistics_methods(state[name])
                        for name in self._METHODS & set(state))):
            raise Refused(f'{where}: a HistoryBuffer whose attributes are '
                          f'not {sorted(self._ATTRIBUTES)} and its '
                          'statistics methods')
        max_length = state['max_length']
        logs, counts = (walk(state[name], f'{where}.{name}')
                        for name in ('_log_history', '_count_history'))
        if type(max_length) is not int or max_length < 1 or not all(
                isinstance(a, np.ndarray) and a.ndim == 1 for a in
                (logs, counts)) or len(logs) != len(counts) or \
                len(logs) > max_length:
            raise Refused(f'{where}: a HistoryBuffer whose histories are not '
                          'two equal 1-D arrays within its max_length')
        return HistoryBuffer(logs, counts, max_length)


class _StatisticsMethod:
    """``getattr(HistoryBuffer, <statistics method>)`` (older mmengine
    pickles it); any other ``getattr`` is refused."""

    def __init__(self, owner, name):
        if owner is not _HistoryBuffer or name not in (
                'min', 'max', 'mean', 'current'):
            raise Refused(f'getattr({owner!r}, {name!r}): only the '
                          'statistics methods of HistoryBuffer load')


def _statistics_methods(value) -> bool:
    return isinstance(value, dict) and all(
        isinstance(v, _StatisticsMethod) for v in value.values())


def stand_in_globals() -> list:
    """(stand-in, global name) pairs to allow-list, under the names numpy
    1.x and 2.x and mmengine pickle."""
    pairs = [(_Dtype, 'numpy.dtype'), (_NdarrayClass, 'numpy.ndarray'),
             (_HistoryBuffer, 'mmengine.logging.history_buffer.HistoryBuffer'),
             (_StatisticsMethod, 'builtins.getattr')]
    for module in ('numpy.core.multiarray', 'numpy._core.multiarray'):
        pairs += [(_Array, f'{module}._reconstruct'),
                  (_Scalar, f'{module}.scalar')]
    return pairs


def _checked_tensor(tensor, where):
    if type(tensor) not in (torch.Tensor, torch.nn.Parameter) \
            or tensor.layout != torch.strided or tensor.is_quantized:
        raise Refused(f'{where}: a {type(tensor).__name__} of layout '
                      f'{tensor.layout}: only dense tensors load')
    if tensor._backward_hooks or vars(tensor):
        raise Refused(f'{where}: a tensor with hooks or attributes')
    if tensor.is_meta:
        return tensor
    extent = 1 + sum((n - 1) * s for n, s in
                     zip(tensor.shape, tensor.stride())) if \
        tensor.numel() else 0
    storage = tensor.untyped_storage().nbytes() // tensor.element_size()
    if tensor.numel() > storage or \
            tensor.storage_offset() + extent > storage:
        raise Refused(f'{where}: a tensor of shape {tuple(tensor.shape)} '
                      'that claims more elements than its storage holds')
    return tensor


def rebuild(obj, where='checkpoint'):
    """``obj`` from ``torch.load`` with :func:`stand_in_globals`, built from
    checked values (plain containers, dense tensors within their storage,
    numeric numpy values as numpy writes them, ``HistoryBuffer``; shared
    ones stay shared); :class:`Refused` names where anything else is."""
    built, open_ids = {}, set()

    def walk(value, where, depth=0):
        if type(value) in (str, bytes, int, float, bool, type(None)):
            return value
        if isinstance(value, torch.Tensor):
            return _checked_tensor(value, where)
        key = id(value)
        if key in built:
            return built[key]
        if key in open_ids:
            raise Refused(f'{where}: a container that contains itself')
        if depth >= MAX_DEPTH:
            raise Refused(f'{where}: containers nested deeper than '
                          f'{MAX_DEPTH} levels')
        open_ids.add(key)
        result = _walk_one(value, where, lambda v, w: walk(v, w, depth + 1))
        open_ids.discard(key)
        built[key] = result
        return result

    return walk(obj, where)


def _walk_one(value, where, walk):
    kind = type(value)
    if kind in (dict, OrderedDict):
        result = kind()
        for key, item in value.items():
            if type(key) not in (str, int):
                raise Refused(f'{where}: a dict key {key!r} of type '
                              f'{type(key).__name__} (only str and int)')
            result[key] = walk(item, f'{where}[{key!r}]')
        metadata = vars(value).get('_metadata') if kind is OrderedDict \
            else None
        if metadata is not None:  # a module state dict's versions
            result._metadata = walk(metadata, f'{where}._metadata')
        return result
    if kind in (list, tuple, torch.Size):
        items = [walk(item, f'{where}[{i}]') for i, item in enumerate(value)]
        return items if kind is list else kind(items)
    if isinstance(value, _StandIn) and kind is not _StandIn:
        return value.build(where, walk)
    if kind in (torch.dtype, torch.device):  # torch's own, from a table
        return value
    raise Refused(f'{where}: an object of type {kind.__module__}.'
                  f'{kind.__qualname__}, which checkpoints do not hold')


def _plain(value) -> bool:
    """Plain data: what a dataset's metainfo holds (names, a palette)."""
    if type(value) in (str, int, float, bool, type(None)):
        return True
    if type(value) in (list, tuple):
        return all(_plain(item) for item in value)
    return type(value) in (dict, OrderedDict) and all(
        type(k) is str and _plain(v) for k, v in value.items())


def check_fields(checkpoint):
    """Check, in place, the fields of a rebuilt checkpoint that mmengine
    formats, compares or executes, drop its :data:`CONFIG_TEXT`, return
    it."""
    if not isinstance(checkpoint, dict):
        return checkpoint
    for name in ('meta', 'message_hub'):
        if name in checkpoint and not isinstance(checkpoint[name], dict):
            raise Refused(f"checkpoint[{name!r}] is a "
                          f"{type(checkpoint[name]).__name__}, not a dict")
    meta = checkpoint.get('meta', {})
    for name in ('epoch', 'iter'):
        if name in meta and type(meta[name]) is not int:
            raise Refused(f"checkpoint['meta'][{name!r}] is a "
                          f'{type(meta[name]).__name__}, not an int')
    seed = meta.get('seed')
    if isinstance(seed, np.integer):  # numpy's seeds, saved as they were
        meta['seed'] = seed = int(seed)
    if seed is not None and type(seed) is not int:
        raise Refused(f"checkpoint['meta']['seed'] is a "
                      f'{type(seed).__name__}, not an int or None')
    if not _plain(meta.get('dataset_meta')):
        raise Refused("checkpoint['meta']['dataset_meta'] holds more than "
                      'names and numbers (str, int, float, bool, None in '
                      'lists, tuples and dicts)')
    hub = checkpoint.get('message_hub', {})
    for name in ('log_scalars', 'runtime_info', 'resumed_keys'):
        if name in hub and not isinstance(hub[name], dict):
            raise Refused(f"checkpoint['message_hub'][{name!r}] is a "
                          f'{type(hub[name]).__name__}, not a dict')
    for name, value in hub.get('log_scalars', {}).items():
        if not isinstance(value, HistoryBuffer):
            raise Refused(f"checkpoint['message_hub']['log_scalars']"
                          f'[{name!r}] is a {type(value).__name__}, not a '
                          'HistoryBuffer')
    for *path, field in CONFIG_TEXT:
        owner = checkpoint
        for name in path:
            owner = owner.get(name) if isinstance(owner, dict) else None
        if isinstance(owner, dict):
            owner.pop(field, None)
    return checkpoint
