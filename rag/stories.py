"""Which retrieved articles tell one story: syndicated copies, and a first report and its update.

News comes twice: the same wire story under several outlets' names, and a first report followed
by an update with new figures ("12 dead" on Monday, "death toll rises to 30" on Wednesday). A
digest should give one entry per story (its newest report), and an answer should quote the update
rather than the first report when both answer equally well, showing both dates.

Hand-written because what decides is already at hand and no library takes it: the question's best
sentence of each article, with the vector stored for it at ingestion, and the titles. Topic
detection libraries (BERTopic and the like) cluster a whole collection offline and re-embed it;
here a few articles are compared pairwise, per question, at the cost of a dot product. Two
articles are one story when their titles share most of their words (``same_title``, Jaccard of
analysed terms: a syndicated copy keeps its headline) or their best sentences for the question say
nearly the same thing (``same_sentence``, cosine of the stored vectors: an update restates the
event). :class:`rag.hybrid.FoldDuplicates` has already folded passages with near-identical words.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import replace

import numpy as np

from index.analysis import analyze
from rag.evidence import SentenceEvidence
from rag.hybrid import jaccard
from rag.query import Query
from rag.types import Evidence

UNDATED = "undated"


def day_key(published: str) -> str:
    """The publication instant as a string that sorts in time order ("" when undated):
    "2023-09-14", "2023/09/14" and "2023-09-14T08:00:00Z" all sort as dates."""
    head = published.strip()[:10]
    digits = "".join(ch for ch in head if ch.isdigit())
    if len(digits) != 8:
        return ""
    return digits + published.strip()[10:]


def day_label(published: str) -> str:
    """The date a reader sees: YYYY-MM-DD, or "undated"."""
    key = day_key(published)
    return f"{key[:4]}-{key[4:6]}-{key[6:8]}" if key else UNDATED


def newest_first(items: Sequence[Evidence]) -> list[Evidence]:
    """Dated reports newest first, then the undated ones (each group in the order given)."""
    dated = sorted(
        (e for e in items if day_key(e.passage.published)),
        key=lambda e: day_key(e.passage.published),
        reverse=True,
    )
    return dated + [e for e in items if not day_key(e.passage.published)]


def best_per_article(evidence: Sequence[Evidence]) -> list[Evidence]:
    """Each article's first sentence in ``evidence`` (its best, evidence being best first)."""
    seen: set[str] = set()
    out: list[Evidence] = []
    for e in evidence:
        if e.passage.article_id not in seen:
            seen.add(e.passage.article_id)
            out.append(e)
    return out


def title_terms(title: str) -> frozenset[str]:
    return frozenset(analyze(title)) if title.strip() else frozenset()


class Stories:
    """Tells whether two articles' best sentences belong to one story, and groups them."""

    def __init__(self, sentences: SentenceEvidence, same_sentence: float, same_title: float):
        self.sentences = sentences
        self.same_sentence = same_sentence
        self.same_title = same_title

    def vectors(self, items: Sequence[Evidence]) -> list[np.ndarray | None]:
        """The stored vector of each sentence (None when it is not stored: never the same story
        by sentence then, only by title)."""
        stored = self.sentences.articles(sorted({e.passage.content_hash for e in items}))
        out: list[np.ndarray | None] = []
        for e in items:
            article = stored.get(e.passage.content_hash)
            rows = article.rows if article is not None else []
            i = next((i for i, (_, s, t) in enumerate(rows) if (s, t) == (e.start, e.end)), None)
            out.append(None if i is None or article is None else article.vectors[i])
        return out

    def same(self, a: Evidence, va: np.ndarray | None, b: Evidence, vb: np.ndarray | None) -> bool:
        pa, pb = a.passage, b.passage
        if pa.article_id == pb.article_id or pb.article_id in pa.also_in or pa.article_id in pb.also_in:
            return True
        ta, tb = title_terms(pa.title), title_terms(pb.title)
        if ta and tb and jaccard(ta, tb) >= self.same_title:
            return True
        return va is not None and vb is not None and float(va @ vb) >= self.same_sentence

    def group(self, items: Sequence[Evidence]) -> list[list[Evidence]]:
        """``items`` (one per article, best first) in stories, best story first, each story's
        reports in the order given. An article joins the first story one of whose reports it
        matches."""
        vectors = self.vectors(items)
        stories: list[list[int]] = []
        for i, e in enumerate(items):
            home = next(
                (s for s in stories if any(self.same(items[j], vectors[j], e, vectors[i]) for j in s)), None
            )
            if home is None:
                stories.append([i])
            else:
                home.append(i)
        return [[items[i] for i in s] for s in stories]


class PreferLaterReport:
    """Evidence step: when the best sentence's story has a later report among the evidence whose
    best sentence is as good (within ``margin`` of the best score), the later one is quoted
    first, carrying the first report's date; the first report's sentence is left out (it says the
    same, older). Digest questions are left alone: their timeline groups stories itself."""

    def __init__(self, stories: Stories, margin: float):
        self.stories = stories
        self.margin = margin

    def process(self, query: Query, evidence: list[Evidence]) -> list[Evidence]:
        if not evidence or self.margin < 0 or query.digest:
            return evidence
        top = evidence[0]
        first = day_key(top.passage.published)
        if not first:  # an undated report cannot be told earlier or later
            return evidence
        later = [
            e
            for e in best_per_article(evidence)
            if day_key(e.passage.published) > first and e.score >= top.score - self.margin
        ]
        if not later:
            return evidence
        later = newest_first(later)
        vectors = self.stories.vectors([top, *later])
        chosen = next(
            (e for e, v in zip(later, vectors[1:], strict=True) if self.stories.same(top, vectors[0], e, v)),
            None,
        )
        if chosen is None:
            return evidence
        moved = replace(chosen, first_reported=top.passage.published)
        return [moved, *(e for e in evidence if e is not chosen and e is not top)]
