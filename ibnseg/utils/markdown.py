"""Markdown (GitHub-flavoured) tables for reports and tool output."""
from typing import Any, Iterable, Iterator, Optional, Sequence

__all__ = ['iter_markdown_table', 'markdown_table']

#: Separator-row cell per column alignment; None is markdown's default
#: (left in most renderers) and is what every existing table uses.
_ALIGN_RULES = {None: '---', 'left': ':---', 'right': '---:',
                'center': ':---:'}


def _cell(value: Any) -> str:
    # A bare '|' would split the cell in two and shift every later column;
    # a newline would end the row.
    return str(value).replace('|', '\\|').replace('\n', ' ')


def iter_markdown_table(header: Sequence[Any],
                        rows: Iterable[Sequence[Any]],
                        align: Optional[Sequence[Optional[str]]] = None
                        ) -> Iterator[str]:
    """The lines of :func:`markdown_table`, yielded as ``rows`` yields rows.

    For tools that measure one row at a time and print each as soon as it is
    known (a row of a benchmark can take minutes): the header lines come
    before the first row is asked for. Arguments and errors are
    :func:`markdown_table`'s; a bad header or ``align`` is reported on the
    first ``next()``, before any row is computed.
    """
    header = [_cell(title) for title in header]
    if not header:
        raise ValueError('markdown_table: header must have at least one '
                         'column')
    if align is None:
        align = [None] * len(header)
    if len(align) != len(header):
        raise ValueError(f'markdown_table: align has {len(align)} entries, '
                         f'expected one per column ({len(header)})')
    for value in align:
        if value not in _ALIGN_RULES:
            raise ValueError(
                f'markdown_table: unknown alignment {value!r}; expected '
                "None, 'left', 'right' or 'center'")
    yield '| ' + ' | '.join(header) + ' |'
    yield '|' + '|'.join(_ALIGN_RULES[a] for a in align) + '|'
    for index, row in enumerate(rows):
        cells = [_cell(value) for value in row]
        if len(cells) != len(header):
            raise ValueError(
                f'markdown_table: row {index} has {len(cells)} cells, '
                f'expected {len(header)} (one per column: {header})')
        yield '| ' + ' | '.join(cells) + ' |'


def markdown_table(header: Sequence[Any],
                   rows: Iterable[Sequence[Any]],
                   align: Optional[Sequence[Optional[str]]] = None) -> str:
    """A markdown table, one line per row, without a trailing newline::

        | a | b |
        |---|---|
        | 1 | 2 |

    Args:
        header (Sequence): Column titles; cells are converted with ``str``.
        rows (Iterable[Sequence]): Table body; each row must have one cell
            per column. Values are converted with ``str`` (format numbers
            before passing them); ``|`` is escaped as ``\\|`` and newlines
            become spaces, so a cell never breaks the table.
        align (Sequence[str | None], optional): Per column, None (default),
            'left', 'right' or 'center'; None for the whole table leaves
            every column at the default.

    Returns:
        str: The table.

    Raises:
        ValueError: an empty header, a row or ``align`` whose length is not
            the header's (naming the row), or an unknown alignment.
    """
    return '\n'.join(iter_markdown_table(header, rows, align))
