"""Why a review failed, in our words, by error code: what every surface tells a person. A library's
message never reaches one (pypdf, for one, quotes bytes of the file in its exceptions). Surfaces
with their own remedies (Slack: "share the file again") override single entries."""

import re

FAILURE_REASONS = {
    "empty_file": "the file is empty",
    "too_large": "the file is larger than the service accepts",
    "not_pdf": "the file is not a PDF",
    "encrypted": "the PDF is password-protected",
    "wrong_password": "the PDF password is wrong",
    "no_pages": "the PDF has no pages",
    "too_many_pages": "the PDF has more pages than the service reviews",
    "too_much_text": "the PDF holds more text than the service reviews",
    "resource_limit": "reading the PDF needed more memory than allowed (it may be hostile)",
    "extraction_timeout": "reading the PDF took too long and was stopped (it may be hostile)",
    "malformed": "the PDF is damaged or malformed, so its text could not be read",
    "no_text": "the PDF has no text layer (it looks scanned): run OCR on it first",
    "unreadable_file": "the file could not be read",
    "worker_died": "the review was interrupted",
    "no_answer": "the language model returned no answer for it",
    "internal_error": "an internal error stopped it",
}

_CODE = re.compile(r"^[a-z][a-z0-9_]*$")


def failure_reason(code: str | None) -> str:
    """Our wording for an error code; an unknown code is named, not explained."""
    if code in FAILURE_REASONS:
        return FAILURE_REASONS[code]
    return f"the review failed ({code or 'unknown error'})"


def describe_error(error: str | None) -> str:
    """A comparison entry's error: "code: message" from the job store is told by its code alone; a
    sentence of ours (a file that could not be read or queued) is kept as it is."""
    code, sep, _ = (error or "").partition(":")
    if code in FAILURE_REASONS or (sep and _CODE.match(code)):
        return failure_reason(code)
    return error or "no review"
