"""The file being read, as every format reader sees it, and what reading it gives.

Shared by the format readers so that they name articles, report problems, decode bytes and
fill in an article's path and language the same way; whether an unstated language is detected
comes with the source (the caller's choice), not from global settings.
"""

from __future__ import annotations

import os
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from index.language import DEFAULT_LANGUAGES, detect_language, normalise_language
from index.records import Article
from ingest.errors import ReadError


@dataclass
class ReadResult:
    """What one file gave: its articles, and the records in it that could not be read."""

    articles: list[Article] = field(default_factory=list)
    problems: list[ReadError] = field(default_factory=list)


@dataclass
class Source:
    """The file being read, and the names its articles get."""

    path: Path
    file_id: str  # path relative to the root, POSIX: the id of a one-article file
    detect_language: bool = True  # detect the language of an article that does not state it
    languages: tuple[str, ...] = DEFAULT_LANGUAGES  # the candidates the detector chooses among

    @property
    def name(self) -> str:
        return str(self.path)

    def error(self, reason: str, fix: str, record: str | None = None) -> ReadError:
        return ReadError(self.name, reason, fix, record)

    def decode(self, data: bytes) -> str:
        """UTF-8 (with or without BOM), or UTF-16 with a BOM (Windows "Unicode"); nothing else.

        No guessing of legacy encodings: on short texts charset detectors guess wrong (a Latin-1
        French sentence comes out as cp1250) and the mojibake would be indexed silently.
        """
        try:
            if data.startswith((b"\xff\xfe", b"\xfe\xff")):
                return data.decode("utf-16")
            return data.decode("utf-8-sig")
        except UnicodeDecodeError as exc:
            raise self.error(
                f"it is not UTF-8 text (byte 0x{data[exc.start]:02X} at offset {exc.start})",
                "save the file as UTF-8 (e.g. `iconv -f latin1 -t utf-8 old.txt > new.txt`)",
            ) from exc

    def article(self, /, **fields: Any) -> Article:
        """An Article with the path filled in and the language normalised or detected."""
        language = normalise_language(fields.pop("language", "") or "")
        if not language and self.detect_language:
            language = detect_language(fields["text"], self.languages)
        return Article(language=language, path=os.path.abspath(self.path), **fields)
