"""Pure evaluation metrics: answer matching, retrieval ranks, citations, abstention, latency.

Everything here is a small function of plain Python values (no I/O, no model, no global state),
so every number the evaluation harness reports can be checked by hand and unit-tested.

Definitions follow ``shared/data/README.md``: a question is *answered right* when a gold answer
string occurs in the answer after Unicode NFC and case-folding (:func:`answer_contains`); it is
*retrieved right* when a gold article shows up among the top k (:func:`gold_rank`,
:func:`hit_at_k`).
"""

from __future__ import annotations

import math
import re
from collections import Counter
from collections.abc import Hashable, Iterable, Mapping, Sequence
from typing import Any

from index.text import fold, word_tokens

__all__ = [
    "abstention_rates",
    "answer_contains",
    "citation_precision",
    "citation_support",
    "cited_segments",
    "dedupe",
    "first_sentence",
    "gold_rank",
    "group_by",
    "hit_at_k",
    "mean",
    "ndcg_at_k",
    "normalise_answer",
    "percentile",
    "reciprocal_rank",
    "strip_citations",
    "token_f1",
]

# --------------------------------------------------------------------------------------------
# Answers
# --------------------------------------------------------------------------------------------


def normalise_answer(s: str) -> str:
    """NFC, casefold and collapse whitespace, so matching ignores spelling variants, not content.

    Only what the README's "answered right" rule allows is normalised: canonical Unicode form
    (precomposed vs decomposed, e.g. "क़" U+0958 vs U+0915 U+093C), letter case ("Straße" equals
    "STRASSE") and runs of whitespace (line breaks, double spaces, NBSP). Punctuation is kept.
    """
    return " ".join(fold(s).split())


def answer_contains(answer: str, golds: Sequence[str]) -> bool:
    """True when some gold answer occurs (as a substring) in ``answer`` after normalisation.

    Golds that are blank after normalisation are ignored: the empty string occurs in every
    answer and would make any reply count as right. No golds at all -> False. This is plain
    substring containment, as the README defines it, so gold "2" also matches "2024".
    """
    norm_answer = normalise_answer(answer)
    return any(g and g in norm_answer for g in map(normalise_answer, golds))


# Citation markers as the generator writes them: "[1]", "[12]", "[1, 2]", "[1][2]", plus the
# whitespace before them so "Putin [1]." becomes "Putin." rather than "Putin .".
_CITATION = re.compile(r"\s*\[\d+(?:\s*[,;]\s*\d+)*\]")

# A sentence ends at a run of terminators (. ? ! danda double-danda), optionally followed by
# closing quotes/brackets, when that run is followed by whitespace or the end of the line.
# Requiring the whitespace is what keeps "3.5" and "U.S.A" (dot inside a token) together.
_TERMINATOR = re.compile(r"[.?!\u0964\u0965]+[\"'\u201d\u2019\u00bb)\]]*(?=\s|$)")

# Dotted abbreviations of two or more letters: "U.S", "e.g", "i.e" (the final dot is the
# candidate boundary itself, so it is not part of this match).
_DOTTED_ABBREVIATION = re.compile(r"(?:[^\W\d_]\.)+[^\W\d_]")

_CLOSERS = "\"'\u201d\u2019\u00bb)]"

# Titles that are usually followed by a name, so their "." is not taken as a sentence end
# (cost: "... on Main St." at the end of a sentence is merged with the next one).
_TITLES = frozenset({"mr", "mrs", "ms", "dr", "prof", "st", "jr", "sr", "vs", "डॉ"})


def strip_citations(text: str) -> str:
    """Remove citation markers like "[1]" or "[1, 2]" (and the space before them) from ``text``."""
    return _CITATION.sub("", text)


def _is_abbreviation_dot(before: str) -> bool:
    """True when the "." that follows ``before`` ends an abbreviation rather than a sentence."""
    words = before.split()
    if not words:
        return False
    last = words[-1].lstrip("\"'(\u201c\u2018\u00ab[")
    return last.casefold() in _TITLES or _DOTTED_ABBREVIATION.fullmatch(last) is not None


