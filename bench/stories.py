"""How often two *different* stories would be taken for one by the story rule (``rag/stories.py``).

No dated set of first reports and their updates is at hand, so the story thresholds
(``story_sentence_similarity``, ``story_title_overlap``) are hand-set; this measures the side that
can be measured: over BBC English articles (titles, no dates), digest questions made from a
sampled article's headline ("What is the latest on <first six words>?") are asked, and for the
best sentences of the top eight articles of each, every pair with different headlines gives a
cosine and a headline word overlap. The share of those pairs at or above each threshold is how
often two stories would be folded into one timeline entry. Also reported: how many timelines hold
the article whose headline was asked about.

    python bench/stories.py [--articles 500] [--questions 80] [--data-dir DIR]

Needs ``../shared/data``; prints its figures (the ingest of 500 articles takes a while on a
shared machine: ``--data-dir`` keeps the index for a second run).
"""

from __future__ import annotations

import argparse
import itertools
import json
import random
import sys
import tempfile
from pathlib import Path

import numpy as np

ROOT = Path(__file__).resolve().parent.parent
DATA = ROOT.parent / "shared" / "data" / "corpora" / "bbc-english.jsonl"


def main() -> None:
    sys.path.insert(0, str(ROOT))
    from khabar import components
    from khabar.settings import Settings
    from rag.hybrid import jaccard
    from rag.stories import best_per_article, title_terms

    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--articles", type=int, default=500)
    parser.add_argument("--questions", type=int, default=80)
    parser.add_argument("--data-dir", type=Path, default=None)
    args = parser.parse_args()
    if not DATA.is_file():
        sys.exit(f"{DATA} is absent (development data lives beside the project)")
    rows = [json.loads(line) for line in DATA.open(encoding="utf-8")]
    rng = random.Random(7)
    sample = rng.sample(rows, args.articles)
    base = args.data_dir or Path(tempfile.mkdtemp(prefix="khabar-stories-"))
    settings = Settings(data_dir=base / "data")
    if not (base / "data").exists():
        (base / "in").mkdir(parents=True, exist_ok=True)
        with (base / "in" / "bbc.jsonl").open("w", encoding="utf-8") as f:
            for i, r in enumerate(sample):
                f.write(json.dumps({**r, "id": f"{r['id']}-{i}"}) + "\n")
        ingestor = components.ingestor(settings)
        try:
            ingestor.ingest([base / "in"])
        finally:
            ingestor.close()
    qa = components.service(settings, warm_up=False)
    stories = components.stories(settings, qa.evidence)
    cosines, overlaps = [], []
    hits = entries = declined = 0
    questions = rng.sample(sample, args.questions)
    for r in questions:
        question = f"What is the latest on {' '.join(r['title'].split()[:6])}?"
        found = qa.search(question)
        heads = best_per_article(qa.evidence_for(found, found.passages))[:8]
        for (a, va), (b, vb) in itertools.combinations(zip(heads, stories.vectors(heads), strict=True), 2):
            if va is None or vb is None or a.passage.title == b.passage.title:
                continue
            cosines.append(float(va @ vb))
            overlaps.append(jaccard(title_terms(a.passage.title), title_terms(b.passage.title)))
        answer = qa.ask(question)
        declined += answer.declined
        entries += len(answer.citations)
        hits += r["title"] in {c.title for c in answer.citations}
    cos, over = np.array(cosines), np.array(overlaps)
    print(f"pairs of different headlines: {len(cos)} (from {len(questions)} digest questions)")
    for q in (50, 90, 99):
        print(f"  best-sentence cosine p{q}: {np.percentile(cos, q):.3f}")
    for t in (0.88, 0.90, 0.92, 0.94):
        print(f"  share with cosine >= {t}: {(cos >= t).mean():.4f}")
    for t in (0.4, 0.5, 0.6):
        print(f"  share with headline overlap >= {t}: {(over >= t).mean():.4f}")
    answered = len(questions) - declined
    print(
        f"timelines: {answered} of {len(questions)} answered, {entries / max(1, answered):.2f} entries on "
        f"average, {hits} hold the article whose headline was asked about"
    )


if __name__ == "__main__":
    main()
