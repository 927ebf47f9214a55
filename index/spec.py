"""The index recipe: everything that decides what an index stores, in one typed record.

Its fingerprint names what was built, so a stored index is never reused for another recipe: eval
names its indexes by it (with the article files' contents), instead of a hand-kept list of
settings and a version number bumped by hand. The code that turns files into stored records is
part of the recipe too, as a fingerprint of its syntax tree (comments, docstrings and formatting
do not count), so a change to reading, cleaning or chunking is never mistaken for the old index.
"""

from __future__ import annotations

import ast
import hashlib
import importlib.util
import json
from collections.abc import Iterable
from dataclasses import asdict, dataclass
from pathlib import Path


@dataclass(frozen=True)
class IndexSpec:
    embed_model: str
    query_prefix: str
    passage_prefix: str
    max_tokens: int
    chunk_tokens: int
    chunk_overlap_tokens: int
    language_detection: bool
    languages: tuple[str, ...]
    index_titles: bool
    code: str = ""  # code_fingerprint() of the modules that read, clean, chunk and store

    def fingerprint(self) -> str:
        """16 hex digits naming this recipe."""
        key = json.dumps(asdict(self), sort_keys=True, ensure_ascii=False)
        return hashlib.sha256(key.encode()).hexdigest()[:16]

    def describe(self) -> dict[str, object]:
        """The recipe's fields, for reports (the code as its fingerprint)."""
        return {**asdict(self), "languages": list(self.languages)}


def _tree(source: str) -> str:
    """The module's syntax tree without docstrings: what the code does, not how it is written."""
    tree = ast.parse(source)
    for node in ast.walk(tree):
        body = getattr(node, "body", None)
        if (
            isinstance(body, list)
            and body
            and isinstance(body[0], ast.Expr)
            and isinstance(body[0].value, ast.Constant)
            and isinstance(body[0].value.value, str)
        ):
            del body[0]
            if not body:
                body.append(ast.Pass())
    return ast.dump(tree, annotate_fields=False)


def code_fingerprint(modules: Iterable[str]) -> str:
    """Fingerprint of these modules' code (by module name, located but not imported); a package
    name stands for every module file in it."""
    digest = hashlib.sha256()
    for name in sorted(set(modules)):
        spec = importlib.util.find_spec(name)
        if spec is None or spec.origin is None:
            raise ModuleNotFoundError(name)
        origin = Path(spec.origin)
        files = sorted(origin.parent.rglob("*.py")) if origin.name == "__init__.py" else [origin]
        for file in files:
            digest.update(file.name.encode())
            digest.update(_tree(file.read_text(encoding="utf-8")).encode())
    return digest.hexdigest()[:16]
