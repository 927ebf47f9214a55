"""Finding the files to read: the formats Khabar reads, and every such file under the given paths.

Apart from the reading because callers list a whole collection first: every named path is checked
before any file is read, so a mistyped path or an unsupported file fails before any work is done.

A walk stays inside the folder it was given: a link whose target lies outside it (a planted link
to /etc/passwd named "news.txt", a link to the whole disk) is reported, not followed, and so are
link loops, dangling links and folders that cannot be listed; the walk goes on past each.
"""

from __future__ import annotations

import errno
import os
import stat
from collections.abc import Callable, Iterable, Iterator
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


ProblemSink = Callable[[ReadError], None]


def iter_sources(paths: Iterable[Path], on_problem: ProblemSink | None = None) -> Iterator[tuple[Path, Path]]:
    """(file, root) for every readable file under ``paths``, each file once.

    Folders are walked in sorted order, skipping hidden files and folders and files of other
    formats. A file named explicitly must have a supported suffix; a link named explicitly is
    followed (the user chose it). All named paths are checked before anything is yielded, so a
    typo fails before any work is done. What the walk meets that cannot be read safely (see the
    module docstring) goes to ``on_problem`` and the walk goes on; without it, it is raised.
    """
    named: list[Path] = []
    for path in paths:
        mode = _mode(path)
        if stat.S_ISDIR(mode):
            named.append(path)
        elif stat.S_ISREG(mode):
            if path.suffix.lower() not in SUPPORTED_SUFFIXES:
                kind = f"'{path.suffix}' files are" if path.suffix else "files without a suffix are"
                raise ReadError(
                    str(path), f"{kind} not supported", f"{FORMATS_HINT}; convert it or leave it out"
                )
            named.append(path)
        else:
            raise not_regular(path, mode)
    seen: set[str] = set()
    for path in named:
        pairs = _walk(path, on_problem or _raise) if path.is_dir() else iter([(path, path.parent)])
        for file, root in pairs:
            key = os.path.abspath(file)
            if key not in seen:
                seen.add(key)
                yield file, root


def iter_files(paths: list[Path], on_problem: ProblemSink | None = None) -> Iterator[Path]:
    """Every readable file under ``paths`` (see ``iter_sources``, which also gives each root)."""
    for file, _root in iter_sources(paths, on_problem):
        yield file


def special_kind(mode: int) -> str:
    """What a file that is not a regular file is, in words ("a named pipe")."""
    for test, kind in (
        (stat.S_ISFIFO, "a named pipe"),
        (stat.S_ISCHR, "a character device"),
        (stat.S_ISBLK, "a block device"),
        (stat.S_ISSOCK, "a socket"),
        (stat.S_ISDIR, "a folder"),
    ):
        if test(mode):
            return kind
    return "a special file"


def not_regular(path: Path, mode: int) -> ReadError:
    """The refusal of a special file: a named pipe blocks the read forever, a device never ends."""
    return ReadError(
        str(path),
        f"it is {special_kind(mode)}, not a regular file",
        "Khabar reads regular files only; save the content to a file, or leave it out",
    )


def unreachable(path: Path, err: OSError) -> ReadError:
    """Why ``path`` could not be looked at, from the error of its ``stat``."""
    if err.errno == errno.ELOOP:
        return ReadError(str(path), "it is a link that loops back on itself", "fix the link, or remove it")
    if err.errno in (errno.ENOENT, errno.ENOTDIR):
        if os.path.islink(path):
            return ReadError(
                str(path),
                f"it is a link to {os.readlink(path)}, which does not exist",
                "fix the link, or remove it",
            )
        return ReadError(str(path), "no such file or folder", "check the path")
    return ReadError(
        str(path),
        f"cannot reach it ({err.strerror or err})",
        "check that you may read it and the folders above it",
    )


def _mode(path: Path) -> int:
    try:
        return os.stat(path).st_mode
    except OSError as err:
        raise unreachable(path, err) from err


def _raise(problem: ReadError) -> None:
    raise problem


def _walk(folder: Path, on_problem: ProblemSink) -> Iterator[tuple[Path, Path]]:
    inside = os.path.realpath(folder)

    def unlistable(err: OSError) -> None:
        where = err.filename or str(folder)
        on_problem(
            ReadError(
                str(where),
                f"cannot read the folder ({err.strerror or err})",
                "check that you may read it (its permissions), or leave it out",
            )
        )

    for dirpath, dirnames, filenames in os.walk(folder, onerror=unlistable):
        # os.walk does not enter linked folders; one that points out of the folder is said so.
        for name in sorted(dirnames):
            path = Path(dirpath) / name
            if not name.startswith(".") and os.path.islink(path):
                if (problem := _link_problem(path, inside)) is not None:
                    on_problem(problem)
        dirnames[:] = sorted(d for d in dirnames if not d.startswith("."))
        for name in sorted(filenames):
            if name.startswith(".") or Path(name).suffix.lower() not in SUPPORTED_SUFFIXES:
                continue
            path = Path(dirpath) / name
            if os.path.islink(path) and (problem := _link_problem(path, inside)) is not None:
                on_problem(problem)
                continue
            yield path, folder


def _link_problem(link: Path, inside: str) -> ReadError | None:
    """Why the link found in a walk of the folder ``inside`` (resolved) is not followed, or None."""
    try:
        target = os.path.realpath(link, strict=True)
    except OSError as err:
        return unreachable(link, err)
    if os.path.commonpath([inside, target]) != inside:
        return ReadError(
            str(link),
            f"it is a link to {target}, outside the folder being ingested",
            "links are followed only inside the folder; copy the file in, or name it on the command line",
        )
    return None
