"""Finding the files to read: the formats Khabar reads, and every such file under the given paths.

Apart from the reading because callers list a whole collection first: every named path is checked
before any file is read, so a mistyped path or an unsupported file fails before any work is done.
"""

from __future__ import annotations

import os
from collections.abc import Iterable, Iterator
from pathlib import Path

from ingest.errors import ReadError

FORMATS = {
    ".txt": "plain text",
    ".md": "Markdown",
    ".html": "HTML page",
    ".htm": "HTML page",
    ".json": "JSON article or list of articles",
    ".jsonl": "JSON Lines, one article a line",
    ".xml": "RSS or Atom feed",
    ".rss": "RSS feed",
    ".atom": "Atom feed",
}
SUPPORTED_SUFFIXES = frozenset(FORMATS)
FORMATS_HINT = "Khabar reads " + ", ".join(sorted(SUPPORTED_SUFFIXES))


def iter_sources(paths: Iterable[Path]) -> Iterator[tuple[Path, Path]]:
    """(file, root) for every readable file under ``paths``, each file once.

    Folders are walked in sorted order, skipping hidden files and folders and files of other
    formats. A file named explicitly must have a supported suffix. All named paths are checked
    before anything is yielded, so a typo fails before any work is done.
    """
    named: list[Path] = []
    for path in paths:
        if path.is_dir():
            named.append(path)
        elif path.is_file():
            if path.suffix.lower() not in SUPPORTED_SUFFIXES:
                kind = f"'{path.suffix}' files are" if path.suffix else "files without a suffix are"
                raise ReadError(
                    str(path), f"{kind} not supported", f"{FORMATS_HINT}; convert it or leave it out"
                )
            named.append(path)
        else:
            raise ReadError(str(path), "no such file or folder", "check the path")
    seen: set[str] = set()
    for path in named:
        pairs = _walk(path) if path.is_dir() else iter([(path, path.parent)])
        for file, root in pairs:
            key = os.path.abspath(file)
            if key not in seen:
                seen.add(key)
                yield file, root


def iter_files(paths: list[Path]) -> Iterator[Path]:
    """Every readable file under ``paths`` (see ``iter_sources``, which also gives each root)."""
    for file, _root in iter_sources(paths):
        yield file


def _walk(folder: Path) -> Iterator[tuple[Path, Path]]:
    for dirpath, dirnames, filenames in os.walk(folder):
        dirnames[:] = sorted(d for d in dirnames if not d.startswith("."))
        for name in sorted(filenames):
            if not name.startswith(".") and Path(name).suffix.lower() in SUPPORTED_SUFFIXES:
                yield Path(dirpath) / name, folder
