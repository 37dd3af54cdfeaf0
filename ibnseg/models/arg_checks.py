"""Construction-time checks of the backbones' and layers' options, which
would otherwise fail deep inside torch or be taken silently (``True`` is an
int to Python); one format: ``IBNResNet: depth must be an int, one of (18,
34, 50), got '50' (str)``. ``TypeError`` for a wrong type (a bool is never
a number), ``ValueError`` for a wrong value. Each returns the value.
"""
from numbers import Integral, Real

__all__ = [
    'check_bool', 'check_bools', 'check_choice', 'check_dict', 'check_int',
    'check_ints', 'check_number', 'check_not_given'
]


def _fail(error, owner, name, expected, value):
    raise error(f'{owner}: {name} must be {expected}, got {value!r} '
                f'({type(value).__name__})')


def _interval(minimum, maximum, min_open=False):
    if maximum is None:
        return f'> {minimum}' if min_open else f'>= {minimum}'
    return f'in {"(" if min_open else "["}{minimum}, {maximum}]'


def check_int(owner, name, value, choices=None, minimum=None, maximum=None):
    """An int, one of ``choices`` or in [minimum, maximum]."""
    if choices is not None:
        expected = f'an int, one of {tuple(choices)}'
    elif minimum is not None:
        expected = f'an int {_interval(minimum, maximum)}'
    else:
        expected = 'an int'
    if not isinstance(value, Integral) or isinstance(value, bool):
        _fail(TypeError, owner, name, expected, value)
    value = int(value)
    if (choices is not None and value not in choices) or (
            minimum is not None and value < minimum) or (
                maximum is not None and value > maximum):
        _fail(ValueError, owner, name, expected, value)
    return value


def check_number(owner, name, value, minimum, maximum=None, min_open=False):
    """A real number in [minimum, maximum] (``min_open``: (minimum,
    maximum]); NaN is refused."""
    expected = f'a number {_interval(minimum, maximum, min_open)}'
    if not isinstance(value, Real) or isinstance(value, bool):
        _fail(TypeError, owner, name, expected, value)
    above = value > minimum if min_open else value >= minimum
    if not (above and (maximum is None or value <= maximum)):
        _fail(ValueError, owner, name, expected, value)
    return value


def check_bool(owner, name, value):
    if not isinstance(value, bool):
        _fail(TypeError, owner, name, 'a bool (True or False)', value)
    return value


def check_choice(owner, name, value, choices):
    """One of ``choices``, of the same type (unhashable values too)."""
    if not any(type(value) is type(c) and value == c for c in choices):
        known_type = any(type(value) is type(c) for c in choices)
        _fail(ValueError if known_type else TypeError, owner, name,
              f'one of {tuple(choices)}', value)
    return value


def _check_sequence(owner, name, value, length, expected):
    if not isinstance(value, (list, tuple)):
        _fail(TypeError, owner, name, expected, value)
    if length is not None and len(value) != length:
        _fail(ValueError, owner, name, expected, value)


def check_bools(owner, name, value, length):
    """A list or tuple of ``length`` bools (one per stage), as a tuple."""
    expected = f'a list or tuple of {length} bools (one per stage)'
    _check_sequence(owner, name, value, length, expected)
    if not all(isinstance(v, bool) for v in value):
        _fail(ValueError, owner, name, expected, value)
    return tuple(value)


def check_ints(owner, name, value, choices=None, length=None):
    """A list or tuple of ints (``length`` of them when given), each from
    ``choices`` or >= 1, as a tuple."""
    what = f'one of {tuple(choices)}' if choices else '>= 1'
    _check_sequence(owner, name, value, length,
                    f'a list or tuple of {length or "some"} ints, each {what}')
    return tuple(
        check_int(owner, f'each of {name}', v, choices=choices,
                  minimum=None if choices else 1) for v in value)


def check_dict(owner, name, value):
    """A dict (a config) with a ``type``."""
    expected = "a dict with a 'type' entry (e.g. dict(type='BN'))"
    if not isinstance(value, dict):
        _fail(TypeError, owner, name, expected, value)
    if 'type' not in value:
        _fail(ValueError, owner, name, expected, value)
    return value


def check_not_given(owner, kwargs, **fixed):
    """Refuse options that ``owner`` fixes itself (name -> its value)."""
    for name, value in fixed.items():
        if name in kwargs:
            raise TypeError(
                f'{owner}: {name} is fixed to {value!r} by this backbone and '
                f'cannot be given, got {kwargs[name]!r}')
