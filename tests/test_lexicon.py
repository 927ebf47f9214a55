"""The bilingual word list: reading a dictd dictionary, choosing translations, and BM25 searching
them for an English question over Hindi text."""

from __future__ import annotations

import gzip
from pathlib import Path

import pytest

from index.lexical import LexicalIndex, SqliteTerms
from index.lexicon import DEBIAN_ENG_HIN, Lexicon, LexiconMissing, load_lexicon

# The layout of FreeDict's dictd entries: headword, IPA, part of speech; numbered senses; examples.
ENTRIES = """\
00-database-info
English-Hindi test dictionary

satellite /sˈatəlˌaɪt/ <N>
1. उपग्रह
      "The satellite was launched."
2. अधीन राज्य
promise /pɹˈɒmɪs/ <N>
1. प्रतिज्ञा
      "Ram promised Raj to return his money back."
promise /pɹˈɒmɪs/ <V>
1. प्रतिज्ञा~कर[हो]
give /ɡˈɪv/ <V>
1. देना
punish /pˈʌnɪʃ/ <V>
1. दण्ड देना
reward /ɹɪwˈɔːd/ <V>
1. इनाम देना
promissory note /pɹˈɒmɪsəɹi nˈəʊt/ <N>
1. वचनपत्र
"""


def write_dictd(folder: Path, compressed: bool = True) -> Path:
    path = folder / ("test.dict.dz" if compressed else "test.dict")
    if compressed:
        with gzip.open(path, "wt", encoding="utf-8") as out:  # dictzip files are gzip files
            out.write(ENTRIES)
    else:
        path.write_text(ENTRIES, encoding="utf-8")
    return path


@pytest.mark.parametrize("compressed", [True, False])
def test_a_dictd_dictionary_gives_each_english_word_its_first_senses(tmp_path, compressed):
    lexicon = Lexicon.read_dictd(write_dictd(tmp_path, compressed), max_senses=10, per_word=2)
    assert lexicon.translations("satellite") == ("उपग्रह", "अधीन")  # in the dictionary's order
    assert lexicon.translations("Satellites") == lexicon.translations("satellite")  # any inflection
    assert lexicon.translations("promised") == ("प्रतिज्ञा",)  # both parts of speech, once
    assert lexicon.translations("note") == ()  # only single-word headwords
    assert lexicon.translations("monsoon") == ()


def test_a_headword_answers_for_itself_and_the_shortest_one_for_a_shared_stem(tmp_path):
    path = tmp_path / "stems.dict"
    path.write_text(
        "depart /dɪpˈɑːt/ <V>\n1. प्रस्थान\ndepartment /dɪpˈɑːtmənt/ <N>\n1. विभाग\n"
        "stately /stˈeɪtli/ <Adj>\n1. भव्य\nstate /stˈeɪt/ <N>\n1. राज्य\n",
        encoding="utf-8",
    )
    lexicon = Lexicon.read_dictd(path, max_senses=10, per_word=2)
    # Porter stems "department" to "depart": its own entry comes first.
    assert lexicon.translations("department") == ("विभाग",)
    assert lexicon.translations("departments") == ("प्रस्थान",)  # no entry: the stem's base headword
    assert lexicon.translations("states") == ("राज्य",)  # "state", not the longer "stately"
    assert lexicon.translations("stately") == ("भव्य",)


def test_a_translation_shared_by_many_headwords_is_too_general_to_search(tmp_path):
    path = write_dictd(tmp_path)
    # "देना" translates give, punish and reward: with at most 2 headwords a word, it is dropped.
    strict = Lexicon.read_dictd(path, max_senses=2, per_word=3)
    assert strict.translations("punish") == ("दण्ड",)
    assert strict.translations("give") == ()
    loose = Lexicon.read_dictd(path, max_senses=3, per_word=3)
    assert loose.translations("punish") == ("दण्ड", "देना")


