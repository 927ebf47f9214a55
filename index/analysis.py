"""Text analysis shared by the BM25 index, evidence scoring and de-duplication: words, stop
words and stems.

One analyzer for every floor: the terms stored at ingestion and the terms of a question must come
out of the same function, or BM25 and term overlap measure the difference between two analyzers.
"""

from __future__ import annotations

import re
import threading
from functools import lru_cache

import snowballstemmer

from index.stopwords import STOPWORDS
from index.text import word_tokens

# Snowball's light stemmers, chosen per word by script (an article mixes Hindi words and Latin
# names). Snowball's objects keep per-call state, so calls are serialised; the cache in front of
# them makes that rare (news reuses a small vocabulary).
_STEMMERS = {"deva": snowballstemmer.stemmer("hindi"), "latn": snowballstemmer.stemmer("english")}
_STEM_LOCK = threading.Lock()


@lru_cache(maxsize=262144)
def stem_term(term: str) -> str:
    """The stem of one analysed word: Hindi words by Snowball's Hindi stemmer (Ramanathan and
    Rao's light suffix stripper), Latin-script words by Porter2; numbers and other scripts as
    they are.

    Why stem: a question and the passage that answers it often inflect the same noun differently
    ("टेपों" / "टेप", "प्रदर्शनों" / "प्रदर्शन", "कंपनियों" / "कंपनी"); stemming lifts BM25 alone on
    Hindi questions (``bench/bm25_only.py``, ``bench/results/ablation.md``).
    """
    if term.isascii():
        if not term.isalpha():
            return term  # "2023", "covid19": numbers are matched exactly
        script = "latn"
    elif any("\u0900" <= ch <= "\u097f" for ch in term):
        script = "deva"
    else:
        return term
    if script == "deva":
        term = same_nasal_spelling(term)
    with _STEM_LOCK:
        stemmed = _STEMMERS[script].stemWord(term)
    return stemmed or term


# A nasal consonant with a virama before a stop of its own class is the anusvara in another
# spelling ("सम्बन्ध" / "संबंध", "हिन्दी" / "हिंदी"), and the candrabindu is often written as the
# anusvara ("कहाँ" / "कहां"): both spellings are common in news and dictionaries alike.
_NASAL_CONJUNCT = re.compile("ङ्(?=[कखगघ])|ञ्(?=[चछजझ])|ण्(?=[टठडढ])|न्(?=[तथदध])|म्(?=[पफबभ])|ँ")


def same_nasal_spelling(word: str) -> str:
    """A Devanagari word with its nasal written one way: the anusvara (Hindi's common variants)."""
    return _NASAL_CONJUNCT.sub("ं", word)


def analyze(text: str, stem: bool = True) -> list[str]:
    """Index/query terms of ``text``: :func:`word_tokens` minus Hindi and English stop words,
    stemmed (:func:`stem_term`) unless ``stem`` is false.

    Devanagari words stay whole before stemming (marks are part of the word), case and Unicode
    spelling are folded, numbers and Latin names ("kim", "2023") are kept. Stop words are removed
    in their surface form, before stemming.
    """
    terms = [token for token in word_tokens(text) if token not in STOPWORDS]
    return [stem_term(t) for t in terms] if stem else terms
