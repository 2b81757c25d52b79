"""reviewer review FILE: one proposal, one report."""

import argparse
import json
from pathlib import Path
from typing import TYPE_CHECKING

from reviewer.cli.context import EXIT_FAILED, EXIT_OK, Context, note

if TYPE_CHECKING:
    from reviewer.pdf_extract import OneOffExtractor


def add_parser(sub) -> None:
    review = sub.add_parser("review", help="review one proposal (PDF or Word .docx)")
    review.add_argument("file", type=Path, help="the proposal: a PDF or a Word .docx file")
    review.add_argument("--rubric", default=None, help="rubric name (bundled or in REVIEWER_RUBRICS_DIR) or file")
    review.add_argument(
        "--backend",
        default=None,
        help="anthropic | bedrock | vertex | openai_compatible | offline (default: anthropic if a key is set)",
    )
    review.add_argument("--model", default=None, help="model for the chosen backend (default from settings)")
    review.add_argument(
        "--format",
        choices=["json", "markdown", "html", "slack"],
        default=None,
        help="default: from the --output name (.json, .md, .html), else markdown",
    )
    review.add_argument("--output", "-o", type=Path, default=None, help="write here instead of stdout")
    review.add_argument("--password", default=None, help="password of an encrypted PDF")
    review.add_argument(
        "--blind",
        action="store_true",
        help="blind model input: vendor, product and people's names, emails, phone numbers and URLs become "
        "placeholders in what is sent to the model, and are restored in the report",
    )


FORMAT_OF_SUFFIX = {".json": "json", ".md": "markdown", ".markdown": "markdown", ".html": "html", ".htm": "html"}


def output_format(requested: str | None, output: Path | None) -> str:
    """--format if given, else what the output file's name says, else Markdown."""
    if requested:
        return requested
    suffix = output.suffix.lower() if output else ""
    return FORMAT_OF_SUFFIX.get(suffix, "markdown")


def render(review, fmt: str, public_base_url: str) -> str:
    if fmt == "json":
        return review.model_dump_json(indent=2)
    if fmt == "html":
        from reviewer.render.html import render_html

        return render_html(review)
    if fmt == "slack":
        from reviewer.render.slack import summary_blocks, summary_text

        message = {"text": summary_text(review), "blocks": summary_blocks(review, None, public_base_url)}
        return json.dumps(message, indent=2, ensure_ascii=False)
    from reviewer.render.markdown import render_markdown

    return render_markdown(review)


def run(args: argparse.Namespace, context: Context) -> int:
    from reviewer.pdf_extract import OneOffExtractor

    # The extraction child starts first: it boots and imports pypdf while this process loads the rest.
    with OneOffExtractor() as extractor:
        return _run(args, context, extractor)


def _run(args: argparse.Namespace, context: Context, extractor: "OneOffExtractor") -> int:
    import asyncio  # after the extraction child has started, like everything a review needs
    from concurrent.futures import ThreadPoolExecutor

    from reviewer.documents import read_document, safe_file_name
    from reviewer.errors import BadInputError
    from reviewer.output import check_writable, emit

    settings = context.settings
    if args.output:
        check_writable(args.output)
    try:
        data = args.file.read_bytes()
    except OSError as exc:
        raise BadInputError(f"{args.file}: cannot read file ({exc.strerror})", code="unreadable_file") from None
    # Extraction runs in the child: send it the document now, and load the rubric and the backend meanwhile.
    with ThreadPoolExecutor(max_workers=1) as pool:
        reading = pool.submit(
            read_document,
            data,
            safe_file_name(args.file.name),
            limits=settings.ingest,
            password=args.password,
            extractor=extractor,
        )
        from reviewer.masking import MaskingPolicy
        from reviewer.pipeline import review_document
        from reviewer.rubric import RubricCatalog

        catalog, name = RubricCatalog.from_settings(settings).for_reference(args.rubric)
        rubric = catalog.load(name)
        backend = context.backend(args)
        document = reading.result()
    masking = MaskingPolicy.from_settings(settings.grading, blind=args.blind)
    with context.recorded_egress(not backend.offline):
        review = asyncio.run(review_document(document, rubric, backend, masking=masking))
    emit(render(review, output_format(args.format, args.output), settings.api.public_base_url), args.output)
    if review.error_count:
        note(f"{review.error_count} criteria could not be graded; see their errors in the report")
        return EXIT_FAILED
    return EXIT_OK
