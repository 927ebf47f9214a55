"""A gold answer's counterpart in the other script: "100" and "१००", "two lakh" and "दो लाख",
"Dhruv Jurel" and "ध्रुव जुरेल".

Why: a generated answer is written in the question's language, often about an article in the
other one, so the gold string (taken from the article or from the question's side) may be there
only in the other script. Plain containment would call such an answer wrong. The matching reuses
the retrieval's own bridge (:mod:`index.bridge`): numbers compared by value, names by consonant
skeleton. It is deliberately strict: every number of the gold and every content word of it must
be found in the answer, so only names and numbers cross scripts, never translated words ("मई" is
not "May").
"""

from __future__ import annotations

from collections.abc import Sequence

import regex

from index.bridge import ALONE_NOT_A_NUMBER, NameBridge, numbers
from index.stopwords import STOPWORDS
from index.text import fold, word_tokens
from khabar.eval.metrics import answer_contains

__all__ = ["answer_contains_any_script", "counterpart_in"]

_DEVANAGARI = regex.compile(r"[\u0900-\u097f]")
# Numerals whole ("10.58", "1,00,000"), then words: word_tokens would cut "10.58" in two.
_TOKEN = regex.compile(r"\d+(?:[,.]\d+)*|[\p{L}\p{M}]+")


def _number_runs(tokens: Sequence[str]) -> tuple[list[list[str]], list[str]]:
    """The gold's runs of adjacent number words or numerals ("2 लाख", "two hundred"), and its
    other words."""
    runs: list[list[str]] = []
    others: list[str] = []
    in_run = False
    for token in tokens:
        if numbers(token) or token in ALONE_NOT_A_NUMBER:
            if in_run:
                runs[-1].append(token)
            else:
                runs.append([token])
            in_run = True
        else:
            others.append(token)
            in_run = False
    return runs, others


def _largest(values: frozenset[str]) -> str:
    return max(values, key=float)


def counterpart_in(answer: str, gold: str) -> bool:
    """True when every number and every content word of ``gold`` is in ``answer``, in either
    script: a run of number words by its value ("2 लाख" needs 200000 there, however written),
    a word by its spelling or by a transliteration the bridge recognises, and at least one of
    them only by value or transliteration (else it is a same-script match, for containment).
    A gold of stop words only never matches."""
    tokens = _TOKEN.findall(fold(gold))
    runs, words = _number_runs(tokens)
    said = numbers(answer)
    for run in runs:
        value = numbers(" ".join(run))
        if not value or _largest(value) not in said:
            return False
    content = [w for w in words if w not in STOPWORDS]
    if not runs and not content:
        return False
    answer_words = set(word_tokens(answer))
    missing = [w for w in content if w not in answer_words]
    if not missing:
        # Only a number read by value crossed scripts; words merely scattered over the answer
        # ("समय देवता" for "समय के देवता") are plain containment's to judge, and it said no.
        return bool(runs)
    covered: set[str] = set()
    if any(not _DEVANAGARI.search(w) for w in missing):
        # Latin gold words, looked for as Devanagari (or Latin) words of the answer.
        for phrase, _ in NameBridge(gold).pairs(answer):
            covered.update(word_tokens(phrase))
    if any(_DEVANAGARI.search(w) for w in missing):
        # Devanagari gold words, found as transliterations of the answer's Latin words.
        for _, phrase in NameBridge(answer).pairs(gold):
            covered.update(word_tokens(phrase))
    return all(w in covered for w in missing)


def answer_contains_any_script(answer: str, golds: Sequence[str]) -> bool:
    """:func:`khabar.eval.metrics.answer_contains`, or some gold's counterpart in the other script."""
    return answer_contains(answer, golds) or any(counterpart_in(answer, g) for g in golds if g.strip())
