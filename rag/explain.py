"""What a quoted sentence shares with the question across scripts, shown under the quote.

A reader who asks in English and gets a Hindi sentence cannot check it by reading; the names and
numbers it shares with the question, in both scripts ("Kim Jong Un ↔ किम जोंग उन", "100 ↔ १००"),
and the question's words it holds in translation ("satellite ↔ उपग्रह"), show what matched.
Found with the same bridge and word list the sentence scorer uses (:mod:`index.bridge`,
:mod:`index.lexicon`).
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence

from index.analysis import analyze
from index.bridge import NameBridge, numbers
from index.lexicon import translation_terms
from index.text import word_tokens

_PUNCTUATION = ".,;:!?।\"'()"


def shared_terms(
    question: str, sentence: str, translations: Mapping[str, Sequence[str]] | None = None
) -> list[tuple[str, str]]:
    """(as in the question, as in the sentence) pairs: names matched across scripts, words held
    in translation (``translations``: the question's words with theirs, ``Query.translations``),
    then numbers written differently (digits of another script, words); spellings that are
    already the same in both are left out (the reader sees those)."""
    found: list[tuple[str, str]] = []
    for asked, written in NameBridge(question).pairs(sentence):
        if not written.isascii():
            found.append((_surface(question, asked), written))
    named = {written for _, written in found}
    if translations:
        words = [w.strip(_PUNCTUATION) for w in sentence.split()]
        stems = [set(analyze(w)) if w not in named else set() for w in words]
        for asked, translated in translations.items():
            wanted = translation_terms(translated)
            written = next((w for w, own in zip(words, stems, strict=True) if own & wanted), None)
            if written is not None:
                found.append((_surface(question, asked), written))
    asked_numbers = {n: w.strip(".,;:!?\"'()") for w in question.split() for n in numbers(w)}
    for word in sentence.split():
        for n in numbers(word):
            if n in asked_numbers and (pair := (asked_numbers[n], word.strip(_PUNCTUATION))) not in found:
                if pair[0] != pair[1]:
                    found.append(pair)
    return found


def _surface(question: str, folded: str) -> str:
    """The question's own spelling of a folded phrase ("kim jong un" -> "Kim Jong Un")."""
    words = question.split()
    target = folded.split()
    for i in range(len(words) - len(target) + 1):
        window = words[i : i + len(target)]
        if [t for w in window for t in word_tokens(w)] == target:
            return " ".join(w.strip(".,;:!?\"'()") for w in window)
    return folded
