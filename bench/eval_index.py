"""Where the bench scripts find the eval index they answer from: one pair of options for all.

``--data-dir`` holds the eval indexes (``khabar eval``'s); ``--reuse-index`` answers from a given
one instead of the one named after the articles and the index recipe, as ``khabar eval
--reuse-index`` does (for answering-only changes, which cannot alter what is stored).
"""

from __future__ import annotations

import argparse
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent


def add_index_options(parser: argparse.ArgumentParser, per_set: bool = False) -> None:
    parser.add_argument("--data-dir", type=Path, default=ROOT / ".khabar")
    parser.add_argument(
        "--reuse-index",
        nargs="*" if per_set else None,
        default=[] if per_set else "",
        metavar="SET=NAME" if per_set else "NAME",
        help="Answer from this existing eval index (as `khabar eval --reuse-index`).",
    )