def test_the_setting_names_a_list_auto_or_off(tmp_path):
    assert load_lexicon("off", 10, 2) is None and load_lexicon("", 10, 2) is None
    missing = tmp_path / "nowhere.dict.dz"
    with pytest.raises(LexiconMissing, match=r"nowhere\.dict\.dz.*apt-get install dict-freedict-eng-hin"):
        load_lexicon(str(missing), 10, 2)
    from khabar.settings import Settings

    with pytest.raises(ValueError, match=r"nowhere\.dict\.dz.*KHABAR_LEXICON=auto"):
        Settings(lexicon=str(missing))  # every command reads the settings first, so says it first
    assert Settings(lexicon="off").lexicon == "off"
    found = load_lexicon(str(write_dictd(tmp_path)), 10, 2)
    assert found is not None and found.translations("satellite")
    auto = load_lexicon("auto", 10, 2)
    assert (auto is not None) == DEBIAN_ENG_HIN.is_file()


def test_a_read_dictionary_is_cached_until_its_file_changes(tmp_path):
    path = write_dictd(tmp_path)
    cache = tmp_path / "cache"
    first = load_lexicon(str(path), 10, 2, cache)
    cached = list((cache / "lexicons").glob("*.json"))
    assert len(cached) == 1 and first is not None
    load_lexicon.cache_clear()
    again = load_lexicon(str(path), 10, 2, cache)
    assert again is not None and again.table() == first.table()
    # A changed dictionary is read anew, under a new key.
    with gzip.open(path, "at", encoding="utf-8") as out:
        out.write("monsoon /mɒnsˈuːn/ <N>\n1. मानसून\n")
    load_lexicon.cache_clear()
    changed = load_lexicon(str(path), 10, 2, cache)
    assert changed is not None and changed.translations("monsoon") == ("मानसून",)
    assert len(list((cache / "lexicons").glob("*.json"))) == 2
    load_lexicon.cache_clear()


def test_bm25_searches_the_translations_of_an_english_question(tmp_path):
    """Not one token of the question is in the Hindi chunks; with the word list, "satellite"
    finds उपग्रह, and the word counts as one the index can read."""
    lexicon = Lexicon.read_dictd(write_dictd(tmp_path), max_senses=10, per_word=2)
    idx = LexicalIndex(SqliteTerms(tmp_path / "lexical"))
    try:
        meta = {"article_id": "", "title": "", "source": "", "published": "", "url": "", "language": "hi"}
        idx.add("h-sat", [("h-sat:0", "इसरो ने नया उपग्रह प्रक्षेपित किया।", meta | {"article_id": "h-sat"})])
        idx.add("h-rain", [("h-rain:0", "दिल्ली में भारी बारिश हुई।", meta | {"article_id": "h-rain"})])
        question = "Which satellites were launched?"
        assert idx.search(question, 5) == []
        translated = idx.translations(question, lexicon)
        assert translated == {"satellites": ["उपग्रह"]}  # अधीन is in no chunk: not searched
        extra = [t for terms in translated.values() for t in terms]
        assert [r[0] for r in idx.search(question, 5, extra_terms=extra)] == ["h-sat:0"]
        assert idx.coverage(question, translated) == pytest.approx(1 / 2)  # satellites; not launched
        assert idx.translations("Why the monsoon?", lexicon) == {}
    finally:
        idx.close()


@pytest.mark.skipif(not DEBIAN_ENG_HIN.is_file(), reason="apt-get install dict-freedict-eng-hin")
def test_debians_english_hindi_dictionary_reads(tmp_path):
    lexicon = load_lexicon("auto", 10, 2, tmp_path)
    assert lexicon is not None and len(lexicon) > 10_000
    assert "उपग्रह" in lexicon.translations("satellite")
    assert "साथी" in lexicon.translations("companions")
    assert "विभाग" in load_lexicon("auto", 30, 2, tmp_path).translations("department")