def first_sentence(text: str) -> str:
    """Return the first sentence of an answer, without citation markers.

    Why: some metrics judge only the lead sentence (the direct answer), not the elaboration.

    Rule, kept deliberately simple:

    * citation markers ``[n]`` are removed first, wherever they sit ("Putin. [1]", "Putin [1].");
    * a line break always ends a sentence; blank lines are skipped;
    * otherwise a sentence ends after a run of ``. ? ! । ॥`` (plus closing quotes/brackets)
      that is followed by whitespace or the end of the text. A dot inside a token ("3.5",
      "example.com") is therefore never a boundary;
    * a "." is not a boundary after a dotted abbreviation ("U.S.", "e.g.") or a title
      ("Mr.", "Dr.", "डॉ."), nor when no letter precedes it on the line (list numbers "1.");
    * known misses: a sentence that really ends with "U.S." is merged with the next one, and
      a single initial ("J. K. Rowling") is treated as a sentence end.

    The returned sentence keeps its terminator and has whitespace collapsed; "" when the text
    has no content.
    """
    for line in strip_citations(text).splitlines():
        line = line.strip()
        if not line:
            continue
        for match in _TERMINATOR.finditer(line):
            before = line[: match.start()]
            if not any(ch.isalpha() for ch in before):
                continue
            if match.group().rstrip(_CLOSERS) == "." and _is_abbreviation_dot(before):
                continue
            return " ".join(line[: match.end()].split())
        return " ".join(line.split())
    return ""


def token_f1(prediction: str, golds: Sequence[str]) -> float:
    """SQuAD-style token F1 of ``prediction`` against its best-matching gold answer.

    Tokens come from :func:`index.text.word_tokens` (NFC, casefold, Devanagari-safe), and overlap
    is counted as a multiset, as in SQuAD. Unlike SQuAD's English-only normaliser, English
    articles ("a", "the") are not removed, so the score means the same thing in every
    language. 0.0 when the prediction or every gold has no tokens, or when there are no golds.
    """
    pred_tokens = word_tokens(prediction)
    if not pred_tokens:
        return 0.0
    pred_counts = Counter(pred_tokens)
    best = 0.0
    for gold in golds:
        gold_tokens = word_tokens(gold)
        if not gold_tokens:
            continue
        overlap = sum((pred_counts & Counter(gold_tokens)).values())
        if overlap == 0:
            continue
        precision = overlap / len(pred_tokens)
        recall = overlap / len(gold_tokens)
        best = max(best, 2 * precision * recall / (precision + recall))
    return best


# --------------------------------------------------------------------------------------------
# Retrieval (article level)
# --------------------------------------------------------------------------------------------


def dedupe(ids: Iterable[str]) -> list[str]:
    """Drop repeated ids keeping the first occurrence, so an article has one rank.

    Several passages of one article can be retrieved; without this, an article retrieved three
    times would push the next article down three places and inflate DCG.
    """
    return list(dict.fromkeys(ids))


def gold_rank(retrieved_ids: Sequence[str], gold_ids: Iterable[str], *, unique: bool = True) -> int | None:
    """1-based rank of the first gold article in ``retrieved_ids``; None if none is retrieved.

    By default the list is deduplicated first (article rank: "the gold article is among the
    first k distinct articles"). ``unique=False`` ranks raw positions instead (passage rank: "a
    passage of a gold article is among the top k passages", the README's wording); the two
    differ only when one article fills several of the top slots. No gold ids -> None.
    """
    gold = set(gold_ids)
    ranked = dedupe(retrieved_ids) if unique else list(retrieved_ids)
    for rank, article_id in enumerate(ranked, start=1):
        if article_id in gold:
            return rank
    return None


def _check_k(k: int) -> None:
    if k < 1:
        raise ValueError(f"k must be at least 1, got {k}")


def hit_at_k(rank: int | None, k: int) -> bool:
    """True when a gold article was retrieved at rank ``k`` or better (``rank`` from gold_rank)."""
    _check_k(k)
    return rank is not None and rank <= k


