"""reviewer models list | fetch NAME: the licensed stance models the offline grader can use, and
putting one in place (reviewer.local_models)."""

import argparse
from pathlib import Path

from reviewer.cli.context import EXIT_FAILED, EXIT_OK, Context, note


def add_parsers(sub) -> None:
    models = sub.add_parser("models", help="list or fetch the licensed stance models for the offline grader")
    actions = models.add_subparsers(dest="models_command", required=True)
    actions.add_parser("list", help="the known models, their licences, and which are fetched")
    fetch = actions.add_parser("fetch", help="download a known model (where the network allows)")
    fetch.add_argument("name", help="a name from `reviewer models list`")
    fetch.add_argument("--dir", type=Path, default=None, help="models folder (default: REVIEWER_MODELS_DIR)")
    fetch.add_argument("--force", action="store_true", help="fetch again a model already there")


def run(args: argparse.Namespace, context: Context) -> int:
    grading = context.settings.grading
    models_dir = getattr(args, "dir", None) or grading.resolved_models_dir
    if args.models_command == "list":
        return _list(models_dir)
    return _fetch(args, models_dir, grading.models_base_url)


def _list(models_dir: Path) -> int:
    from reviewer.local_models import KNOWN_MODELS, installed_folder

    for model in KNOWN_MODELS.values():
        folder = installed_folder(models_dir, model.name)
        where = str(folder) if folder else "not fetched"
        print(f"{model.name}\t{model.licence}\t~{model.approximate_mb} MB\t{where}\t{model.about}")
    return EXIT_OK


def _fetch(args: argparse.Namespace, models_dir: Path, base_url: str) -> int:
    from reviewer.grading.stance import StanceModelError, engine_installed, load_stance_model
    from reviewer.local_models import KNOWN_MODELS, fetch_model, unknown_model_error

    if args.name not in KNOWN_MODELS:
        raise unknown_model_error(args.name)
    size = KNOWN_MODELS[args.name].approximate_mb
    note(f"fetching {args.name} (~{size} MB) from {base_url} into {models_dir}")
    folder, source = fetch_model(args.name, models_dir, base_url=base_url, force=args.force)
    total = sum(f.bytes for f in source.files) / 1e6
    revision = f", revision {source.revision}" if source.revision else ""
    unchecked = [f.name for f in source.files if not f.checked_against_hub]
    print(f"fetched {args.name} ({total:.1f} MB{revision}, {source.licence}) into {folder}")
    if unchecked:
        note(f"the server published no SHA-256 for {', '.join(unchecked)}: their sizes and hashes are in SOURCE.json")
    if not engine_installed():
        note("the stance engine is not installed (pip install 'reviewer[local]'); the model is in place for when it is")
        return EXIT_OK
    try:
        model = load_stance_model(folder)
    except StanceModelError as exc:
        note(f"error: the fetched model does not load: {exc.message}")
        return EXIT_FAILED
    except Exception as exc:  # onnxruntime or tokenizers refusing the files
        note(f"error: the fetched model does not load ({type(exc).__name__}: {exc}); fetch it again with --force")
        return EXIT_FAILED
    labels = ", ".join(model.labels) if model else ""
    print(f"loaded: {labels}; use it with REVIEWER_LOCAL_MODEL={args.name}")
    return EXIT_OK
