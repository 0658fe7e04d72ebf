"""Every condition reason the controller can set is declared in the catalog, and the docs' tables match it.

The reasons are found in the code, not listed here: every call that binds a parameter named `reason`
(a function's, or a dataclass field's, such as Verdict, Waiting, Run.wait, Run.failed, Claim) is
read, and the value passed must be a catalog constant or a variable carrying one. Event reasons
(Note, Run.note, kopf.event) are a separate vocabulary and are not condition reasons.
"""

from __future__ import annotations

import ast
from collections.abc import Iterator, Mapping
from dataclasses import dataclass
from pathlib import Path

import pytest

from controller.api import reason_docs
from controller.cli import main
from controller.kinds.catalog import KINDS
from controller.status import conditions
from tests.support import REPO

EVENT_ONLY = frozenset({"Note", "note", "event"})  # their `reason` is an Event's, not a condition's
CONDITION_TYPES = frozenset({conditions.READY, conditions.SYNCED})


@dataclass(frozen=True)
class ReasonSite:
    where: str
    value: str  # the reason as it reaches the condition
    literal: bool  # a bare string rather than a constant of controller/status/conditions.py


def reason_parameters(sources: Mapping[str, str]) -> dict[str, int | None]:
    """Callable name → the position of its `reason` parameter (None: keyword only), over all sources."""
    found: dict[str, int | None] = {}
    for text in sources.values():
        for node in ast.walk(ast.parse(text)):
            if isinstance(node, ast.FunctionDef | ast.AsyncFunctionDef) and node.name != "__init__":
                _record(found, node.name, node)
            elif isinstance(node, ast.ClassDef):
                init = next((s for s in node.body if isinstance(s, ast.FunctionDef) and s.name == "__init__"), None)
                fields = [
                    s.target.id for s in node.body if isinstance(s, ast.AnnAssign) and isinstance(s.target, ast.Name)
                ]
                if init is not None:
                    _record(found, node.name, init)
                elif "reason" in fields:  # a dataclass: its fields are its parameters
                    found[node.name] = fields.index("reason")
    return {name: position for name, position in found.items() if name not in EVENT_ONLY}


def _positional(function: ast.FunctionDef | ast.AsyncFunctionDef) -> list[str]:
    return [a.arg for a in (*function.args.posonlyargs, *function.args.args) if a.arg not in ("self", "cls")]


def _record(found: dict[str, int | None], name: str, function: ast.FunctionDef | ast.AsyncFunctionDef) -> None:
    """Note where `name` takes a `reason`: its position, or None when it is keyword-only."""
    positional = _positional(function)
    if "reason" in positional:
        found[name] = positional.index("reason")
    elif "reason" in (a.arg for a in function.args.kwonlyargs):
        found[name] = None


def reason_sites(sources: Mapping[str, str], constants: Mapping[str, object]) -> Iterator[ReasonSite]:
    """Every reason passed where a condition reason is expected, and every conditions constant used as one."""
    parameters = reason_parameters(sources)
    for path, text in sources.items():
        tree = ast.parse(text)
        modules, names = _conditions_imports(tree)
        for node in ast.walk(tree):
            if not isinstance(node, ast.Call):
                continue
            callee = node.func.attr if isinstance(node.func, ast.Attribute) else getattr(node.func, "id", "")
            if callee not in parameters:
                continue
            position = parameters[callee]
            argument = next((k.value for k in node.keywords if k.arg == "reason"), None)
            if argument is None and position is not None and position < len(node.args):
                argument = node.args[position]
            where = f"{path}:{node.lineno}"
            if isinstance(argument, ast.Constant) and isinstance(argument.value, str):
                yield ReasonSite(where, argument.value, literal=True)
            elif isinstance(argument, ast.Attribute) and getattr(argument.value, "id", None) in modules:
                yield ReasonSite(where, str(constants.get(argument.attr, argument.attr)), literal=False)
            elif isinstance(argument, ast.Name) and argument.id in names:
                yield ReasonSite(where, str(constants.get(argument.id, argument.id)), literal=False)


def _conditions_imports(tree: ast.Module) -> tuple[set[str], set[str]]:
    """The names a module binds to controller/status/conditions.py, and the names it imports from it."""
    modules: set[str] = set()
    names: set[str] = set()
    for node in ast.walk(tree):
        if isinstance(node, ast.ImportFrom) and node.module == "controller.status":
            modules |= {alias.asname or alias.name for alias in node.names if alias.name == "conditions"}
        elif isinstance(node, ast.ImportFrom) and node.module == "controller.status.conditions":
            names |= {alias.asname or alias.name for alias in node.names}
    return modules, names


def _controller_sources() -> dict[str, str]:
    return {str(p.relative_to(REPO)): p.read_text() for p in sorted((REPO / "controller").rglob("*.py"))}


def _constants() -> dict[str, object]:
    return {name: value for name, value in vars(conditions).items() if name.isupper()}


SITES = list(reason_sites(_controller_sources(), _constants()))


def test_every_reason_the_code_can_set_is_in_the_catalog() -> None:
    undeclared = [f"{s.where}: {s.value}" for s in SITES if s.value not in conditions.CATALOG]
    assert undeclared == [], "declare these with reason(...) in controller/status/conditions.py"


