"""Cross-script name and number bridge: which words of an English question name the same thing as
words of a Hindi text, and which numbers the two share.

Why: an English question about a Hindi paragraph shares its names with it ("Putin" / "पुतिन",
"Kremlin" / "क्रेमलिन", "Kim Jong Un" / "किम जोंग उन"), but not one token, so BM25 and term
overlap see nothing. Names are transliterated, not translated, so their consonants survive the
change of script while the vowels do not (Hindi spells "Biden" बाइडन, "Trump" ट्रंप). We compare
*consonant skeletons*: Devanagari is romanised (IAST, via ``indic-transliteration``), both sides
are folded to one small consonant alphabet, vowels are dropped, and two words match when their
skeletons are equal. Short skeletons match by accident ("Korea" and "कर" are both "kr"), so a
skeleton must have a minimum number of consonants to count.

Numbers get the same treatment: Devanagari digits, thousands separators (Western and Indian
grouping) and number words of either language ("दो लाख", "two hundred") become one canonical
string, so a caller can intersect the numbers of a question with those of a sentence.

This module only reports matches; how much a match is worth is the caller's decision.
"""

from __future__ import annotations

import unicodedata
from collections.abc import Iterable
from functools import lru_cache

import regex
from indic_transliteration import sanscript

from index.stopwords import ENGLISH_STOPWORDS, HINDI_STOPWORDS
from index.text import fold

MIN_CONSONANTS = 3  # "Korea"/"कर", "Kim"/"कम": two consonants match far too much by chance
MIN_LATIN_LETTERS = 3  # shorter Latin words are initials, units or stop words
MAX_NAME_WORDS = 3  # "Kim Jong Un": longer runs of adjacent words are never one name

_DEVANAGARI = regex.compile(r"[\u0900-\u097f]")

# Latin spellings folded towards what Hindi writes. Order matters: "ch" is set aside (च) before
# "c" is read as "s" before a front vowel ("Cecil") and "k" otherwise ("Carter"), and "ph" must
# become "f" before "h" is dropped.
_LATIN_RULES: tuple[tuple[regex.Pattern[str], str], ...] = tuple(
    (regex.compile(pattern), repl)
    for pattern, repl in (
        (r"^x", "s"),  # pinyin: "Xi" / शी, "Xinjiang" / शिनजियांग
        (r"sch", "s"),  # "Schröder" / श्रोडर
        (r"t?ch", "C"),  # "Chechnya" / चेचन्या, "Mitch"
        (r"ck", "k"),
        (r"c(?=[eiy])", "s"),
        (r"c", "k"),
        (r"C", "c"),
        (r"[ts]ion", "shon"),  # "Federation" / फेडरेशन
        (r"x", "ks"),  # "Saxon" / सैक्सन
        (r"q", "k"),
        (r"(?<!g)g(?=[ei])", "j"),  # "Germany" / जर्मनी, "Geneva" / जिनेवा; not "Schwarzenegger"
        (r"w(?![aeiouy])", ""),  # a vowel: "Warsaw" / वारसॉ, "Moscow" / मॉस्को, "Newcastle"
        (r"w", "v"),  # Hindi has one letter, व, for both
    )
)

# Folds both scripts share, applied to the romanised word: "ph" is "f" (फ, फ़), anusvara (set
# aside by _iast() as "N") is "n", "z" is "j" (ज़ is often written without its nukta); then "h" and
# "y" go (aspirates, glides and English spellings of vowels: "Kyiv", "Ukraine"/यूक्रेन), except a
# word-initial "h" ("Hussein"/हुसैन), which both scripts keep.
_COMMON_RULES: tuple[tuple[regex.Pattern[str], str], ...] = tuple(
    (regex.compile(pattern), repl)
    for pattern, repl in (
        (r"ph", "f"),
        (r"N", "n"),
        (r"z", "j"),
        (r"(?<!^)h|y", ""),
        (r"(.)\1+", r"\1"),  # "Kennedy" / केनेडी, "Muhammad" / मुहम्मद
        (r"[aeiou]", ""),
        # After the vowels, so "Jinping" and जिनपिंग (jinapiṃga) agree too.
        (r"n(?=[pb])", "m"),  # "Trump" / ट्रंप, "Istanbul" / इस्तांबुल
    )
)


