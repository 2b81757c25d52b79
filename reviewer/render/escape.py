"""Escaping text that came from a document or a model before it goes into Markdown or Slack mrkdwn.

Quotes, rationales, vendor names, questions and file names are data: a viewer must show them as
written, never run them as HTML, load them as images or follow them as links."""

import re

# Every character CommonMark/GFM can read as inline markup, escaped with a backslash (CommonMark lets
# any ASCII punctuation be escaped). `<`, `>` and `&` become entities instead, so that raw HTML and
# autolinks cannot form and the text reads the same in every renderer.
_MD_INLINE = re.compile(r"([\\`*_\[\]!|~#])")
_HTML = str.maketrans({"&": "&amp;", "<": "&lt;", ">": "&gt;"})
# What makes a paragraph's first characters into a list item, heading or thematic break.
_BLOCK_START = re.compile(r"^([-+=]|\d{1,9}(?=[.)](\s|$)))")


def one_line(text: str) -> str:
    return " ".join(text.split())


def markdown_text(text: object) -> str:
    """`text` as literal inline Markdown on one line: no HTML, links, images or emphasis survive."""
    if text is None:
        return ""
    escaped = _MD_INLINE.sub(r"\\\1", one_line(str(text)).translate(_HTML))
    return _BLOCK_START.sub(lambda m: m.group(0) + "\\" if m.group(0).isdigit() else "\\" + m.group(0), escaped, 1)


def slack_text(text: str | None) -> str:
    """`text` with Slack's three control characters escaped, so it cannot mention, link or format."""
    return (text or "").translate(_HTML)