def test_reasons_are_passed_as_constants_not_bare_strings() -> None:
    assert [f"{s.where}: {s.value!r}" for s in SITES if s.literal] == []


def test_every_declared_reason_is_set_somewhere() -> None:
    """A catalog entry nothing sets is a documented reason a user can never see."""
    assert sorted(set(conditions.CATALOG) - {s.value for s in SITES}) == []


def test_the_scan_sees_the_frame_and_the_kinds() -> None:
    """The scan reads the calls that matter: the shared frame's and a kind's own."""
    parameters = reason_parameters(_controller_sources())
    assert {"Verdict", "Waiting", "wait", "failed", "not_ours", "Reaction", "Claim"} <= set(parameters)
    assert {s.where.split(":")[0] for s in SITES} >= {
        "controller/reconciling/run.py",
        "controller/kinds/servingendpoint/report.py",
        "controller/kinds/workspace/reconcile.py",
    }


@pytest.mark.parametrize(
    ("call", "expected"),
    [
        ('run.wait("WaitingForLunch", "soon")', ("WaitingForLunch", True)),
        ('c.Verdict(False, "Bad", "m")', ("Bad", True)),
        ("c.Verdict(ok=False, reason=c.UNDECLARED, message='m')", ("Undeclared", False)),
        ("Holding(c.Verdict(False, c.NEW_ONE, 'm'))", ("NewOne", False)),
        ("claim(reason=UNDECLARED)", ("Undeclared", False)),
    ],
)
def test_the_scan_catches_an_undeclared_reason(call: str, expected: tuple[str, bool]) -> None:
    source = (
        "from controller.status import conditions as c\n"
        "from controller.status.conditions import UNDECLARED\n"
        "class Verdict:\n    ok: bool\n    reason: str\n"
        "def wait(self, reason, message): ...\n"
        "def claim(*, reason): ...\n"
        f"{call}\n"
    )
    constants = {"UNDECLARED": "Undeclared", "NEW_ONE": "NewOne"}
    sites = [(s.value, s.literal) for s in reason_sites({"x.py": source}, constants)]
    assert sites == [expected]


def test_an_event_reason_is_not_a_condition_reason() -> None:
    source = "class Note:\n    reason: str\n    message: str\nrun.note('Created', 'm')\nNote('Adopted', 'm')\n"
    assert list(reason_sites({"x.py": source}, {})) == []


def test_catalog_entries_name_real_kinds_and_say_what_they_mean() -> None:
    kinds = {kind.kind for kind in KINDS}
    for reason in conditions.CATALOG.values():
        assert reason.kinds, reason.name
        assert set(reason.kinds) <= kinds, reason.name
        assert set(reason.per_kind) <= set(reason.kinds), reason.name
        assert reason.meaning, reason.name
        assert reason.condition.startswith("Ready="), reason.name
        assert reason.name.isalnum(), reason.name
        assert reason.name[0].isupper(), reason.name
    assert not set(conditions.CATALOG) & CONDITION_TYPES


def test_every_declared_reason_is_in_the_troubleshooting_table() -> None:
    page = (REPO / reason_docs.TROUBLESHOOTING).read_text()
    assert [name for name in conditions.CATALOG if f"| `{name}` |" not in page] == []


def test_each_kind_page_lists_its_reasons_in_its_words() -> None:
    for path, kind in reason_docs.pages().items():
        if kind is None:
            continue
        page = (REPO / path).read_text()
        for reason in conditions.CATALOG.values():
            row = f"| `{reason.name}` | {reason.condition} | {reason.meaning_for(kind)} |"
            assert (row in page) == (kind in reason.kinds), f"{path}: {reason.name}"


def test_the_generator_reports_and_rewrites_a_stale_table(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    for path in reason_docs.pages():
        (tmp_path / path).parent.mkdir(parents=True, exist_ok=True)
        (tmp_path / path).write_text((REPO / path).read_text())
    (tmp_path / "argocd").mkdir()
    (tmp_path / "argocd" / "src").symlink_to(REPO / "argocd" / "src")
    assert main(["generate", "--root", str(tmp_path)]) == 0
    assert main(["generate", "--root", str(tmp_path), "--check"]) == 0
    page = tmp_path / reason_docs.TROUBLESHOOTING
    page.write_text(page.read_text().replace("| `WaitingForDependency` |", "| `WaitingForSomething` |"))
    assert main(["generate", "--root", str(tmp_path), "--check"]) == 1
    assert f"stale: {reason_docs.TROUBLESHOOTING} (run `mlopsctl generate`)" in capsys.readouterr().err
    assert main(["crds", "--root", str(tmp_path)]) == 0  # the older name of the same command
    assert reason_docs.table(None) in page.read_text()
    assert main(["generate", "--root", str(tmp_path), "--check"]) == 0


def test_a_page_without_markers_is_named() -> None:
    with pytest.raises(reason_docs.MarkersMissing, match=r"docs/kinds/mljob\.md"):
        reason_docs.with_table("# MLJob\n", "| table |\n", "docs/kinds/mljob.md")
