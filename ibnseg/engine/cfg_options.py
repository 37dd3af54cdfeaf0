"""``--cfg-options`` as the tools parse it: mmengine's ``DictAction``, whose
tracebacks (a pair without ``=``, unbalanced brackets) and silently passed
empty key parts (``model..x=1``) are argparse usage errors naming the pair,
and whose values with ``dict(`` or ``{`` (which it reads as strings) are
Python literals. :func:`key_problem` says why a key does not fit a config.
"""
import argparse
import ast
from typing import Mapping, Optional

from mmengine.config import DictAction

__all__ = ['CFG_OPTIONS_HELP', 'CfgOptionsAction', 'key_problem']

_CLOSING = {')': '(', ']': '['}

#: Help text of the tools' ``--cfg-options``.
CFG_OPTIONS_HELP = (
    'override config settings, key=value pairs such as '
    'train_cfg.max_iters=100 or key="[a,b]" for lists (quotes needed, no '
    'white space); a value with dicts is Python, e.g. '
    "\"visualizer.vis_backends=[dict(type='LocalVisBackend')]\"")


def _bracket_error(value: str) -> Optional[str]:
    """What is wrong with the nesting of ``value``'s brackets, or None."""
    opened = []
    for char in value:
        if char in '([':
            opened.append(char)
        elif char in _CLOSING and (not opened
                                   or opened.pop() != _CLOSING[char]):
            return f'{char!r} closes no bracket opened before it'
    return f'{opened[-1]!r} is never closed' if opened else None


def _literal(node: ast.AST):
    """The value of a literal expression in which ``dict(k=v, ...)`` calls
    may stand for dicts; ValueError for anything else."""
    if isinstance(node, ast.Call):
        if not (isinstance(node.func, ast.Name) and node.func.id == 'dict'
                and not node.args and all(kw.arg for kw in node.keywords)):
            raise ValueError('only dict(key=value, ...) may be called')
        return {kw.arg: _literal(kw.value) for kw in node.keywords}
    if isinstance(node, ast.List):
        return [_literal(item) for item in node.elts]
    if isinstance(node, ast.Tuple):
        return tuple(_literal(item) for item in node.elts)
    if isinstance(node, ast.Dict):
        if None in node.keys:
            raise ValueError('** is not supported')
        return {_literal(k): _literal(v)
                for k, v in zip(node.keys, node.values)}
    if isinstance(node, ast.Name):
        raise ValueError(f'{node.id} is not quoted')
    try:
        return ast.literal_eval(node)
    except ValueError:
        raise ValueError(f'{ast.unparse(node)} is not a literal') from None


def _parse_dict_value(value: str):
    """``value`` holding dicts, parsed as a Python literal; ValueError with
    the reason."""
    try:
        return _literal(ast.parse(value.strip(), mode='eval').body)
    except SyntaxError as error:
        raise ValueError(f'{error.msg} at column {error.offset}') from None


class CfgOptionsAction(DictAction):
    """mmengine's ``DictAction`` (``KEY=VALUE`` pairs) with the module's
    errors and dict values."""

    def __call__(self, parser, namespace, values, option_string=None):
        plain, with_dicts = [], {}
        for pair in values or ():
            key, sep, value = pair.partition('=')
            if not sep or '' in key.split('.'):
                raise argparse.ArgumentError(
                    self, f'{pair!r}: expected KEY=VALUE with a dotted KEY '
                    'of non-empty parts, e.g. train_cfg.max_iters=100')
            if 'dict(' in value or '{' in value:
                try:
                    with_dicts[key] = _parse_dict_value(value)
                except ValueError as error:
                    raise argparse.ArgumentError(
                        self, f'{pair!r}: a value with dicts must be a '
                        f'Python literal ({error}), e.g. '
                        "[dict(type='LocalVisBackend')] with quoted strings"
                    ) from None
                continue
            plain.append(pair)
            try:
                self._parse_iterable(value)
            except (AssertionError, RecursionError, ValueError):
                problem = _bracket_error(value) or 'unbalanced brackets'
                raise argparse.ArgumentError(
                    self, f'{pair!r}: the value does not parse ({problem}); '
                    'expected a number, true/false, None, a string, or a '
                    'list [a,b] or tuple (a,b) with matching brackets'
                ) from None
        super().__call__(parser, namespace, plain, option_string)
        getattr(namespace, self.dest).update(with_dicts)


def key_problem(cfg: Mapping, key: str) -> Optional[str]:
    """Why the dotted ``key`` of a ``--cfg-options`` pair cannot be set in
    ``cfg`` (a loaded config's ``to_dict()``), or None. mmengine's merge
    walks it through dicts (creating keys) and lists (by index)."""
    node = cfg
    parts = key.split('.')
    for depth, part in enumerate(parts[:-1]):
        where = '.'.join(parts[:depth + 1])
        if isinstance(node, Mapping):
            if part not in node:
                return None  # created by the merge
            node = node[part]
        else:  # a list or tuple: the checks below let nothing else by
            if not part.isdigit() or int(part) >= len(node):
                return (f'{".".join(parts[:depth])} is a list of '
                        f'{len(node)} item(s): expected an index 0..'
                        f'{len(node) - 1}, got {part!r}')
            node = node[int(part)]
        if not isinstance(node, (Mapping, list, tuple)):
            return (f'{where} is {node!r} ({type(node).__name__}), which '
                    f'holds no key {parts[depth + 1]!r}')
    return None
