"""The floors' import rule (docs/architecture.md), checked on the code's own import statements:
index/ imports no other floor; ingest/ and rag/ import index/ only, never each other; nothing
below khabar/ imports khabar/ or the top-level app."""

from __future__ import annotations

import ast
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parent.parent
FLOORS = ("index", "ingest", "rag", "khabar", "app")
ALLOWED = {
    "index": {"index"},
    "ingest": {"index", "ingest"},
    "rag": {"index", "rag"},
    "khabar": {"index", "ingest", "rag", "khabar"},
    "app": {"khabar"},
}
# Storage libraries are index/'s business; the stock eval pipeline is plain llama-index on purpose.
STORAGE = {"chromadb", "sqlite3", "torch"}
STORAGE_EXCEPTIONS = {"khabar/eval/stock.py"}


def imported(path: Path) -> set[str]:
    names: set[str] = set()
    for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
        if isinstance(node, ast.Import):
            names.update(alias.name for alias in node.names)
        elif isinstance(node, ast.ImportFrom) and node.module and not node.level:
            names.add(node.module)
    return names


def sources() -> list[tuple[str, Path]]:
    found = [("app", ROOT / "app.py")]
    for floor in FLOORS[:-1]:
        found += [(floor, p) for p in sorted((ROOT / floor).rglob("*.py"))]
    return found


@pytest.mark.parametrize(("floor", "path"), sources(), ids=lambda x: str(x).replace(str(ROOT) + "/", ""))
def test_imports_point_down_or_sideways_within_a_floor(floor, path):
    wrong = sorted(
        name
        for name in imported(path)
        if name.split(".")[0] in FLOORS and name.split(".")[0] not in ALLOWED[floor]
    )
    assert not wrong, f"{path.relative_to(ROOT)} ({floor}/) must not import {wrong}: see docs/architecture.md"
    if floor != "index" and str(path.relative_to(ROOT)) not in STORAGE_EXCEPTIONS:
        storage = sorted(n for n in imported(path) if n.split(".")[0] in STORAGE)
        assert not storage, f"{path.relative_to(ROOT)} speaks {storage}: only index/ may"


def test_the_rule_catches_a_wrong_import(tmp_path):
    bad = tmp_path / "bad.py"
    bad.write_text("from ingest.pipeline import Ingestor\nimport chromadb\n")
    assert {"ingest.pipeline", "chromadb"} <= imported(bad)
    assert "ingest" not in ALLOWED["rag"] and "khabar" not in ALLOWED["index"]
