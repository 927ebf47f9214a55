"""Text folding, word tokenisation and blankness, shared by the metrics, BM25 and the front ends.

Both sides must agree on what a "word" is: if the index and the metric split Hindi differently,
a retrieval or F1 score measures the tokeniser rather than the system. So there is one tokeniser,
here, and everything else imports it.

Why not ``re.findall(r"\\w+", ...)``: Python's ``re`` treats ``\\w`` as ``str.isalnum()``, and the
Devanagari combining marks (matras, virama, nukta, anusvara, candrabindu, visarga) are category
``M*``, not alphanumeric. ``re`` therefore cuts "किम्" into ``["क", "म"]`` and "हिंदी" into
``["ह", "द"]``. The ``regex`` module's ``\\p{M}`` class lets us keep marks inside the word.
"""

from __future__ import annotations

import unicodedata

import regex

# A word is a maximal run of letters, combining marks and digits. Marks (\p{M}) cover the
# Devanagari vowel signs U+093A–U+094F and U+0962–U+0963, the virama U+094D, the nukta U+093C
# and the signs U+0900–U+0903; everything else (spaces, punctuation, the dandas U+0964/U+0965,
# the abbreviation sign U+0970, hyphens, apostrophes) separates words.
_WORD = regex.compile(r"[\p{L}\p{M}\p{N}]+")

# Zero-width characters that change how a conjunct is drawn but not which word it is
# (ZWNJ/ZWJ are common in Hindi web text, e.g. "क्‍ष"). Removed so that both spellings
# yield one token instead of splitting the word in two.
_INVISIBLE = dict.fromkeys(map(ord, "\u200b\u200c\u200d\u2060\ufeff"))


def is_blank(text: str) -> bool:
    """True when ``text`` shows nothing: only whitespace and zero-width characters.

    ``str.isspace`` does not count U+200B, U+200C, U+200D or U+FEFF as space, so a question
    pasted with nothing but those would otherwise be searched for as if it were words.
    """
    return not text.translate(_INVISIBLE).strip()


def fold(text: str) -> str:
    """Return ``text`` NFC-normalised and case-folded, so equal-looking strings compare equal.

    NFC makes precomposed and decomposed spellings agree (note that for composition exclusions
    such as "क़" U+0958 the NFC form is the *decomposed* U+0915 U+093C; both spellings still end
    up identical). ``casefold`` is the aggressive lower-casing meant for caseless matching
    ("Straße" -> "strasse"). It can emit decomposed sequences ("İ" -> "i" + U+0307), so NFC is
    applied once more afterwards to keep the result canonical.
    """
    return unicodedata.normalize("NFC", unicodedata.normalize("NFC", text).casefold())


def word_tokens(text: str) -> list[str]:
    """Split ``text`` into folded word tokens, keeping Devanagari words whole.

    Steps: :func:`fold` (NFC + casefold), drop zero-width joiners/spaces, then take maximal runs
    of ``[\\p{L}\\p{M}\\p{N}]``. No stemming and no stop words: the evaluation must stay
    language-neutral, and any such choice belongs to the caller.
    """
    return _WORD.findall(fold(text).translate(_INVISIBLE))