def _strip_marks(text: str) -> str:
    decomposed = unicodedata.normalize("NFKD", text)
    return "".join(ch for ch in decomposed if not unicodedata.combining(ch))


def _iast(word: str) -> str:
    """``word`` in IAST, with nasalisation (anusvara, candrabindu) as "N" so that it can become
    "m" before a labial as a written nasal does."""
    roman = sanscript.transliterate(word, sanscript.DEVANAGARI, sanscript.IAST)
    return roman.replace("ṃ", "N").replace("~", "N")


def _keep_letters(text: str) -> str:
    """ASCII letters only, lower-cased except the nasal marker "N"."""
    return "".join(ch if ch == "N" else ch.lower() for ch in text if ch.isascii() and ch.isalpha())


@lru_cache(maxsize=262144)
def skeleton(word: str) -> str:
    """The consonant skeleton of one word of either script ("Putin" and "पुतिन" both give "ptn");
    "" for a word with no letters. Names transliterated between the scripts usually agree; the
    caller applies the minimum length (:data:`MIN_CONSONANTS`)."""
    word = unicodedata.normalize("NFC", word)
    if _DEVANAGARI.search(word):
        letters = _keep_letters(_strip_marks(_iast(word)))
    else:
        letters = _keep_letters(_strip_marks(word.casefold()))
        for pattern, repl in _LATIN_RULES:
            letters = pattern.sub(repl, letters)
    for pattern, repl in _COMMON_RULES:
        letters = pattern.sub(repl, letters)
    return letters


def _is_latin(token: str) -> bool:
    return token.isascii() and token.isalpha()


def _is_devanagari(token: str) -> bool:
    return _DEVANAGARI.search(token) is not None


def _plain_latin(token: str) -> str:
    """A Latin word case-folded and without diacritics ("Ogród" -> "ogrod"), for exact matches."""
    return _strip_marks(token).casefold()


# One pass over a text: words as :func:`index.text.word_tokens` cuts them (letters, marks, digits),
# a hyphen joining two words, which keeps them in one run ("Ban Ki-Moon" is one name, बान की मून),
# and other punctuation, which ends a run of words that may form one name ("Kim, Jong" is two).
_WORD = r"[\p{L}\p{M}\p{N}]"
_WORD_OR_BREAK = regex.compile(
    rf"({_WORD}+)|(?<={_WORD})[-\u2010\u2011](?={_WORD})|([^\p{{L}}\p{{M}}\p{{N}}\s]+)"
)
_INVISIBLE = regex.compile(r"[\u200b-\u200d\u2060\ufeff]")  # as index.text drops them

# Keys of Latin words matched by spelling, apart from skeletons (which never hold "=").
_SPELLED = "="


def _runs(text: str, fold_case: bool = True) -> list[list[str]]:
    """Word tokens of ``text`` (as :func:`index.text.word_tokens` gives them, but with their case
    when ``fold_case`` is false), grouped into runs that no punctuation interrupts."""
    text = fold(text) if fold_case else unicodedata.normalize("NFC", text)
    runs: list[list[str]] = [[]]
    for word, punctuation in _WORD_OR_BREAK.findall(_INVISIBLE.sub("", text)):
        if word:
            runs[-1].append(word)
        elif punctuation and runs[-1]:
            runs.append([])
    return [run for run in runs if run]


@lru_cache(maxsize=262144)
def _text_word(token: str) -> tuple[str, bool]:
    """A folded word of a text as the bridge sees it: its key (the skeleton of a Devanagari word,
    the marked plain spelling of a Latin one, "" otherwise) and whether it may start a name (not
    a Hindi stop word, though one may continue a name: "किम जोंग उन")."""
    if _is_devanagari(token):
        return skeleton(token), token not in HINDI_STOPWORDS
    if _is_latin(token):
        return _SPELLED + _plain_latin(token), True
    return "", False


