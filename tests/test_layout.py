"""The architecture the code promises: shells never import each other, renderers never know the store,
and the core imports no shell."""

import ast
from pathlib import Path

import pytest

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


MODULES = {module_name(p): imports_of(p) for p in PACKAGE.rglob("*.py")}


@pytest.mark.parametrize("module", sorted(MODULES))
def test_shells_do_not_import_each_other_and_the_core_imports_no_shell(module):
    shell = owner(module, SHELLS)
    for imported in MODULES[module]:
        other = owner(imported, SHELLS)
        if other is None or other == shell:
            continue
        assert module == "reviewer.server" and other in ("reviewer.api", "reviewer.slack"), (
            f"{module} imports {imported}: shells meet only in reviewer.server"
        )


@pytest.mark.parametrize("module", sorted(m for m in MODULES if m.startswith("reviewer.render")))
def test_renderers_do_not_know_the_store(module):
    assert not any(owner(i, ("reviewer.store", "reviewer.queue")) for i in MODULES[module])


def test_the_layout_check_sees_a_violation():
    """The check above must be able to fail: a fake shell module importing another shell is caught."""
    assert owner("reviewer.slack.bot", SHELLS) == "reviewer.slack"
    assert owner("reviewer.api.uploads", SHELLS) == "reviewer.api"
    assert owner("reviewer.apiary", SHELLS) is None
