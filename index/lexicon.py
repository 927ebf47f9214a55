"""A bilingual word list: the words of another language that an English word may be written as.

An English question over Hindi articles shares only names and numbers with them, so BM25 sees
almost nothing of it (the name bridge, :mod:`index.bridge`, covers the names). A dictionary gives
the rest of its words a chance: "satellite" is searched as उपग्रह too, "dynasty" as वंश. This is
dictionary-based cross-language retrieval, the classic method where no translation model can be
had (none ships in a package we can install).

The word list is FreeDict's English-Hindi dictionary in the dictd format Debian packages
(``apt-get install dict-freedict-eng-hin``; GPL-2+, read at run time, not shipped here). Why
hand-written: its entries are plain text ("promise /IPA/ <V>", then "1. प्रतिज्ञा करना"), while
the Python readers of dictd files are whole conversion suites (PyGlossary) for a job of a few
lines. Any file in the same layout works, for another language pair too.

The dictionary is of uneven quality (its own notes say so): a target word that translates many
English headwords ("देना", "give", in "punish" = "दण्ड देना") matches nearly everything, so such
words are dropped, and each English word keeps only its first few senses.
"""

from __future__ import annotations

import gzip
import json
import os
import re
from collections import Counter
from collections.abc import Mapping, Sequence
from functools import lru_cache
from pathlib import Path

from index.analysis import analyze, stem_term

# The Debian package's file, used when present and no other list is configured.
DEBIAN_ENG_HIN = Path("/usr/share/dictd/freedict-eng-hin.dict.dz")

_HEADWORD = re.compile(r"^(?P<word>[^\s/<][^/<]*?)\s*(?:/[^/]*/)?\s*<[^>]*>\s*$")
_SENSE = re.compile(r"^\s*\d+\.\s*(?P<text>.+)$")
_MARKUP = re.compile(r"[~\[\]()]")  # "प्रतिज्ञा~कर[हो]": a verb with its light verbs


def english_words(text: str) -> list[str]:
    """The Latin-script words of ``text`` as analysed but not stemmed: what the list is asked for
    (the question's words, as the retriever, the query and the sentence order see them)."""
    return [w for w in analyze(text, stem=False) if w.isascii() and w.isalpha()]


@lru_cache(maxsize=16384)
def _terms(word: str) -> frozenset[str]:
    return frozenset(analyze(word))


def translation_terms(translations: Sequence[str]) -> frozenset[str]:
    """The analysed, stemmed terms of a word's translations, as a sentence's words are analysed:
    a sentence holds the word in translation when the two sets meet ("संबंध" meets "संबंधों")."""
    return frozenset(t for word in translations for t in _terms(word))


class Lexicon:
    """English word stems, each with the words of the other language it may be written as."""

    def __init__(
        self,
        words: Mapping[str, Sequence[str]],
        stems: Mapping[str, Sequence[str]] | None = None,
        source: str = "",
    ):
        """``words``: English headword -> translations; ``stems``: stem -> the translations of
        the headword that answers for it (an inflected word: "weapons" -> weapon's)."""
        self._words = {k: tuple(v) for k, v in words.items() if v}
        self._stems = {k: tuple(v) for k, v in (stems or {}).items() if v}
        self.source = source

    def __len__(self) -> int:
        return len(self._words)

    def table(self) -> dict[str, dict[str, list[str]]]:
        """The headword and stem tables, as JSON can hold them."""
        return {
            "words": {k: list(v) for k, v in self._words.items()},
            "stems": {k: list(v) for k, v in self._stems.items()},
        }

    @classmethod
    def from_table(cls, table: Mapping[str, Mapping[str, Sequence[str]]], source: str = "") -> Lexicon:
        return cls(table["words"], table["stems"], source)

    def translations(self, word: str) -> tuple[str, ...]:
        """What ``word`` may be written as, the usual sense first: its own entry, or else that of
        the headword its stem belongs to (so "weapons" finds weapon's, and "department" is not
        read as "depart", whose stem it shares)."""
        word = word.casefold()
        if word in self._words:
            return self._words[word]
        return self._stems.get(stem_term(word), ())

    @classmethod
    def read_dictd(cls, path: Path, max_senses: int = 30, per_word: int = 2) -> Lexicon:
        """A dictd-format dictionary (``.dict`` or ``.dict.dz``): single-word English headwords
        with the words of their numbered senses, in the dictionary's order (the usual sense
        first). A target word that translates more than ``max_senses`` headwords is dropped as
        too general; each English word keeps its first ``per_word`` translations. Headwords
        that share a stem ("state", "stately", "stated") are looked up by it, and the shortest,
        the base form, answers for all of them."""
        opener = gzip.open if path.suffix == ".dz" else open
        found: dict[str, dict[str, None]] = {}  # headword -> its words, in order (a dict as an ordered set)
        headword: str | None = None
        with opener(path, "rt", encoding="utf-8", errors="replace") as lines:
            for line in lines:
                line = line.rstrip("\n")
                if not line.startswith(" ") and (head := _HEADWORD.match(line)):
                    word = head.group("word").strip().casefold()
                    headword = word if word.isascii() and word.isalpha() else None
                    continue
                sense = _SENSE.match(line)
                if headword is None or sense is None:
                    continue
                words = analyze(_MARKUP.sub(" ", sense.group("text")), stem=False)
                found.setdefault(headword, {}).update(dict.fromkeys(w for w in words if not w.isascii()))
        shared = Counter(w for words in found.values() for w in words)
        base: dict[str, str] = {}  # stem -> its shortest headword
        for headword in found:
            key = stem_term(headword)
            if key not in base or len(headword) < len(base[key]):
                base[key] = headword
        words = {
            headword: [w for w in translations if shared[w] <= max_senses][:per_word]
            for headword, translations in found.items()
        }
        return cls(words, {key: words[headword] for key, headword in base.items()}, source=str(path))


