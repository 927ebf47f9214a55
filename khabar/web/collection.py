"""What the filters offer, read from the collection, and what the user typed into them."""

from __future__ import annotations

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
    return text
