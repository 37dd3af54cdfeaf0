"""ibnseg.utils.markdown."""
import pytest

from ibnseg.utils.markdown import iter_markdown_table, markdown_table


def test_table_layout_and_escaping():
    assert markdown_table(('x | y', 'n'), [['a|b', 1], ('two\nlines', 2)]) \
        == ('| x \\| y | n |\n'
            '|---|---|\n'
            '| a\\|b | 1 |\n'
            '| two lines | 2 |')
    assert markdown_table(['a'], []) == '| a |\n|---|'


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


@pytest.mark.parametrize('header, rows, message', [
    ([], [], 'at least one column'),
    (['a', 'b'], [['1', '2'], ['3']], 'row 1 has 1 cells, expected 2'),
])
def test_bad_input_is_named(header, rows, message):
    with pytest.raises(ValueError, match=message):
        markdown_table(header, rows)