@lru_cache(maxsize=16384)
def _text_words(text: str) -> tuple[tuple[str, ...], tuple[str, ...], tuple[bool, ...]]:
    """The words of ``text`` with their :func:`_text_word` keys and whether each may start a
    name; punctuation is a word with no key, so runs of words never cross it. Cached, since the
    candidate sentences of one question are largely those of the last ones."""
    tokens: list[str] = []
    keys: list[str] = []
    starts: list[bool] = []
    for run in _runs(text):
        if tokens:
            tokens.append("")
            keys.append("")
            starts.append(False)
        for token in run:
            key, may_start = _text_word(token)
            tokens.append(token)
            keys.append(key)
            starts.append(may_start)
    return tuple(tokens), tuple(keys), tuple(starts)


class NameBridge:
    """The names and content words of one question, ready to be looked for in many sentences.

    Built once per question (its Latin words, their skeletons, and those of runs of up to
    ``max_words`` adjacent words, for names such as "Kim Jong Un" whose single words are too
    short to count), then :meth:`pairs` is called per candidate sentence; the words and keys of
    sentences are cached across calls, since news repeats its vocabulary.
    """

    def __init__(
        self,
        question: str | Iterable[str],
        min_consonants: int = MIN_CONSONANTS,
        common_min_consonants: int | None = None,
        max_words: int = MAX_NAME_WORDS,
    ) -> None:
        """``question``: its text, or its words in order with their case. A phrase counts as a
        name when all its words are capitalised: its skeleton needs ``min_consonants``. Other
        content words collide with common Hindi words at that length ("party" and प्रति,
        "mark" and अमेरिका), so they need ``common_min_consonants`` (by default one more)."""
        if isinstance(question, str):
            runs = _runs(question, fold_case=False)
        else:
            runs = [[t for word in question for run in _runs(word, fold_case=False) for t in run]]
        self.min_consonants = min_consonants
        self.common_min_consonants = (
            min_consonants + 1 if common_min_consonants is None else common_min_consonants
        )
        self.max_words = max_words
        # Key (skeleton, or marked plain spelling) -> question phrase, and its number of words.
        self.keys: dict[str, str] = {}
        self.lengths: dict[str, int] = {}
        # Proper prefixes of the skeletons: a run of text words is extended only while it can
        # still become one, so most words cost one set lookup.
        self.prefixes: set[str] = set()
        for run in runs:
            names = [t[:1].isupper() for t in run]
            run = [fold(t) for t in run]
            for start, token in enumerate(run):
                if not self._content(token):
                    continue
                if len(token) >= MIN_LATIN_LETTERS:
                    self.keys.setdefault(_SPELLED + _plain_latin(token), token)
                for end in range(start + 1, min(start + max_words, len(run)) + 1):
                    words = run[start:end]
                    if not all(self._content(w) for w in words):
                        break
                    if end - start == 1 and len(token) < MIN_LATIN_LETTERS:
                        continue
                    parts = [skeleton(w) for w in words]
                    if not all(parts):
                        break
                    key = "".join(parts)
                    least = self.min_consonants if all(names[start:end]) else self.common_min_consonants
                    # Hindi drops an English plural "s" ("Kuznets" / कुजनेट, "plugs" / प्लग), and
                    # its oblique plural of a borrowed noun ends in a nasal ("channels" / चैनलों).
                    variants = [key]
                    if words[-1].endswith("s") and key.endswith("s"):
                        variants.append(key[:-1])
                        if not all(names[start:end]):
                            variants.append(key[:-1] + "n")
                    for variant in variants:
                        if len(variant) >= least and variant not in self.keys:
                            self.keys[variant] = " ".join(words)
                            self.lengths[variant] = end - start
                            self.prefixes.update(variant[:m] for m in range(1, len(variant)))

    @staticmethod
    def _content(token: str) -> bool:
        return _is_latin(token) and token not in ENGLISH_STOPWORDS

    def __bool__(self) -> bool:
        return bool(self.keys)

    def skeletons(self) -> dict[str, str]:
        """The question's skeleton keys (single words and runs), each with its question phrase."""
        return {key: phrase for key, phrase in self.keys.items() if not key.startswith(_SPELLED)}

    def pairs(self, text: str) -> list[tuple[str, str]]:
        """(question phrase, text phrase) pairs, in the text's order and each once: Devanagari
        words or runs of ``text`` with a question phrase's skeleton, and Latin words of ``text``
        spelled as a question word (Hindi news often adds the English name in parentheses).
        The caller tells the two kinds apart by the script of the text phrase.

        Where matches overlap, the longest from the leftmost start wins: "किम जोंग उन" once,
        rather than also "किम जोंग" and "जोंग".
        """
        if not self.keys:
            return []
        tokens, keys, starts = _text_words(text)
        query_keys, prefixes = self.keys, self.prefixes
        if query_keys.keys().isdisjoint(keys) and prefixes.isdisjoint(keys):
            return []  # most sentences: one pass in C
        found: list[tuple[str, str]] = []
        covered = 0
        for start, key in enumerate(keys):
            if start < covered or not key:
                continue
            match, end = (key if starts[start] and key in query_keys else None), start + 1
            # Only skeletons are prefixes, so Latin words and punctuation never start or join a run.
            stop, plain = start + 1, starts[start]
            while key in prefixes and stop < len(keys) and stop - start < self.max_words:
                part = keys[stop]
                if not part or part[0] == _SPELLED:
                    break  # a word without consonants ("आए"), punctuation, a Latin word
                key += part
                plain = plain and starts[stop]
                stop += 1
                # A run holding a Hindi stop word must be the question's phrase word for word
                # ("किम जोंग उन"), else "युद्ध के उत्तर" would be "doctor".
                if key in query_keys and (plain or self.lengths[key] == stop - start):
                    match, end = key, stop
            if match is not None:
                pair = (query_keys[match], " ".join(tokens[start:end]))
                if pair not in found:
                    found.append(pair)
                covered = end
        return found


