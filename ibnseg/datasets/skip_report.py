"""The skip report: the broken samples a converter or the first pass found,
for datasets to skip; '#' comment lines, then ``id<TAB>problem<TAB>detail``
lines, ``problem`` one of ``PROBLEMS``."""
import os.path as osp
from typing import Dict, Iterable, NamedTuple

from ..engine.fileio import atomic_write

SKIP_REPORT_NAME = 'skipped_pairs.tsv'
PROBLEMS = ('missing_image', 'missing_label', 'unreadable_image',
            'unreadable_label', 'size_mismatch')
_HEADER = 'id\tproblem\tdetail'


class SkippedSample(NamedTuple):
    """One broken sample: its name, one of ``PROBLEMS``, a readable detail."""
    sample_id: str
    problem: str
    detail: str = ''


def write_skip_report(path: str, skipped: Iterable[SkippedSample],
                      comment: str = '') -> str:
    """Write the report atomically (also when nothing is skipped, so a
    dataset can tell "checked, all fine" from "never checked")."""
    lines = [f'# {line}' for line in comment.splitlines()] + [_HEADER]
    for item in sorted(skipped):
        if item.problem not in PROBLEMS:
            raise ValueError(f'unknown problem {item.problem!r}; expected one '
                             f'of {PROBLEMS}')
        detail = ' '.join(str(item.detail).split())  # no tabs or newlines
        lines.append(f'{item.sample_id}\t{item.problem}\t{detail}')
    return atomic_write(path, '\n'.join(lines) + '\n')


def read_skip_report(path: str) -> Dict[str, SkippedSample]:
    """id -> SkippedSample of a report; a malformed line raises, naming
    ``path`` and the line."""
    if not osp.isfile(path):
        raise FileNotFoundError(f'skip report {path} not found')
    skipped = {}
    with open(path, encoding='utf-8') as f:
        for number, line in enumerate(f, start=1):
            line = line.rstrip('\n')
            if not line.strip() or line.startswith('#') or line == _HEADER:
                continue
            fields = line.split('\t')
            if len(fields) != 3 or fields[1] not in PROBLEMS:
                raise ValueError(
                    f'skip report {path}, line {number}: {line!r}; expected '
                    f'"id<TAB>problem<TAB>detail" with problem one of '
                    f'{PROBLEMS}')
            skipped[fields[0]] = SkippedSample(*fields)
    return skipped
