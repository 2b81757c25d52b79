"""The architecture the code promises: shells never import each other, renderers never know the store,
and the core imports no shell."""

import ast
from pathlib import Path

PACKAGE = Path(__file__).resolve().parent.parent / "reviewer"
SHELLS = ("reviewer.cli", "reviewer.api", "reviewer.slack", "reviewer.web")


def module_name(path: Path) -> str:
    parts = path.relative_to(PACKAGE.parent).with_suffix("").parts
    return ".".join(parts[:-1] if parts[-1] == "__init__" else parts)


def imports_of(path: Path) -> set[str]:
    found = set()
    for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
        if isinstance(node, ast.Import):
            found |= {alias.name for alias in node.names}
        elif isinstance(node, ast.ImportFrom) and node.module and node.level == 0:
            found.add(node.module)
    return {name for name in found if name.startswith("reviewer")}


def owner(name: str, prefixes: tuple[str, ...]) -> str | None:
    return next((p for p in prefixes if name == p or name.startswith(p + ".")), None)


def shell_violations(modules: dict[str, set[str]]) -> list[str]:
    """Every import from one shell into another, or from the core into a shell, except in reviewer.server."""
    found = []
    for module, imported_names in modules.items():
        shell = owner(module, SHELLS)
        for imported in imported_names:
            other = owner(imported, SHELLS)
            if other is None or other == shell:
                continue
            if not (module == "reviewer.server" and other in ("reviewer.api", "reviewer.slack", "reviewer.web")):
                found.append(f"{module} imports {imported}")
    return found


def store_violations(modules: dict[str, set[str]]) -> list[str]:
    return [
        f"{module} imports {imported}"
        for module, imported_names in modules.items()
        if module.startswith("reviewer.render")
        for imported in imported_names
        if owner(imported, ("reviewer.store", "reviewer.queue"))
    ]


MODULES = {module_name(p): imports_of(p) for p in PACKAGE.rglob("*.py")}


def test_shells_do_not_import_each_other_and_the_core_imports_no_shell():
    assert shell_violations(MODULES) == [], "shells meet only in reviewer.server"


def test_renderers_do_not_know_the_store():
    assert store_violations(MODULES) == []


def test_the_layout_checks_catch_a_violation():
    """The checks above must be able to fail: an import graph with each kind of violation is caught."""
    graph = {
        "reviewer.slack.bot": {"reviewer.api.uploads", "reviewer.queue.intake"},
        "reviewer.pipeline": {"reviewer.cli.context"},
        "reviewer.server": {"reviewer.api.app", "reviewer.slack.extension"},
        "reviewer.render.slack": {"reviewer.store"},
    }
    assert sorted(shell_violations(graph)) == [
        "reviewer.pipeline imports reviewer.cli.context",
        "reviewer.slack.bot imports reviewer.api.uploads",
    ]
    assert store_violations(graph) == ["reviewer.render.slack imports reviewer.store"]
