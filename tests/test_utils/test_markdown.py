"""ibnseg.utils.markdown.markdown_table."""
import pytest

from ibnseg.utils.markdown import iter_markdown_table, markdown_table


def test_layout_matches_the_hand_built_tables():
    # The exact text the reports and tools printed before sharing the helper.
    assert markdown_table(['test', 'A mIoU'], [['cs', '1.00'], ['bdd', 2]]) \
        == ('| test | A mIoU |\n'
            '|---|---|\n'
            '| cs | 1.00 |\n'
            '| bdd | 2 |')


def test_no_rows_is_header_and_rule_only():
    assert markdown_table(['a'], []) == '| a |\n|---|'


def test_alignment_rules():
    table = markdown_table(['a', 'b', 'c', 'd'], [[1, 2, 3, 4]],
                           align=[None, 'left', 'right', 'center'])
    assert table.splitlines()[1] == '|---|:---|---:|:---:|'


def test_pipes_and_newlines_cannot_break_the_table():
    table = markdown_table(['x | y'], [['a|b'], ['two\nlines']])
    assert table.splitlines() == ['| x \\| y |', '|---|', '| a\\|b |',
                                  '| two lines |']


def test_rows_accept_any_iterable_of_cells():
    assert markdown_table(('a', 'b'), [(x, x * 2) for x in (1,)]) \
        .endswith('| 1 | 2 |')


def test_lines_are_yielded_before_later_rows_are_computed():
    computed = []

    def rows():
        for value in (1, 2):
            computed.append(value)
            yield [value]

    lines = iter_markdown_table(['n'], rows())
    assert [next(lines), next(lines)] == ['| n |', '|---|']
    assert computed == []
    assert next(lines) == '| 1 |' and computed == [1]
    assert list(lines) == ['| 2 |']


def test_iter_checks_header_before_the_first_row():
    def rows():
        raise AssertionError('a row was computed for a bad table')
        yield  # pragma: no cover

    with pytest.raises(ValueError, match='unknown alignment'):
        next(iter_markdown_table(['a'], rows(), align=['top']))


@pytest.mark.parametrize('kwargs, message', [
    (dict(header=[], rows=[]), 'at least one column'),
    (dict(header=['a', 'b'], rows=[['1', '2'], ['3']]),
     r'row 1 has 1 cells, expected 2'),
    (dict(header=['a'], rows=[], align=['left', 'right']),
     'align has 2 entries, expected one per column'),
    (dict(header=['a'], rows=[], align=['middle']),
     "unknown alignment 'middle'"),
])
def test_bad_input_is_named(kwargs, message):
    with pytest.raises(ValueError, match=message):
        markdown_table(**kwargs)