class LexiconMissing(ValueError):
    """A configured word list is not there (a setting's error: the settings refuse it too)."""


def lexicon_file(setting: str) -> Path | None:
    """The file a ``KHABAR_LEXICON`` value names: ``"auto"`` is Debian's English-Hindi FreeDict
    when installed (else none), ``""`` or ``"off"`` none, anything else a path that must exist."""
    if setting in ("", "off"):
        return None
    if setting == "auto":
        return DEBIAN_ENG_HIN if DEBIAN_ENG_HIN.is_file() else None
    path = Path(setting).expanduser()
    if not path.is_file():
        raise LexiconMissing(
            f"KHABAR_LEXICON names {path}, which is not a file: install it "
            "(`apt-get install dict-freedict-eng-hin` for English-Hindi), or set KHABAR_LEXICON=auto "
            "(used when installed) or off"
        )
    return path


# Bump when the reading of a dictionary changes: cached tables of an older reading are not used.
_READING = 3


def _cached(path: Path, max_senses: int, per_word: int, cache_dir: Path | None) -> Lexicon:
    """:meth:`Lexicon.read_dictd`, kept as JSON in ``cache_dir``: reading the dictionary stems
    every headword in pure Python, too slow for a service to pay at every start."""
    if cache_dir is None:
        return Lexicon.read_dictd(path, max_senses, per_word)
    stat = path.stat()
    key = f"{path.name}-{stat.st_size}-{stat.st_mtime_ns}-{max_senses}-{per_word}-r{_READING}.json"
    cached = cache_dir / "lexicons" / key
    if cached.is_file():
        try:
            return Lexicon.from_table(json.loads(cached.read_text(encoding="utf-8")), source=str(path))
        except (OSError, ValueError, KeyError, TypeError):
            pass  # unreadable: read the dictionary again and rewrite it
    lexicon = Lexicon.read_dictd(path, max_senses, per_word)
    try:
        cached.parent.mkdir(parents=True, exist_ok=True)
        partial = cached.with_suffix(f".{os.getpid()}.tmp")
        partial.write_text(json.dumps(lexicon.table(), ensure_ascii=False), encoding="utf-8")
        partial.replace(cached)  # atomic: another process reads the old file or the whole new one
    except OSError:
        pass  # a read-only cache only costs the next start the same seconds
    return lexicon


@lru_cache(maxsize=4)
def load_lexicon(
    setting: str, max_senses: int, per_word: int, cache_dir: Path | None = None
) -> Lexicon | None:
    """The configured word list (:func:`lexicon_file`), read once per process."""
    path = lexicon_file(setting)
    return None if path is None else _cached(path, max_senses, per_word, cache_dir)