def name_pairs(
    question: str | Iterable[str], text: str, min_consonants: int = MIN_CONSONANTS
) -> list[tuple[str, str]]:
    """:meth:`NameBridge.pairs` for one question and one text; build a :class:`NameBridge` once
    instead when the same question meets many sentences."""
    return NameBridge(question, min_consonants=min_consonants).pairs(text)


# --- numbers -------------------------------------------------------------------------------------

_DEVANAGARI_DIGITS = str.maketrans("०१२३४५६७८९", "0123456789")

# A numeral (digits, commas, a decimal part) or a word; of the numerals, those whose commas group
# thousands in Western ("1,000,000") or Indian ("10,00,000") style are one number.
_NUMERAL_OR_WORD = regex.compile(r"\d+(?:,\d+)*(?:\.\d+)?|[\p{L}\p{M}]+")
_GROUPED = regex.compile(r"\d{1,3}(?:,\d{2})*,\d{3}(?:\.\d+)?|\d{1,3}(?:,\d{3})+(?:\.\d+)?")

_UNITS: dict[str, float] = {
    # English; "one" alone is mostly the article-like "one of", so it only counts before a
    # multiplier (see numbers()).
    **dict(
        zip(
            "zero one two three four five six seven eight nine ten eleven twelve thirteen fourteen "
            "fifteen sixteen seventeen eighteen nineteen".split(),
            range(20),
            strict=True,
        )
    ),
    **dict(
        zip("twenty thirty forty fifty sixty seventy eighty ninety".split(), range(20, 100, 10), strict=True)
    ),
    # Hindi: one to twenty, the tens, and the halves that news uses for amounts ("डेढ़ लाख").
    **dict(
        zip(
            "शून्य एक दो तीन चार पांच छह सात आठ नौ दस ग्यारह बारह तेरह चौदह पंद्रह सोलह सत्रह अठारह "
            "उन्नीस बीस".split(),
            range(21),
            strict=True,
        )
    ),
    **dict(zip("तीस चालीस पचास साठ सत्तर अस्सी नब्बे".split(), range(30, 100, 10), strict=True)),
    "पाँच": 5,
    "छः": 6,
    "डेढ़": 1.5,
    "ढाई": 2.5,
}
_MULTIPLIERS: dict[str, int] = {
    "hundred": 100,
    "thousand": 1000,
    "million": 10**6,
    "billion": 10**9,
    "lakh": 10**5,
    "crore": 10**7,
    "सौ": 100,
    "हजार": 1000,
    "हज़ार": 1000,
    "लाख": 10**5,
    "करोड़": 10**7,
    "करोड": 10**7,
    "अरब": 10**9,
}
_UNITS = {unicodedata.normalize("NFC", k): v for k, v in _UNITS.items()}
_MULTIPLIERS = {unicodedata.normalize("NFC", k): v for k, v in _MULTIPLIERS.items()}
# Number words that count only before a multiplier ("one lakh"), never alone ("one of").
ALONE_NOT_A_NUMBER = frozenset({"one", "एक"})