def reciprocal_rank(rank: int | None, k: int = 10) -> float:
    """1/rank, cut off at ``k`` (MRR@k): 0.0 when nothing was retrieved or the rank exceeds k.

    The cut-off keeps the score comparable across runs that retrieve different numbers of
    candidates.
    """
    _check_k(k)
    if rank is None or rank > k:
        return 0.0
    return 1.0 / rank


def ndcg_at_k(retrieved_ids: Sequence[str], gold_ids: Iterable[str], k: int = 10) -> float:
    """Binary-relevance nDCG@k over deduplicated articles; rewards ranking *all* gold articles high.

    DCG = sum over the first k distinct retrieved articles of rel_i / log2(i + 1), with
    rel_i = 1 for a gold article. The ideal DCG places min(len(gold), k) relevant articles at
    the top, so a question with two gold articles scores 1.0 only if both are ranks 1 and 2.
    No gold ids (an unanswerable question) -> 0.0: exclude such questions from the average.
    """
    _check_k(k)
    gold = set(gold_ids)
    if not gold:
        return 0.0
    dcg = sum(
        1.0 / math.log2(i + 1)
        for i, article_id in enumerate(dedupe(retrieved_ids)[:k], start=1)
        if article_id in gold
    )
    ideal = sum(1.0 / math.log2(i + 1) for i in range(1, min(len(gold), k) + 1))
    return dcg / ideal


# --------------------------------------------------------------------------------------------
# Citations
# --------------------------------------------------------------------------------------------


def citation_precision(cited_article_ids: Sequence[str], gold_ids: Iterable[str]) -> float | None:
    """Share of citations that point at a gold article; None when the answer cites nothing.

    Each citation counts, repeats included (citing the same wrong article twice is two wrong
    citations). None rather than 0 for no citations, so "did not cite" is not averaged in as
    "cited badly"; report it separately.
    """
    if not cited_article_ids:
        return None
    gold = set(gold_ids)
    return sum(article_id in gold for article_id in cited_article_ids) / len(cited_article_ids)


_TRAILING_TERMINATORS = re.compile(r"[\s.?!\u0964\u0965]+$")


def citation_support(sentences_with_passages: Sequence[tuple[str, str]]) -> float | None:
    """Share of cited answer sentences that occur verbatim in the passage they cite.

    A strict, model-free check of faithfulness: an extractive sentence is supported when its
    text is literally in the cited passage (after :func:`normalise_answer` on both sides).
    Before comparing, citation markers and the sentence's final terminator run are removed
    from the sentence, since "X [1]." is a quotation of "... X, said Y". Sentences that are
    empty after that are skipped; None when nothing is left to judge.
    """
    judged = 0
    supported = 0
    for sentence, passage in sentences_with_passages:
        claim = normalise_answer(_TRAILING_TERMINATORS.sub("", strip_citations(sentence)))
        if not claim:
            continue
        judged += 1
        supported += claim in normalise_answer(passage)
    return supported / judged if judged else None


# A run of citation markers ("[1]", "[1, 2]", "[1][3]") that closes a claim, with the space before it.
_MARKER_RUN = re.compile(r"\s*(?:\[\d+(?:\s*[,;]\s*\d+)*\])+")
_MARKER_NUMBER = re.compile(r"\d+")
_LEADING_PUNCTUATION = re.compile(r"^[\s.?!,;:\u0964\u0965]+")


