"""What the filters offer, read from the collection, and what the user typed into them."""

from __future__ import annotations

import os
import shutil
from collections.abc import Iterable
from dataclasses import asdict, dataclass
from pathlib import Path

from index.records import CollectionStats
from index.store import Index
from ingest.pipeline import IngestReport

# Offered even before an article in them exists: Khabar is Hindi and English first, and a
# filter that cannot be chosen cannot be tried.
BASE_LANGUAGES = ("en", "hi")


@dataclass
class Facets(CollectionStats):
    """What the filters offer: the collection's languages, sources and dates, and its size."""

    @property
    def has_dates(self) -> bool:
        return bool(self.first_date)

    @property
    def language_choices(self) -> list[str]:
        return sorted(set(BASE_LANGUAGES) | set(self.languages))


def read_facets(index: Index) -> Facets:
    """The filter choices and size of an index (an aggregate the index computes)."""
    return Facets(**asdict(index.stats()))


# --- adding articles -------------------------------------------------------------------------


def save_uploads(files: Iterable[str | Path], folder: Path) -> list[Path]:
    """Copy uploaded files into the data directory under their own names.

    Gradio's temporary copies are cleaned away; the ingester records where an article came
    from, so it must be a path that stays. The same name uploaded again replaces the article.
    """
    folder.mkdir(parents=True, exist_ok=True)
    saved: list[Path] = []
    for src in files:
        src = Path(src)
        name = src.name.lstrip(".") or "upload.txt"
        dest = folder / name
        shutil.copyfile(src, dest)
        saved.append(dest)
    return saved


def oversized_upload(files: Iterable[str | Path], max_total: int | None, max_file: int | None) -> str:
    """Why an upload is refused for its size ("" when it is not): one file over ``max_file``
    or all together over ``max_total`` bytes (None: no limit)."""
    sizes = [(Path(f).name, os.path.getsize(f)) for f in files]
    for name, size in sizes:
        if max_file is not None and size > max_file:
            return (
                f"{name} is {_size(size)}, over the limit of {_size(max_file)} a file "
                "(KHABAR_MAX_FILE_BYTES): split it, or ingest it with `khabar ingest` after "
                "raising the limit. Nothing was added."
            )
    total = sum(size for _, size in sizes)
    if max_total is not None and total > max_total:
        return (
            f"The upload is {_size(total)} in {len(sizes)} files, over the limit of "
            f"{_size(max_total)} an upload (KHABAR_MAX_UPLOAD_BYTES): upload fewer files at a "
            "time, or ingest the folder with `khabar ingest`. Nothing was added."
        )
    return ""


def upload_limits(max_total: int | None, max_file: int | None) -> str:
    """The limits as the upload tab states them (" Up to … an upload, … a file.")."""
    parts = [f"{_size(n)} {what}" for n, what in ((max_total, "an upload"), (max_file, "a file")) if n]
    return f" Up to {' and '.join(parts)}." if parts else ""


def _size(n: int) -> str:
    return f"{n / 1e6:,.1f} MB" if n >= 100_000 else f"{n:,} bytes"


RESULT_HEADERS = ["file", "status", "articles", "chunks", "problem", "fix"]


def report_rows(report: IngestReport) -> list[list[str | int]]:
    """One row per file (and one more per further problem), for the result table."""
    rows: list[list[str | int]] = []
    for f in report.files:
        name = Path(f.path).name
        problems = f.problems or [None]
        for i, p in enumerate(problems):
            reason = (f"{p.record}: " if p and p.record else "") + (p.reason if p else "")
            fix = p.fix if p else ""
            if i == 0:
                if not p and f.notes:
                    reason = "; ".join(f.notes)
                rows.append([name, f.status, f.articles, f.chunks, reason, fix])
            else:
                rows.append([name, "", "", "", reason, fix])
    return rows


def report_summary(report: IngestReport) -> str:
    text = (
        f"{report.added} added, {report.updated} updated, {report.unchanged} unchanged, "
        f"{report.duplicates} duplicates stored once; {report.chunks} chunks in {report.seconds:.1f}s."
    )
    if report.problems:
        text += f" {len(report.problems)} problem(s): see the table."
    if report.cancelled:
        text = (
            f"Cancelled. Until then: {text} Files not reached were not read; upload them again to add them."
        )
    return text