def _canonical(value: float) -> str:
    """One spelling per number: "1000", "2.5" (not "1000.0" or "2.50")."""
    if value == int(value):
        return str(int(value))
    return f"{value:.6f}".rstrip("0").rstrip(".")


def _numeral_values(token: str) -> list[float]:
    """The numbers in one numeral token; commas that do not group thousands separate numbers."""
    if "," not in token or _GROUPED.fullmatch(token):
        return [float(token.replace(",", ""))]
    return [float(part) for part in token.split(",") if part]


@lru_cache(maxsize=16384)
def numbers(text: str) -> frozenset[str]:
    """The numbers ``text`` states, canonical (:func:`_canonical`), so that two texts can be
    compared by intersection: Devanagari digits as ASCII ("१०० " -> "100"), separators removed
    ("1,000" and "1,00,000" are 1000 and 100000), and number words of either language with their
    multipliers ("दो लाख", "2.5 million", "two hundred and fifty"). A numeral before a multiplier
    counts both ways ("5 करोड़" gives "5" and "50000000"), since the other side may say either.
    Cached, like the words of a sentence, since candidate sentences recur across questions.
    """
    tokens = _NUMERAL_OR_WORD.findall(
        unicodedata.normalize("NFC", text.translate(_DEVANAGARI_DIGITS)).casefold()
    )
    found: set[str] = set()
    i = 0
    while i < len(tokens):
        token = tokens[i]
        numeral = token[0].isdigit()
        if not numeral and token not in _UNITS and token not in _MULTIPLIERS:
            i += 1
            continue
        # A run of number words (and at most a numeral at its head), read as total + current.
        total, current, words, j = 0.0, 0.0, 0, i
        if numeral:
            values = _numeral_values(token)
            found.update(_canonical(v) for v in values)
            current, j = values[-1], i + 1
        while j < len(tokens):
            word = tokens[j]
            if word in _UNITS and not numeral:
                # "twenty five" and "hundred five" add up; "दो तीन" ("two or three") are two.
                below, unit = current % 100, _UNITS[word]
                if below and not (below % 10 == 0 and below >= 20 and unit < 10):
                    break
                current += unit
            elif word in _MULTIPLIERS:
                scale = _MULTIPLIERS[word]
                if scale == 100:
                    current = (current or 1) * scale
                else:
                    total += (current or 1) * scale
                    current = 0.0
            elif word == "and" and j + 1 < len(tokens) and (tokens[j + 1] in _UNITS) and words:
                pass
            else:
                break
            words += 1
            j += 1
        if words or not numeral:
            value = total + current
            if not (words <= 1 and not numeral and token in ALONE_NOT_A_NUMBER):
                found.add(_canonical(value))
        i = max(j, i + 1)
    return frozenset(found)
