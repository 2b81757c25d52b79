import io

import pytest
from markdown_it import MarkdownIt
from openpyxl import Workbook, load_workbook

from reviewer.render.cells import append_xlsx_row, csv_value, to_csv_text
from reviewer.render.escape import markdown_text, slack_text


@pytest.mark.parametrize("text", ["=1+1", "+1", "-1", "@SUM(A1)", "\t=1", "\r=1"])
def test_every_formula_start_is_neutralised_in_csv_and_xlsx(text):
    assert csv_value(text) == "'" + text
    book = Workbook()
    append_xlsx_row(book.active, [text])
    out = io.BytesIO()
    book.save(out)
    cell = load_workbook(io.BytesIO(out.getvalue())).active["A1"]
    assert (cell.value[1:], cell.data_type, cell.quotePrefix) == (text[1:], "s", True)  # XML reads \r as \n


def test_numbers_and_ordinary_text_are_left_alone():
    assert to_csv_text(["a", "b"], [[-3, "Acme"]]) == "a,b\r\n-3,Acme\r\n"


@pytest.mark.parametrize(
    ("text", "kind"),
    [
        ("- item", "bullet_list_open"),
        ("1. item", "ordered_list_open"),
        ("# title", "heading_open"),
        ("> q", "blockquote_open"),
    ],
)
def test_a_quote_cannot_start_a_markdown_block(text, kind):
    tokens = MarkdownIt("commonmark").parse(markdown_text(text))
    assert kind not in [t.type for t in tokens]
    assert tokens[1].content and MarkdownIt("commonmark").renderInline(markdown_text(text)).replace("&gt;", ">") == text


def test_emphasis_code_and_tables_stay_literal():
    text = "*bold* _it_ `code` a|b ~~s~~"
    assert MarkdownIt("commonmark").renderInline(markdown_text(text)) == text


def test_slack_text_escapes_its_three_control_characters_only():
    assert slack_text("<!here> & <b|c> *x*") == "&lt;!here&gt; &amp; &lt;b|c&gt; *x*"
