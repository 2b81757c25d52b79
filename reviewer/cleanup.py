"""Clean-up of text extracted from a PDF page: ligatures, invisible characters, line-end hyphenation,
whitespace. Applied once at ingest; every later step (prompts, citations) sees the cleaned text."""

import re

LIGATURES = {
    "\ufb00": "ff",
    "\ufb01": "fi",
    "\ufb02": "fl",
    "\ufb03": "ffi",
    "\ufb04": "ffl",
    "\ufb05": "st",
    "\ufb06": "st",
    "\u0132": "IJ",
    "\u0133": "ij",
    "\u0152": "OE",
    "\u0153": "oe",
}
INVISIBLE = dict.fromkeys(map(ord, "\u00ad\u200b\u200c\u200d\u2060\ufeff"), None)
SPACES = dict.fromkeys(map(ord, "\u00a0\u2007\u202f\u2009\u200a\u2002\u2003\u2004\u2005\u2006\t\f\v"), " ")

_LIGATURE_TABLE = str.maketrans(LIGATURES)
_HYPHENATED_LINE_END = re.compile(r"(?<=[a-zà-ÿ])-\n[ ]*(?=[a-zà-ÿ])")
_RUN_OF_SPACES = re.compile(r"[ ]{2,}")
_SPACE_AROUND_NEWLINE = re.compile(r"[ ]*\n[ ]*")
_BLANK_LINES = re.compile(r"\n{3,}")


def expand_ligatures(text: str) -> str:
    return text.translate(_LIGATURE_TABLE)


def remove_invisible(text: str) -> str:
    return text.translate(INVISIBLE)


def join_hyphenated_lines(text: str) -> str:
    """'evalu-\\nation' -> 'evaluation'. Only between lower-case letters, so 'COVID-\\n19' and list
    dashes are left alone."""
    return _HYPHENATED_LINE_END.sub("", text)


def normalise_whitespace(text: str) -> str:
    text = text.replace("\r\n", "\n").replace("\r", "\n").translate(SPACES)
    text = _RUN_OF_SPACES.sub(" ", text)
    text = _SPACE_AROUND_NEWLINE.sub("\n", text)
    text = _BLANK_LINES.sub("\n\n", text)
    return text.strip()


def clean_page_text(text: str) -> str:
    return normalise_whitespace(join_hyphenated_lines(remove_invisible(expand_ligatures(text))))
