"""reviewer assess / consensus / audit / questions: the panel's commands, over the same job store as the API.

The CLI runs on the machine that holds the store, so the evaluator is whoever runs it (`--as NAME`, default
the login name); consensus needs a name in REVIEWER_LEAD_EVALUATORS when that is set."""

import argparse
import getpass
import json
from pathlib import Path

from reviewer.cli.context import EXIT_OK, Context, add_api_option, note

GRADES = ("met", "partial", "missing", "red_flag")


def _evaluator_option(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("--as", dest="evaluator", default=None, help="evaluator name (default: your login name)")


def _round_option(parser: argparse.ArgumentParser) -> None:
    parser.add_argument(
        "--round", type=int, default=None, help="the clarification round to decide (default: the latest graded)"
    )


def add_parsers(sub) -> None:
    assess = sub.add_parser("assess", help="confirm or change one criterion's grade on a finished review")
    assess.add_argument("review_id")
    assess.add_argument("criterion")
    assess.add_argument("grade", choices=GRADES)
    assess.add_argument("--reason", default=None, help="required when the grade differs from the grader's")
    assess.add_argument("--note", default=None)
    assess.add_argument("--reject", type=int, action="append", default=[], help="index of a grader citation to reject")
    assess.add_argument("--quote", nargs=2, action="append", default=[], metavar=("PAGE", "TEXT"), help="add a quote")
    _round_option(assess)
    _evaluator_option(assess)
    add_api_option(assess)

    consensus = sub.add_parser("consensus", help="set the panel's final grade of a criterion (evaluation lead)")
    consensus.add_argument("review_id")
    consensus.add_argument("criterion")
    consensus.add_argument("grade", choices=GRADES)
    consensus.add_argument("--reason", required=True)
    _round_option(consensus)
    _evaluator_option(consensus)
    add_api_option(consensus)

    audit = sub.add_parser("audit", help="the review's audit trail, oldest first")
    audit.add_argument("review_id")
    audit.add_argument("--format", choices=("table", "json"), default="table")
    add_api_option(audit)

    agree = sub.add_parser("agreement", help="per criterion, how often the panel overruled the grader")
    agree.add_argument("--format", choices=("table", "json"), default="table")

    listing = sub.add_parser("reviews", help="the reviews in the local job store, newest first, with their ids")
    listing.add_argument("--limit", type=int, default=20)

    questions = sub.add_parser("questions", help="the open clarification questions for the vendor, as a document")
    questions.add_argument("review_id")
    questions.add_argument("--format", choices=("md", "docx", "pdf"), default="md")
    questions.add_argument("--output", "-o", type=Path, default=None, help="file to write (docx and pdf need one)")
    _evaluator_option(questions)
    add_api_option(questions)


def _evaluator(args: argparse.Namespace) -> str:
    from reviewer.errors import BadInputError

    name = (args.evaluator or getpass.getuser() or "local").strip()
    if not name or len(name) > 64:
        raise BadInputError("--as needs a name of 1 to 64 characters", code="bad_option")
    return name


def _check_round(args: argparse.Namespace) -> None:
    from reviewer.errors import BadInputError

    if args.round is not None and args.round < 1:
        raise BadInputError(
            "--round takes a round number: 1 is the proposal, 2 and later its answers", code="bad_option"
        )


def _checked(model, **values):
    """The command's input as the core takes it; a value the model refuses is one line and exit 2."""
    from pydantic import ValidationError

    from reviewer.errors import BadInputError

    try:
        return model(**values)
    except ValidationError as exc:
        problems = "; ".join(f"{'.'.join(map(str, e['loc'])) or 'input'}: {e['msg']}" for e in exc.errors())
        raise BadInputError(f"invalid input: {problems}", code="bad_option") from None


def _round_note(number: int) -> str:
    return f", round {number}" if number > 1 else ""


def _services(context: Context):
    from reviewer.queue.services import Services

    return Services.open(context.settings)


def _review_id(services, given: str) -> str:
    """A full id, or a unique prefix of one (as printed by bulk and the API)."""
    from reviewer.queue.review_ids import resolve_review_id

    return resolve_review_id(services.store, given)


def run_assess(args: argparse.Namespace, context: Context) -> int:
    import asyncio

    from reviewer.assessment import QuoteInput
    from reviewer.errors import BadInputError
    from reviewer.queue.panel import AssessmentInput

    try:
        quotes = [QuoteInput(page=int(page), quote=text) for page, text in args.quote]
    except ValueError:
        raise BadInputError("--quote takes a page number and the quoted text", code="bad_option") from None
    _check_round(args)
    given = _checked(
        AssessmentInput,
        criterion_id=args.criterion,
        grade=args.grade,
        reason=args.reason,
        note=args.note,
        rejected_citations=args.reject,
        citations=quotes,
        round=args.round,
    )
    if args.api:
        from reviewer.cli import remote

        return remote.run_assess(args, given.model_dump(mode="json", exclude_none=True))
    services = _services(context)
    try:
        review_id = _review_id(services, args.review_id)
        assessment = asyncio.run(services.panel.assess(review_id, _evaluator(args), given))
    finally:
        services.close()
    unverified = sum(1 for c in assessment.citations if not c.verified)
    tail = f" ({unverified} of your quotes not found in the document)" if unverified else ""
    print(
        f"{assessment.evaluator} assessed {assessment.criterion_id} as {assessment.grade.value} "
        f"on {review_id}{_round_note(assessment.round)}{tail}"
    )
    return EXIT_OK


def run_consensus(args: argparse.Namespace, context: Context) -> int:
    import asyncio

    from reviewer.queue.panel import ConsensusInput

    _check_round(args)
    given = _checked(ConsensusInput, grade=args.grade, reason=args.reason, round=args.round)
    if args.api:
        from reviewer.cli import remote

        return remote.run_consensus(args, given.model_dump(mode="json", exclude_none=True))
    services = _services(context)
    try:
        review_id = _review_id(services, args.review_id)
        lead = _evaluator(args)
        leads = context.settings.api.lead_evaluators
        decided = asyncio.run(
            services.panel.set_consensus(review_id, args.criterion, lead, not leads or lead in leads, given)
        )
    finally:
        services.close()
    print(
        f"consensus on {decided.criterion_id}: {decided.grade.value} "
        f"(set by {decided.lead}){_round_note(decided.round)}"
    )
    return EXIT_OK


def run_audit(args: argparse.Namespace, context: Context) -> int:
    if args.api:
        from reviewer.cli import remote

        review_id, events = args.review_id, remote.audit_events(args)
    else:
        review_id, events = _local_audit(args, context)
    if args.format == "json":
        print(json.dumps([e.model_dump(mode="json") for e in events], indent=2))
        return EXIT_OK
    if not events:
        print(f"no events recorded for {review_id}")
    for e in events:
        what = e.action.replace("_", " ")
        criterion = f" {e.criterion_id}" if e.criterion_id else ""
        change = f": {e.change}" if e.change else ""
        print(f"{e.at:%Y-%m-%d %H:%M:%S} UTC  {e.actor}  {what}{criterion}{change}")
    return EXIT_OK


def _local_audit(args: argparse.Namespace, context: Context) -> tuple[str, list]:
    services = _services(context)
    try:  # a deleted review has no job but keeps its events: look the id up as given first
        review_id = args.review_id
        events, total = services.store.events(review_id, limit=10_000)
        if total == 0:
            review_id = _review_id(services, args.review_id)
            events, _ = services.store.events(review_id, limit=10_000)
    finally:
        services.close()
    return review_id, events


def run_agreement(args: argparse.Namespace, context: Context) -> int:
    from reviewer.evaluation.agreement import agreement
    from reviewer.store import JobStatus

    services = _services(context)
    try:
        decided = []
        offset = 0
        while True:
            jobs, total = services.store.list_jobs(JobStatus.DONE, 200, offset)
            for listed in jobs:
                job = services.store.get(listed.id)
                review = services.panel.final(job) if job else None
                if review is not None and review.confirmed_count:
                    decided.append(review)
            offset += len(jobs)
            if not jobs or offset >= total:
                break
    finally:
        services.close()
    rows = agreement(decided)
    if args.format == "json":
        print(json.dumps([{**r.model_dump(), "disagreement_rate": r.disagreement_rate} for r in rows], indent=2))
        return EXIT_OK
    from reviewer.render.wording import plural

    print(f"{plural(len(decided), 'review')} with grades set by people")
    print(f"{'criterion':<28} {'decided':>7} {'overruled':>9} {'rate':>6}")
    for r in rows:
        rate = f"{r.disagreement_rate:.0%}" if r.disagreement_rate is not None else "-"
        print(f"{r.criterion_id:<28} {r.decided:>7} {r.overruled:>9} {rate:>6}")
    return EXIT_OK


def run_reviews(args: argparse.Namespace, context: Context) -> int:
    from reviewer.errors import BadInputError

    if not 1 <= args.limit <= 1000:
        raise BadInputError("--limit must be between 1 and 1000", code="bad_option")
    services = _services(context)
    try:
        jobs, total = services.store.list_jobs(None, args.limit, 0)
    finally:
        services.close()
    from reviewer.queue.results import vendor_for

    for job in jobs:
        vendor = vendor_for(job.file_name, job, None)
        print(f"{job.id}\t{job.status.value}\t{vendor}\t{job.file_name}\t{job.rubric_name}")
    if total > len(jobs):
        note(f"{total - len(jobs)} more not shown (--limit)")
    return EXIT_OK


def run_questions(args: argparse.Namespace, context: Context) -> int:
    from datetime import date

    from reviewer.errors import BadInputError
    from reviewer.output import emit, write_bytes_atomically
    from reviewer.queue.questions import export_questions

    if args.format != "md" and args.output is None:
        raise BadInputError(f"--format {args.format} writes a file: give --output", code="bad_option")
    if args.api:
        from reviewer.cli import remote

        content = remote.questions_document(args)
    else:
        services = _services(context)
        try:
            job = services.store.get(_review_id(services, args.review_id))
            exported = export_questions(
                services.store,
                services.panel,
                services.proposals,
                job,
                _evaluator(args),
                lead=True,
                format=args.format,
                issued_on=date.today(),
            )
        finally:
            services.close()
        content = exported.content
    if args.format == "md":
        emit(content.decode("utf-8"), args.output)
    else:
        write_bytes_atomically(args.output, content)
    return EXIT_OK
