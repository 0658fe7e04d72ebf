"""`mlopsctl validate`: every problem kubectl or the API server would find, at its file, line and column.

The corpus in manifests/ pairs each manifest with the exact lines it must print (`<name>.expected`):
nothing missing, nothing extra.
"""

from __future__ import annotations

import random
import re
from pathlib import Path
from typing import Any

import pytest
import yaml
from pydantic import model_validator

from controller.api import openapi, rules, validation
from controller.api.crd import GROUP, VERSION, KindDefinition, structural_schema
from controller.api.validation import validate_paths, validate_text
from controller.cli import main
from controller.kinds.catalog import KINDS
from controller.kinds.workspace.model import WorkspaceSpec, WorkspaceStatus
from tests.support import EXAMPLES

CORPUS = Path(__file__).parent / "manifests"
CASES = sorted(CORPUS.glob("*.yaml"))
LINE = re.compile(r"\d+:\d+: \S.*")


def test_examples_are_valid(capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["validate", str(EXAMPLES)]) == 0
    assert capsys.readouterr().err == ""


@pytest.mark.parametrize("manifest", CASES, ids=[case.name for case in CASES])
def test_each_manifest_prints_exactly_its_expected_problems(
    manifest: Path, capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.chdir(CORPUS)
    expected = manifest.with_suffix(".expected").read_text().splitlines()
    code = main(["validate", manifest.name])
    assert capsys.readouterr().err.splitlines() == expected
    assert code == (1 if expected else 0)


def test_a_folder_reports_every_file_whatever_the_files_before_it_hold(
    capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.chdir(CORPUS)
    expected = [line for case in CASES for line in case.with_suffix(".expected").read_text().splitlines()]
    assert main(["validate", "."]) == 1
    assert capsys.readouterr().err.splitlines() == expected


HOSTILE: list[tuple[str, bytes, str]] = [
    ("binary", b"kind: MLModel\n\x89PNG\r\n\x1a\n\xff\xfe", "2:1: not UTF-8 text (byte 0x89); kubectl reads UTF-8"),
    ("utf-16", "kind: MLModel\n".encode("utf-16"), "1:1: not UTF-8 text (byte 0xff); kubectl reads UTF-8"),
    ("control character", b"a: b\nc: d\x00", "2:5: not valid YAML: character #x0000 is not allowed"),
    ("deep flow nesting", b"a: " + b"[" * 5000 + b"]" * 5000, "1:103: nested more than 100 levels deep"),
    (
        "deep block nesting",
        b"".join(b"  " * level + b"k:\n" for level in range(3000)),
        "101:201: nested more than 100 levels deep",
    ),
    (
        "alias bomb",
        b"a: &a [x,x,x,x,x,x,x,x,x,x]\n"
        + b"".join(b"%c: &%c [%s]\n" % (98 + i, 98 + i, b",".join([b"*%c" % (97 + i)] * 10)) for i in range(9)),
        "1:1: more than 200000 values (aliases expanded); not checked further",
    ),
    ("a million digits", b"a: " + b"9" * 1_000_000, "1:4: a: Invalid value: 999999999999999999999999999999..."),
    ("garbage", b"{[}]: - ? : &&& ** !!!\n\t\tx", "1:3: not valid YAML: expected the node content"),
]


@pytest.mark.parametrize(("content", "expected"), [c[1:] for c in HOSTILE], ids=[c[0] for c in HOSTILE])
def test_hostile_input_is_one_clear_line_and_the_next_file_is_still_checked(
    tmp_path: Path, content: bytes, expected: str
) -> None:
    hostile, after = tmp_path / "a.yaml", tmp_path / "b.yaml"
    hostile.write_bytes(content)
    after.write_text(f"apiVersion: {GROUP}/{VERSION}\nkind: MLModel\nmetadata: {{name: x}}\n")
    lines = validate_paths([hostile, after, tmp_path / "missing.yaml"])
    assert lines[0].startswith(f"{hostile}:{expected}")
    assert lines[1:] == [
        f"{after}:1:1: spec: Required value",
        f"{tmp_path / 'missing.yaml'}: no such file or directory",
    ]


def test_an_object_larger_than_etcd_stores_is_refused() -> None:
    job = f"apiVersion: {GROUP}/{VERSION}\nkind: MLJob\nmetadata: {{name: big}}\nspec:\n  workspaceRef: {{name: w}}\n"
    settings = "  settings:\n    name: big\n    tasks: [{task_key: a}]\n    description: "
    assert validate_text(job + settings + "x" * 1_500_000) == []
    (line,) = validate_text(job + settings + "x" * 1_600_000)
    assert re.fullmatch(r"1:1: Too long: 16\d{5} bytes as JSON; etcd stores at most 1572864 per object", line)


def test_random_and_mangled_yaml_never_crash_validate() -> None:
    """A little fuzzing: token soup, valid manifests with bytes flipped or lines repeated, and random values
    dropped into a valid spec. Every answer is a list of `line:column: problem` lines, none an internal error."""
    generator = random.Random(8)
    seeds = [path.read_text() for path in sorted(EXAMPLES.rglob("*.yaml"))] + [case.read_text() for case in CASES]
    for round_number in range(300):
        text = [_token_soup, _mangled, _random_values][round_number % 3](generator, seeds)
        lines = validate_text(text)
        assert all(LINE.fullmatch(line) for line in lines), (text, lines)
        assert not any("mlopsctl validate failed" in line for line in lines), (text, lines)


TOKENS = [
    "{", "}", "[", "]", ": ", ":", "- ", "? ", ", ", "&a ", "*a", "&b ", "*b", "!!int ", "!!binary ", "!Ref ",
    "<<: ", "---\n", "...\n", "\n", "  ", "\t", "'", '"', "# c\n", "|\n", ">-\n", "9" * 40, "-0x", ".inf",
    "~", "y", "n", "key", "1e3", "0o17", "2024-01-01", "apiVersion: mlops.gitops.dev/v1alpha1\n",
    "kind: MLModel\n", "kind: MLJob\n", "metadata: {name: x}\n", "spec:\n", "  tasks:\n", "\x00", "\u2028",
    "é", "%YAML 1.1\n", "%TAG !e! tag:example.com,2000:\n", "!e!x ", "\ufeff", "\r\n", "\\", "\"k\\n\\u2028\": ",
]  # fmt: skip


def _token_soup(generator: random.Random, seeds: list[str]) -> str:
    return "".join(generator.choice(TOKENS) for _ in range(generator.randint(1, 60)))


def _mangled(generator: random.Random, seeds: list[str]) -> str:
    text = list(generator.choice(seeds))
    for _ in range(generator.randint(1, 8)):
        position = generator.randrange(len(text) + 1)
        action = generator.choice(["delete", "insert", "repeat line"])
        if action == "delete" and text:
            del text[min(position, len(text) - 1)]
        elif action == "insert":
            text.insert(position, generator.choice(TOKENS))
        else:
            lines = "".join(text).splitlines(keepends=True)
            line = generator.randrange(len(lines))
            text = list("".join(lines[: line + 1] + lines[line:]))
    return "".join(text)


def _random_values(generator: random.Random, seeds: list[str]) -> str:
    documents = [d for d in yaml.safe_load_all(generator.choice(seeds[: len(list(EXAMPLES.rglob("*.yaml")))])) if d]
    document = generator.choice(documents)
    node: Any = document
    while isinstance(node, dict | list) and node and generator.random() < 0.8:
        key = generator.choice(list(node)) if isinstance(node, dict) else generator.randrange(len(node))
        if not isinstance(node[key], dict | list) or generator.random() < 0.3:
            node[key] = _random_value(generator, depth=0)
            break
        node = node[key]
    return yaml.safe_dump(document)


def _random_value(generator: random.Random, depth: int) -> Any:
    choices: list[Any] = [
        None, True, 0, -1, 2**63, -(2**63) - 1, 2**64, 10**40, 1.5, "", "x" * 300, "Ü", "v1", "latest", "a b",
    ]  # fmt: skip
    if depth < 3:
        choices += [
            [_random_value(generator, depth + 1) for _ in range(generator.randint(0, 3))],
            {generator.choice(["name", "task_key", "x", "modelRef"]): _random_value(generator, depth + 1)},
        ]
    return generator.choice(choices)


@pytest.mark.parametrize("kind", KINDS, ids=[k.kind for k in KINDS])
def test_every_keyword_of_the_generated_schemas_is_one_validate_checks(kind: KindDefinition) -> None:
    """A new kind of constraint in a model must be taught to `mlopsctl validate` before it ships."""
    for node in _schema_nodes(structural_schema(kind.spec)):
        assert set(node) <= openapi.CHECKED_KEYWORDS, set(node) - openapi.CHECKED_KEYWORDS
        for rule in node.get("x-kubernetes-validations", []):
            assert set(rule) <= rules.CHECKED_RULE_KEYS, rule


def test_a_rule_only_the_controllers_model_holds_is_reported_too(monkeypatch: pytest.MonkeyPatch) -> None:
    class PickySpec(WorkspaceSpec):
        @model_validator(mode="after")
        def _no_local_servers(self) -> PickySpec:
            if self.mlflow and "localhost" in self.mlflow.tracking_uri:
                raise ValueError("a controller in a cluster cannot reach localhost")
            return self

    picky = KindDefinition(
        "Picky", "pickies", (), "A kind whose model says more than its CRD.", PickySpec, WorkspaceStatus
    )
    monkeypatch.setitem(validation._BY_KIND, "Picky", picky)
    text = f"apiVersion: {GROUP}/{VERSION}\nkind: Picky\nmetadata: {{name: x}}\nspec:\n  mlflow:\n    trackingUri: http://localhost:5000\n"
    assert validate_text(text) == [
        "4:1: spec: Value error, a controller in a cluster cannot reach localhost "
        "(the API server accepts this, but the controller refuses it)"
    ]


def test_a_document_already_read_is_checked_the_same_way() -> None:
    document = {"apiVersion": f"{GROUP}/{VERSION}", "kind": "MLModel", "metadata": {"name": "x"}}
    document["spec"] = {"workspaceRef": {"name": "w"}, "registeredName": "fraud", "aliases": {"champion": 2**64}}
    assert validation.validate_document(document) == [
        "spec.aliases.champion: Invalid value: 18446744073709551616: integers must fit in 64 bits"
    ]


def _schema_nodes(node: dict[str, Any]) -> list[dict[str, Any]]:
    found = [node]
    for child in (node.get("properties") or {}).values():
        found += _schema_nodes(child)
    for key in ("items", "additionalProperties"):
        if isinstance(node.get(key), dict):
            found += _schema_nodes(node[key])
    return found
