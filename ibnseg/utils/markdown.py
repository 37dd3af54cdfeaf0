"""Markdown (GitHub-flavoured) tables for reports and tool output."""
from typing import Any, Iterable, Iterator, Sequence

__all__ = ['iter_markdown_table', 'markdown_table']


def _cell(value: Any) -> str:
    # a bare '|' would split the cell and a newline end the row
    return str(value).replace('|', '\\|').replace('\n', ' ')


def iter_markdown_table(header: Sequence[Any],
                        rows: Iterable[Sequence[Any]]) -> Iterator[str]:
    """The lines of :func:`markdown_table`, each yielded once its row is
    (for tools that print each row once measured)."""
    header = [_cell(title) for title in header]
    if not header:
        raise ValueError('markdown_table: header must have at least one '
                         'column')
    yield '| ' + ' | '.join(header) + ' |'
    yield '|' + '|'.join('---' for _ in header) + '|'
    for index, row in enumerate(rows):
        cells = [_cell(value) for value in row]
        if len(cells) != len(header):
            raise ValueError(
                f'markdown_table: row {index} has {len(cells)} cells, '
                f'expected {len(header)} (one per column: {header})')
        yield '| ' + ' | '.join(cells) + ' |'


def markdown_table(header: Sequence[Any],
                   rows: Iterable[Sequence[Any]]) -> str:
    """A markdown table, one line per row, no trailing newline; cells are
    ``str``'d, with ``|`` escaped and newlines as spaces.

    Raises:
        ValueError: An empty header, or a row of another length (named).
    """
    return '\n'.join(iter_markdown_table(header, rows))
