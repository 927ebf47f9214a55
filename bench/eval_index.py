"""Where the bench scripts find the eval index they answer from: one pair of options for all.

``--data-dir`` holds the eval indexes (``khabar eval``'s); ``--reuse-index`` answers from a given
one instead of the one named after the articles and the index recipe, as ``khabar eval
--reuse-index`` does (for answering-only changes, which cannot alter what is stored).
"""

from __future__ import annotations

import argparse
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent

DATA = ROOT.parent / "shared" / "data"
SETS = {  # development set -> its distractor corpus (as bench/run_dev.py)
    "xquad-hi-dev": DATA / "corpora" / "bbc-hindi.jsonl",
    "realtimeqa-dev": DATA / "corpora" / "bbc-english.jsonl",
}


def parse_set(value: str) -> tuple[str, int | None]:
    """``SET`` or ``SET=N`` (N: a sample of that many distractors, made by run_dev.py)."""
    name, _, n = value.partition("=")
    if name not in SETS:
        raise argparse.ArgumentTypeError(f"unknown set {name!r} (sets: {', '.join(SETS)})")
    return name, int(n) if n else None


def distractors(name: str, n: int | None) -> Path:
    """The set's distractor corpus, or the sample of ``n`` of them that run_dev.py wrote."""
    if n is None:
        return SETS[name]
    sample = ROOT / "bench" / "out" / "distractors" / f"{SETS[name].stem}-sample{n}.jsonl"
    if not sample.is_file():
        raise SystemExit(f"{sample} is missing: run `python bench/run_dev.py --distractors {name}={n}` first")
    return sample


def add_index_options(parser: argparse.ArgumentParser, per_set: bool = False) -> None:
    parser.add_argument("--data-dir", type=Path, default=ROOT / ".khabar")
    parser.add_argument(
        "--reuse-index",
        nargs="*" if per_set else None,
        default=[] if per_set else "",
        metavar="SET=NAME" if per_set else "NAME",
        help="Answer from this existing eval index (as `khabar eval --reuse-index`).",
    )