def cited_segments(text: str, passages: Mapping[int, str]) -> list[tuple[str, str]]:
    """Split an answer into its claims, each paired with the passage it cites, for :func:`citation_support`.

    Why from the answer text rather than from each citation's own ``sentence``: support must judge
    what the reader is shown. For the extractive answerer the two agree; for a generator they do
    not, and only the text says which words a marker vouches for.

    A claim is the text between one run of markers and the next ("X [1]. Y [2]" gives "X" and
    "Y"; the terminator after a marker is dropped from the next claim's start). ``passages`` maps
    a marker number to its passage text. With several markers ("X [1, 2]") the claim is paired
    with the first cited passage that contains it, so "supported" means "some cited passage says
    this". Text after the last marker, and markers with no known passage, pair with "" (nothing
    cited, so unsupported). Claims that are only punctuation are dropped.
    """
    pairs: list[tuple[str, str]] = []
    position = 0
    for match in _MARKER_RUN.finditer(text):
        claim = _LEADING_PUNCTUATION.sub("", text[position : match.start()])
        position = match.end()
        if not claim.strip():
            continue
        cited = [passages[n] for n in map(int, _MARKER_NUMBER.findall(match.group())) if n in passages]
        key = normalise_answer(_TRAILING_TERMINATORS.sub("", claim))
        chosen = next((p for p in cited if key in normalise_answer(p)), cited[0] if cited else "")
        pairs.append((claim, chosen))
    tail = _LEADING_PUNCTUATION.sub("", text[position:])
    if tail.strip():
        pairs.append((tail, ""))
    return pairs


# --------------------------------------------------------------------------------------------
# Abstention
# --------------------------------------------------------------------------------------------


def abstention_rates(records: Iterable[tuple[bool, bool]]) -> dict[str, float | None]:
    """Decline behaviour from ``(answerable, declined)`` pairs, one per question.

    Returns:
        declined_unanswerable: of unanswerable questions, the share declined (= decline_recall).
        wrongly_declined: of answerable questions, the share declined (over-caution).
        decline_precision: of declined questions, the share that were really unanswerable.
        decline_recall: same as declined_unanswerable.

    Each rate is None when its denominator is zero, so a dev set without unanswerable questions
    does not report a perfect (or a zero) score it never measured.
    """
    answerable = unanswerable = declined_answerable = declined_unanswerable = 0
    for is_answerable, declined in records:
        if is_answerable:
            answerable += 1
            declined_answerable += bool(declined)
        else:
            unanswerable += 1
            declined_unanswerable += bool(declined)
    declined_total = declined_answerable + declined_unanswerable
    recall = declined_unanswerable / unanswerable if unanswerable else None
    return {
        "declined_unanswerable": recall,
        "wrongly_declined": declined_answerable / answerable if answerable else None,
        "decline_precision": declined_unanswerable / declined_total if declined_total else None,
        "decline_recall": recall,
    }


# --------------------------------------------------------------------------------------------
# Aggregation
# --------------------------------------------------------------------------------------------


def percentile(values: Sequence[float], p: float) -> float | None:
    """The p-th percentile (0-100) with linear interpolation, as numpy's default method.

    Position (n - 1) * p / 100 in the sorted values, interpolating between its neighbours.
    Used for latency p50/p95 without pulling numpy into the metrics. None for no values.
    """
    if not 0 <= p <= 100:
        raise ValueError(f"p must be in [0, 100], got {p}")
    if not values:
        return None
    ordered = sorted(values)
    position = (len(ordered) - 1) * p / 100
    lower = math.floor(position)
    upper = min(lower + 1, len(ordered) - 1)
    fraction = position - lower
    return ordered[lower] + (ordered[upper] - ordered[lower]) * fraction


def mean(values: Iterable[float | None]) -> float | None:
    """Arithmetic mean ignoring None entries (metrics that did not apply); None if nothing is left.

    Booleans count as 0/1, so ``mean(hits)`` is a hit rate.
    """
    present = [float(v) for v in values if v is not None]
    return sum(present) / len(present) if present else None


def group_by(
    records: Iterable[dict[str, Any]], keys: tuple[str, ...]
) -> dict[tuple[Hashable, ...], list[dict[str, Any]]]:
    """Group per-question records by the values of ``keys``, for breakdowns (language, source...).

    The group key is the tuple of the records' values for ``keys`` in that order; a record
    without a key (optional fields such as "answerable") falls under None for it. Groups keep
    the order in which they first appear, and records keep their order within a group.
    """
    groups: dict[tuple[Hashable, ...], list[dict[str, Any]]] = {}
    for record in records:
        groups.setdefault(tuple(record.get(key) for key in keys), []).append(record)
    return groups
