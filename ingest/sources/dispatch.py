"""The one entry point for reading a file: ``read_file`` picks the format's reader by suffix.

What holds for every format is checked here, before the reader runs: the suffix is supported and
the file is a regular file (a named pipe would block the read forever, /dev/zero would fill the
memory), is not over the size limit, can be read, is not empty and is not binary. A file that
cannot be read at all raises ``ReadError`` (with the reason and the fix), whatever went wrong
inside its reader: one bad file must never stop a run over a whole collection. Inside a file of
many records (JSON, JSONL, feeds) a bad record is reported in ``ReadResult.problems`` and the
good records are kept.
"""

from __future__ import annotations

import logging
import os
import stat
from collections.abc import Callable
from pathlib import Path

from index.language import DEFAULT_LANGUAGES
from ingest.errors import ReadError
from ingest.sources.discovery import FORMATS_HINT, not_regular
from ingest.sources.feeds import read_feed
from ingest.sources.html_pages import read_html
from ingest.sources.json_records import read_json, read_jsonl
from ingest.sources.plain_text import read_markdown, read_plain
from ingest.sources.source import ReadResult, Source

log = logging.getLogger(__name__)


def read_file(
    path: Path,
    root: Path | None = None,
    detect_language: bool = True,
    languages: tuple[str, ...] = DEFAULT_LANGUAGES,
    max_bytes: int | None = None,
) -> ReadResult:
    """Read one file into articles.

    ``root`` is the folder named on the command line (default: the file's folder); a file's
    default article id is its path relative to it, so ids stay the same across runs and machines.
    ``detect_language`` says whether an article that does not state its language gets the detected
    one (the ``language_detection`` setting, which the caller passes) or is left without one.
    Raises ``ReadError`` when the file as a whole cannot be read. In a file of many records,
    each bad record becomes one of ``problems`` and the others are still read; a file whose
    every record is bad returns no articles and one problem per record. A file of more than
    ``max_bytes`` bytes (the ``max_file_bytes`` setting; None: no limit) is refused unread.
    """
    path = Path(path)
    source = Source(
        path, _file_id(path, root if root is not None else path.parent), detect_language, languages
    )
    reader = _READERS.get(path.suffix.lower())
    if reader is None:
        raise source.error(f"'{path.suffix}' files are not supported", f"{FORMATS_HINT}; convert it")
    data = _read_regular(source, max_bytes)
    if not data.strip():
        raise source.error("the file is empty", "add the article text, or leave the file out")
    if b"\x00" in data and not data.startswith((b"\xff\xfe", b"\xfe\xff")):
        raise source.error(
            "it is a binary file, not text", f"{FORMATS_HINT} as text; convert it, or leave it out"
        )
    try:
        result = reader(source, data)
    except ReadError:
        raise
    except RecursionError as exc:  # a parser's recursion through markup nested thousands deep
        raise source.error(
            "it is nested too deeply to read", "flatten its structure, or leave it out"
        ) from exc
    except Exception as exc:
        log.debug("reading %s failed", path, exc_info=True)
        raise source.error(
            f"reading it failed ({type(exc).__name__}: {exc})",
            "check that its content is what its suffix says; if it is, report the file with this message",
        ) from exc
    if not result.articles and not result.problems:
        raise source.error("no articles found in it", "add at least one article, or leave the file out")
    return result


def _read_regular(source: Source, max_bytes: int | None) -> bytes:
    """The bytes of a regular file of at most ``max_bytes`` bytes, checked before reading.

    Opened without blocking (a named pipe would wait for a writer forever) and checked on the
    open file, so what is read is what was checked; the read stops one byte past the limit, so a
    file growing while it is read cannot run away either.
    """
    try:
        mode = os.stat(source.path).st_mode
        if not stat.S_ISREG(mode):
            raise not_regular(source.path, mode)
        fd = os.open(source.path, os.O_RDONLY | getattr(os, "O_NONBLOCK", 0))
    except OSError as exc:
        raise source.error(
            f"cannot read it ({exc.strerror or exc})", "check that it exists and that you may read it"
        ) from exc
    with os.fdopen(fd, "rb") as f:
        info = os.fstat(f.fileno())
        if not stat.S_ISREG(info.st_mode):
            raise not_regular(source.path, info.st_mode)
        if max_bytes is not None and info.st_size > max_bytes:
            raise _too_large(source, max_bytes)
        try:
            data = f.read() if max_bytes is None else f.read(max_bytes + 1)
        except OSError as exc:
            raise source.error(
                f"cannot read it ({exc.strerror or exc})", "check that the disk and the file are sound"
            ) from exc
    if max_bytes is not None and len(data) > max_bytes:
        raise _too_large(source, max_bytes)
    return data


def _too_large(source: Source, max_bytes: int) -> ReadError:
    return source.error(
        f"it is over the limit of {max_bytes:,} bytes a file",
        "split it into smaller files, or raise the limit (the max_file_bytes setting)",
    )


def _file_id(path: Path, root: Path) -> str:
    absolute, base = Path(os.path.abspath(path)), Path(os.path.abspath(root))
    try:
        return absolute.relative_to(base).as_posix()
    except ValueError:
        return absolute.as_posix()


_READERS: dict[str, Callable[[Source, bytes], ReadResult]] = {
    ".txt": read_plain,
    ".md": read_markdown,
    ".html": read_html,
    ".htm": read_html,
    ".json": read_json,
    ".jsonl": read_jsonl,
    ".xml": read_feed,
    ".rss": read_feed,
    ".atom": read_feed,
}
