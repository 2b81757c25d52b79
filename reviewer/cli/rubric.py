"""reviewer rubric from-rfp RFP.pdf: the RFP's requirements as a rubric file to edit before use."""

import argparse
import textwrap
from pathlib import Path

from reviewer.cli.context import EXIT_OK, Context, note


def add_parser(sub) -> None:
    rubric = sub.add_parser("rubric", help="make a rubric: from-rfp draws one from an RFP's requirements")
    actions = rubric.add_subparsers(dest="rubric_command", required=True)
    from_rfp = actions.add_parser(
        "from-rfp", help="extract an RFP's requirements (PDF or .docx) into a rubric file to edit before use"
    )
    from_rfp.add_argument("file", type=Path, help="the RFP (PDF or .docx)")
    from_rfp.add_argument(
        "--merge", metavar="RUBRIC", default=None, help="add this rubric's criteria (e.g. 'default') beside the RFP's"
    )
    from_rfp.add_argument("-o", "--output", type=Path, default=None, help="write the YAML here (default: stdout)")
    from_rfp.add_argument(
        "--backend",
        choices=["anthropic", "offline"],
        default=None,
        help="anthropic: Claude reads the RFP (default when ANTHROPIC_API_KEY is set); offline: requirement "
        "sentences found by modal verbs and clause numbers (no language model)",
    )
    from_rfp.add_argument("--model", default=None, help="the Claude model (default: the configured one)")
    from_rfp.add_argument(
        "--group",
        action="store_true",
        help="one criterion per group of closely related requirements (same heading, same subject; at most "
        "6 each), its strength the strongest member's; offline: by clause numbering, headings and shared words",
    )


def _header(file_name: str, method: str, count: int, merged: str | None, grouped: int | None = None) -> list[str]:
    from reviewer.requirements.grouping import MAX_MEMBERS, MEASURED_GROUPING
    from reviewer.requirements.offline import MEASURED

    lines = [f"Rubric drawn from {file_name} by `reviewer rubric from-rfp` ({count} requirements)."]
    if method == "offline":
        lines += [
            "OFFLINE EXTRACTION (no language model): requirement sentences found by their modal verbs",
            f"(shall/must/should/may) and clause numbers; measured {MEASURED} (bench/rfp_extraction.py).",
            "It misses some requirements and keeps some that are not: read the RFP beside this file.",
        ]
    else:
        lines += [
            f"Extracted by Claude ({method}); every quote was checked against the RFP and unverified ones",
            "dropped. Recall is not measured for this backend yet: read the RFP beside this file.",
        ]
    if grouped is not None:
        how = (
            "Claude's own labels"
            if method != "offline"
            else f"clause numbering, headings and shared words; measured {MEASURED_GROUPING}"
        )
        lines += textwrap.wrap(
            f"GROUPED (--group): the {count} requirements are {grouped} criteria; closely related ones (same "
            f"heading, same subject, at most {MAX_MEMBERS}) share one criterion, by {how}. A group's strength and "
            "weight are its strongest member's: a group holding one 'must' is mandatory. Its comment lists every "
            "member's page, clause, strength and quote; split a group to weigh its members apart.",
            96,
        )
    lines += [
        "Each criterion's comment gives its source: page, clause, strength and the RFP's own words.",
        "Weights: must/shall 3 (mandatory), should 2, may 1.",
    ]
    if merged:
        lines.append(f"The criteria of '{merged}' follow the RFP's own.")
    lines += ["", "Edit it, then check it with: reviewer rubrics --check FILE", ""]
    return lines


def run_from_rfp(args: argparse.Namespace, context: Context) -> int:
    from reviewer.documents import read_document, safe_file_name
    from reviewer.errors import BadInputError
    from reviewer.output import check_writable, emit
    from reviewer.requirements.offline import MEASURED, extract_offline
    from reviewer.requirements.rubric_yaml import rubric_yaml
    from reviewer.requirements.to_rubric import to_rubric
    from reviewer.rubric import RubricCatalog

    settings = context.settings
    if args.output:
        check_writable(args.output)
    try:
        data = args.file.read_bytes()
    except OSError as exc:
        raise BadInputError(f"{args.file}: cannot read file ({exc.strerror})", code="unreadable_file") from None
    merge = None
    if args.merge:
        catalog, name = RubricCatalog.from_settings(settings).for_reference(args.merge)
        merge = catalog.load(name)
    document = read_document(data, safe_file_name(args.file.name), limits=settings.ingest)
    backend = args.backend or ("anthropic" if settings.has_api_key else "offline")
    if backend == "anthropic":
        import asyncio

        from reviewer.requirements.claude import extract_with_claude

        model_settings = settings.with_model(args.model)
        with context.recorded_egress(True, "rfp_extraction"):
            extraction = asyncio.run(extract_with_claude(document, model_settings, group=args.group))
        label = f"Claude, {model_settings.anthropic.model}"
        note(f"requirements extracted by {label}; {len(extraction.dropped)} dropped as unverified")
    else:
        extraction = extract_offline(document)
        label = "offline"
        why = "" if args.backend else "no ANTHROPIC_API_KEY set, so "
        note(f"{why}offline extraction (no language model; measured {MEASURED}): check the rubric before use")
    for dropped in extraction.dropped:
        requirement = dropped.requirement
        note(f"dropped, quote not verified ({dropped.reason}): p.{requirement.page} '{requirement.quote}'")
    if not extraction.requirements and merge is None:
        raise BadInputError(
            f"{args.file}: no requirements found (no shall/must/should/may sentences or requirement tables)"
        )
    rubric = to_rubric(extraction, merge=merge, group=args.group)
    own = len(rubric.criteria) - (len(merge.criteria) if merge else 0)
    count = len(extraction.requirements)
    header = _header(document.file_name, label, count, merge.id if merge else None, own if args.group else None)
    emit(rubric_yaml(rubric, header=header, merged_from=merge.id if merge else None), args.output)
    mandatory = sum(r.mandatory for r in extraction.requirements)
    where = f" to {args.output}" if args.output else ""
    grouped = f" in {own} criteria ({sum(len(c.members) > 1 for c in rubric.criteria)} groups)" if args.group else ""
    note(f"{count} requirements ({mandatory} mandatory){grouped} written{where}")
    return EXIT_OK


def run(args: argparse.Namespace, context: Context) -> int:
    return {"from-rfp": run_from_rfp}[args.rubric_command](args, context)
