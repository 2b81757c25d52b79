"""reviewer schema (the Review JSON Schema) and reviewer rubrics (the rubrics a run can use, or one checked)."""

import argparse
import json
from pathlib import Path

from reviewer.cli.context import EXIT_OK, Context


def add_parsers(sub) -> None:
    sub.add_parser("schema", help="print the Review JSON Schema")
    rubrics = sub.add_parser("rubrics", help="list the rubrics (bundled and REVIEWER_RUBRICS_DIR), or check a file")
    rubrics.add_argument("--check", type=Path, default=None, help="validate this rubric file and exit")


def run_schema(_: argparse.Namespace, __: Context) -> int:
    from reviewer.review import Review

    print(json.dumps(Review.model_json_schema(), indent=2))
    return EXIT_OK


def run_rubrics(args: argparse.Namespace, context: Context) -> int:
    from reviewer.rubric import RubricCatalog, load_rubric_file

    if args.check:
        rubric = load_rubric_file(args.check)
        print(f"{args.check}: ok ({rubric.id} v{rubric.version}, {len(rubric.criteria)} criteria)")
        return EXIT_OK
    catalog = RubricCatalog.from_settings(context.settings)
    for name in catalog.names():
        rubric = catalog.load(name)
        print(f"{name}\t{rubric.id} v{rubric.version}\t{len(rubric.criteria)} criteria\t{rubric.title}")
    return EXIT_OK
