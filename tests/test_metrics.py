"""Hand-computed cases for the evaluation metrics and the shared word tokeniser.

Every expected number below is worked out in the comment next to it, so a failing test says
which definition changed, not just that a float moved.
"""

from __future__ import annotations

import math
import random
import re
import unicodedata

import numpy as np
import pytest

from index.text import fold, word_tokens
from khabar.eval.metrics import (
    abstention_rates,
    answer_contains,
    citation_precision,
    citation_support,
    dedupe,
    first_sentence,
    gold_rank,
    group_by,
    hit_at_k,
    mean,
    ndcg_at_k,
    normalise_answer,
    percentile,
    reciprocal_rank,
    strip_citations,
    token_f1,
)

QA_PRECOMPOSED = "\u0958"  # क़ DEVANAGARI LETTER QA (a composition exclusion)
QA_DECOMPOSED = "\u0915\u093c"  # क + NUKTA


# --------------------------------------------------------------------------------------------
# Unicode: what NFC really does, and that both sides of a comparison agree
# --------------------------------------------------------------------------------------------


def test_nfc_decomposes_qa_because_it_is_a_composition_exclusion() -> None:
    # U+0958 is excluded from composition, so NFC maps it *to* the decomposed pair, and the
    # pair stays decomposed. Both spellings therefore share one NFC form.
    assert unicodedata.normalize("NFC", QA_PRECOMPOSED) == QA_DECOMPOSED
    assert unicodedata.normalize("NFC", QA_DECOMPOSED) == QA_DECOMPOSED
    assert QA_PRECOMPOSED != QA_DECOMPOSED


def test_fold_casefolds_and_stays_nfc() -> None:
    assert fold("Straße") == fold("STRASSE") == "strasse"
    # casefold("İ") is "i" + COMBINING DOT ABOVE; the result must still be in NFC.
    assert fold("İ") == unicodedata.normalize("NFC", fold("İ"))
    assert fold("cafe\u0301") == fold("CAFÉ") == "caf\u00e9"


# --------------------------------------------------------------------------------------------
# normalise_answer / answer_contains
# --------------------------------------------------------------------------------------------


def test_normalise_answer_collapses_whitespace_and_casefolds() -> None:
    assert normalise_answer("  Kim\tJong   UN \n") == "kim jong un"
    assert normalise_answer("New\u00a0Delhi") == "new delhi"  # NBSP is whitespace
    assert normalise_answer("") == ""


def test_normalise_answer_keeps_punctuation() -> None:
    # Only Unicode form, case and whitespace are normalised; the README rule says nothing more.
    assert normalise_answer("U.S.") == "u.s."


@pytest.mark.parametrize(
    ("answer_qa", "gold_qa"),
    [
        (QA_PRECOMPOSED, QA_DECOMPOSED),
        (QA_DECOMPOSED, QA_PRECOMPOSED),
        (QA_PRECOMPOSED, QA_PRECOMPOSED),
        (QA_DECOMPOSED, QA_DECOMPOSED),
    ],
)
def test_answer_contains_nfc_and_nfd_spellings_match(answer_qa: str, gold_qa: str) -> None:
    answer = f"यह {answer_qa}िला 1648 में बना था।"  # "this fort was built in 1648"
    gold = f"{gold_qa}िला"  # "fort"
    assert normalise_answer(f"{answer_qa}िला") == normalise_answer(f"{gold_qa}िला")
    assert answer_contains(answer, [gold])


def test_answer_contains_latin_nfd() -> None:
    assert answer_contains("She ordered at the CAFE\u0301.", ["café"])


def test_answer_contains_casefolds_sharp_s() -> None:
    assert answer_contains("Die STRASSE ist lang.", ["Straße"])
    assert answer_contains("Die Straße ist lang.", ["STRASSE"])


def test_answer_contains_whitespace_insensitive() -> None:
    assert answer_contains("He visited New\n   Delhi [1].", ["new delhi"])


def test_answer_contains_any_gold() -> None:
    assert answer_contains("Putin arrived in Pyongyang.", ["Moscow", "Pyongyang"])
    assert not answer_contains("Putin arrived in Pyongyang.", ["Moscow", "Seoul"])


def test_answer_contains_empty_and_blank_golds() -> None:
    assert not answer_contains("anything at all", [])
    # A blank gold would be a substring of every answer; it must not count.
    assert not answer_contains("anything at all", ["", "  \n"])


def test_answer_contains_is_substring_containment() -> None:
    # Documented consequence of the README's "occurs in" rule.
    assert answer_contains("It happened in 2024.", ["2"])


# --------------------------------------------------------------------------------------------
# first_sentence
# --------------------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        # citation markers after the terminator, and before it, are stripped
        ("Kim invited Putin. [1] He accepted. [2]", "Kim invited Putin."),
        ("Kim invited Putin [1]. He accepted [2].", "Kim invited Putin."),
        ("Kim invited Putin [1, 2]. He accepted.", "Kim invited Putin."),
        ("Kim invited Putin.[1][2] He accepted.", "Kim invited Putin."),
        # dots inside numbers and dotted abbreviations are not boundaries
        ("GDP grew 3.5 percent in 2024. Exports fell.", "GDP grew 3.5 percent in 2024."),
        ("The U.S. and Russia signed it. Later it lapsed.", "The U.S. and Russia signed it."),
        ("Dr. Singh spoke first. Then others.", "Dr. Singh spoke first."),
        ("डॉ. सिंह ने भाषण दिया। फिर अन्य बोले।", "डॉ. सिंह ने भाषण दिया।"),
        # danda and double danda
        ("किम ने पुतिन को आमंत्रित किया। पुतिन ने स्वीकार किया।", "किम ने पुतिन को आमंत्रित किया।"),
        ("किम ने पुतिन को आमंत्रित किया [1]। पुतिन ने स्वीकार किया।", "किम ने पुतिन को आमंत्रित किया।"),
        ("पहला वाक्य॥ दूसरा वाक्य॥", "पहला वाक्य॥"),
        # ? and !, and closing quotes after the terminator
        ("Really? Yes, really.", "Really?"),
        ("Stop! Now.", "Stop!"),
        ('He said "yes." Then he left.', 'He said "yes."'),
        # newlines always split; blank leading lines are skipped
        ("First line without a stop\nSecond line.", "First line without a stop"),
        ("\n\n   Answer here.  More here.", "Answer here."),
        # a list number is not a sentence
        ("1. Kim invited Putin. 2. He accepted.", "1. Kim invited Putin."),
        # no terminator at all: the whole (single-line) answer
        ("Just a phrase [1]", "Just a phrase"),
        # a danda glued to the next word is not a boundary (the rule needs space/end)
        ("किया।पुतिन आए", "किया।पुतिन आए"),
        # whitespace inside the sentence is collapsed
        ("Kim   invited\tPutin. Yes.", "Kim invited Putin."),
        ("", ""),
        ("   \n [1] \n", ""),
    ],
)
def test_first_sentence(text: str, expected: str) -> None:
    assert first_sentence(text) == expected


def test_strip_citations() -> None:
    assert strip_citations("A [1]. B [2, 3]; C[4][5]") == "A. B; C"
    assert strip_citations("list [a] and [1a] stay") == "list [a] and [1a] stay"


# --------------------------------------------------------------------------------------------
# word_tokens (index/text.py)
# --------------------------------------------------------------------------------------------


def test_python_re_word_class_breaks_devanagari_words() -> None:
    """Why word_tokens uses the regex module: re's \\w is str.isalnum, which excludes marks."""
    broken = re.findall(r"\w+", "किम्")
    if broken == ["किम्"]:
        pytest.skip("this Python's re keeps combining marks inside \\w")
    assert broken == ["क", "म"]  # the matra ि and the virama ् were treated as separators
    assert re.findall(r"\w+", "हिंदी") == ["ह", "द"]
    assert word_tokens("किम्") == ["किम्"]
    assert word_tokens("हिंदी") == ["हिंदी"]


@pytest.mark.parametrize(
    "word",
    [
        "कि",  # vowel sign I, U+093F (matra, Mc)
        "कुछ",  # vowel sign U, U+0941 (matra, Mn)
        "किम्",  # virama U+094D
        f"{QA_DECOMPOSED}िला",  # nukta U+093C
        "ज़िंदगी",  # nukta + matra + anusvara
        "हिंदी",  # anusvara U+0902
        "आँख",  # candrabindu U+0901
        "दुःख",  # visarga U+0903 (Mc)
        "क\u0900",  # inverted candrabindu U+0900
        "क\u093a",  # vowel sign OE U+093A (start of the U+093A–U+094F block)
        "क\u094f",  # vowel sign AW U+094F (end of that block)
        "कॢप्त",  # vowel sign vocalic L U+0962
        "क\u0963",  # vowel sign vocalic LL U+0963
        "क्षत्रिय",  # conjunct: virama between consonants
    ],
)
def test_word_tokens_keep_devanagari_marks(word: str) -> None:
    assert word_tokens(word) == [word]
    assert word_tokens(f"  {word}।") == [word]


def test_word_tokens_dandas_and_punctuation_separate() -> None:
    assert word_tokens("राम आया।सीता गई॥ ठीक, है?") == ["राम", "आया", "सीता", "गई", "ठीक", "है"]
    assert word_tokens("Kim's U.S.-visit, 2024!") == ["kim", "s", "u", "s", "visit", "2024"]
    assert word_tokens("डॉ॰ सिंह") == ["डॉ", "सिंह"]  # U+0970 abbreviation sign separates


def test_word_tokens_normalise_nfc_and_case() -> None:
    assert word_tokens(f"{QA_PRECOMPOSED}िला") == word_tokens(f"{QA_DECOMPOSED}िला")
    assert word_tokens("STRASSE") == word_tokens("Straße") == ["strasse"]


def test_word_tokens_drop_zero_width_joiners() -> None:
    # ZWJ/ZWNJ only change how a conjunct is drawn; the word is the same.
    assert word_tokens("क्\u200dष") == ["क्ष"]
    assert word_tokens("क्\u200cष") == ["क्ष"]


def test_word_tokens_keep_devanagari_digits() -> None:
    assert word_tokens("सन् २०२४ में") == ["सन्", "२०२४", "में"]


def test_word_tokens_empty() -> None:
    assert word_tokens("") == []
    assert word_tokens(" ।॥ ,.") == []


# --------------------------------------------------------------------------------------------
# token_f1
# --------------------------------------------------------------------------------------------


def test_token_f1_hindi_by_hand() -> None:
    # prediction: पुतिन ने किम को बुलाया            -> 5 tokens
    # gold:       किम ने पुतिन को आमंत्रित किया    -> 6 tokens
    # overlap {पुतिन, ने, किम, को} = 4; P = 4/5, R = 4/6 = 2/3
    # F1 = 2PR/(P+R) = 2*(8/15)/(22/15) = 16/22 = 8/11
    assert token_f1("पुतिन ने किम को बुलाया", ["किम ने पुतिन को आमंत्रित किया"]) == pytest.approx(8 / 11)


def test_token_f1_best_gold_wins() -> None:
    # pred: किम जोंग उन ने पुतिन को आमंत्रित किया (8 tokens); gold 2: पुतिन को आमंत्रित (3)
    # overlap 3: P = 3/8, R = 1 -> F1 = 2*(3/8)/(11/8) = 6/11; gold 1 shares nothing.
    pred = "किम जोंग उन ने पुतिन को आमंत्रित किया।"
    assert token_f1(pred, ["मॉस्को", "पुतिन को आमंत्रित"]) == pytest.approx(6 / 11)


def test_token_f1_matra_distinguishes_words() -> None:
    # "कि" and "क" are different words; a \w+ tokeniser would reduce both to "क" and score 1.0.
    assert token_f1("कि", ["क"]) == 0.0


def test_token_f1_multiset_overlap() -> None:
    # pred की×3, gold की×1: overlap 1, P = 1/3, R = 1 -> F1 = (2/3)/(4/3) = 0.5
    assert token_f1("की की की", ["की"]) == pytest.approx(0.5)
    # pred की×3, gold की×2: overlap 2, P = 2/3, R = 1 -> F1 = (4/3)/(5/3) = 0.8
    assert token_f1("की की की", ["की की"]) == pytest.approx(0.8)


def test_token_f1_exact_and_normalised_match() -> None:
    assert token_f1("Die STRASSE.", ["die straße"]) == 1.0
    assert token_f1(f"{QA_PRECOMPOSED}िला", [f"{QA_DECOMPOSED}िला"]) == 1.0


def test_token_f1_empty_sides() -> None:
    assert token_f1("", ["x"]) == 0.0
    assert token_f1("।", ["x"]) == 0.0
    assert token_f1("x", []) == 0.0
    assert token_f1("x", ["", "!!"]) == 0.0
    assert token_f1("", [""]) == 0.0
    assert token_f1("a b", ["c d"]) == 0.0


# --------------------------------------------------------------------------------------------
# Retrieval
# --------------------------------------------------------------------------------------------


def test_dedupe_keeps_first_occurrence() -> None:
    assert dedupe(["a", "b", "a", "c", "b"]) == ["a", "b", "c"]
    assert dedupe([]) == []


def test_gold_rank_basic_and_repeats() -> None:
    assert gold_rank(["g", "x"], ["g"]) == 1
    # a, a, b, g -> deduplicated a, b, g -> article rank 3
    assert gold_rank(["a", "a", "b", "g"], ["g"]) == 3
    # the passage-level (raw position) rank is 4
    assert gold_rank(["a", "a", "b", "g"], ["g"], unique=False) == 4


def test_gold_rank_several_golds_takes_first() -> None:
    assert gold_rank(["x", "g2", "g1"], ["g1", "g2"]) == 2


def test_gold_rank_none_cases() -> None:
    assert gold_rank([], ["g"]) is None
    assert gold_rank(["a", "b"], ["g"]) is None
    assert gold_rank(["a", "b"], []) is None


def test_hit_at_k() -> None:
    assert hit_at_k(3, 3)
    assert not hit_at_k(4, 3)
    assert not hit_at_k(None, 10)
    assert hit_at_k(1, 1)
    with pytest.raises(ValueError):
        hit_at_k(1, 0)


def test_reciprocal_rank() -> None:
    assert reciprocal_rank(1) == 1.0
    assert reciprocal_rank(4) == 0.25
    assert reciprocal_rank(10, k=10) == pytest.approx(0.1)
    assert reciprocal_rank(11, k=10) == 0.0
    assert reciprocal_rank(3, k=2) == 0.0
    assert reciprocal_rank(None) == 0.0


def test_ndcg_single_gold() -> None:
    assert ndcg_at_k(["g", "x"], ["g"]) == 1.0
    # rank 2: DCG = 1/log2(3); IDCG = 1
    assert ndcg_at_k(["x", "g"], ["g"]) == pytest.approx(1 / math.log2(3))


def test_ndcg_repeats_are_deduplicated() -> None:
    # x, x, g -> x, g: rank 2, 1/log2(3) ≈ 0.631 (rank 3 without dedupe would give 0.5)
    assert ndcg_at_k(["x", "x", "g"], ["g"]) == pytest.approx(1 / math.log2(3))
    # a gold article retrieved twice is counted once: DCG = 1, IDCG = 1
    assert ndcg_at_k(["g", "g", "g"], ["g"]) == 1.0


def test_ndcg_two_golds_both_retrieved() -> None:
    # both golds on top, in either order: DCG = IDCG -> 1.0
    assert ndcg_at_k(["g1", "g2", "x"], ["g1", "g2"]) == pytest.approx(1.0)
    assert ndcg_at_k(["g2", "g1", "x"], ["g1", "g2"]) == pytest.approx(1.0)
    # g1 at 1, g2 at 3: DCG = 1 + 1/log2(4) = 1.5; IDCG = 1 + 1/log2(3) ≈ 1.6309 -> ≈ 0.9197
    assert ndcg_at_k(["g1", "x", "g2"], ["g1", "g2"]) == pytest.approx(1.5 / (1 + 1 / math.log2(3)))
    assert ndcg_at_k(["g1", "x", "g2"], ["g1", "g2"]) == pytest.approx(0.9197207891)


def test_ndcg_several_golds_ideal_capped_at_k() -> None:
    # 3 golds, 1 retrieved at rank 2, k = 10: DCG = 1/log2(3) ≈ 0.6309;
    # IDCG = 1 + 1/log2(3) + 1/log2(4) ≈ 2.1309 -> ≈ 0.2961
    assert ndcg_at_k(["x", "g1"], ["g1", "g2", "g3"]) == pytest.approx(0.2960819110)
    # k = 2 caps the ideal at 2 relevant items: g1, g2 on top is perfect even though g3 is missing
    assert ndcg_at_k(["g1", "g2", "g3"], ["g1", "g2", "g3"], k=2) == pytest.approx(1.0)
    assert ndcg_at_k(["g1", "g2"], ["g1", "g2", "g3"], k=2) == pytest.approx(1.0)
    # duplicate gold ids count once in the ideal
    assert ndcg_at_k(["g1"], ["g1", "g1"]) == 1.0


def test_ndcg_cutoff_and_empty() -> None:
    assert ndcg_at_k(["x", "y", "g"], ["g"], k=2) == 0.0
    assert ndcg_at_k([], ["g"]) == 0.0
    assert ndcg_at_k(["g"], []) == 0.0
    with pytest.raises(ValueError):
        ndcg_at_k(["g"], ["g"], k=0)


# --------------------------------------------------------------------------------------------
# Citations
# --------------------------------------------------------------------------------------------


def test_citation_precision() -> None:
    # a is gold: 2 of 4 citations (repeats count) -> 0.5
    assert citation_precision(["a", "b", "a", "c"], ["a"]) == pytest.approx(0.5)
    assert citation_precision(["a", "b"], ["a", "b"]) == 1.0
    assert citation_precision(["a"], []) == 0.0
    assert citation_precision([], ["a"]) is None


def test_citation_support() -> None:
    pairs = [
        # supported: marker and final "." dropped, case and whitespace folded
        ("Kim invited Putin. [1]", "In June, Kim  invited PUTIN to Pyongyang."),
        # not supported: the passage says something else
        ("He accepted. [2]", "Putin declined the offer."),
    ]
    assert citation_support(pairs) == pytest.approx(0.5)


def test_citation_support_hindi_nfd_passage() -> None:
    sentence = f"किम ने {QA_PRECOMPOSED}िले का दौरा किया। [1]"
    passage = f"गुरुवार को किम ने {QA_DECOMPOSED}िले का दौरा किया, अधिकारियों ने बताया।"
    assert citation_support([(sentence, passage)]) == 1.0


def test_citation_support_empty() -> None:
    assert citation_support([]) is None
    # a sentence that is only a marker has nothing to judge
    assert citation_support([("[1]", "anything")]) is None
    assert citation_support([("[1]", "anything"), ("B.", "a b c")]) == 1.0


# --------------------------------------------------------------------------------------------
# Abstention
# --------------------------------------------------------------------------------------------


def test_abstention_rates_by_hand() -> None:
    # 5 answerable, 2 of them declined; 3 unanswerable, 2 of them declined.
    records = [(True, True), (True, True), (True, False), (True, False), (True, False)]
    records += [(False, True), (False, True), (False, False)]
    rates = abstention_rates(iter(records))  # any iterable, e.g. a generator
    assert rates["declined_unanswerable"] == pytest.approx(2 / 3)
    assert rates["decline_recall"] == pytest.approx(2 / 3)
    assert rates["wrongly_declined"] == pytest.approx(2 / 5)
    # declined 4, of which 2 unanswerable
    assert rates["decline_precision"] == pytest.approx(0.5)
    assert set(rates) == {"declined_unanswerable", "wrongly_declined", "decline_precision", "decline_recall"}


def test_abstention_rates_missing_denominators() -> None:
    assert abstention_rates([(True, False), (True, False)]) == {
        "declined_unanswerable": None,
        "wrongly_declined": 0.0,
        "decline_precision": None,
        "decline_recall": None,
    }
    assert abstention_rates([(False, True)]) == {
        "declined_unanswerable": 1.0,
        "wrongly_declined": None,
        "decline_precision": 1.0,
        "decline_recall": 1.0,
    }
    assert set(abstention_rates([]).values()) == {None}


# --------------------------------------------------------------------------------------------
# Aggregation
# --------------------------------------------------------------------------------------------


def test_percentile_by_hand() -> None:
    values = [4.0, 1.0, 3.0, 2.0]  # sorted: 1 2 3 4
    assert percentile(values, 0) == 1.0
    assert percentile(values, 100) == 4.0
    assert percentile(values, 50) == pytest.approx(2.5)  # position 1.5
    assert percentile(values, 90) == pytest.approx(3.7)  # position 2.7 -> 3 + 0.7
    assert percentile([10.0, 1.0, 5.0], 25) == pytest.approx(3.0)  # position 0.5 -> 1 + 0.5*4
    assert percentile([7.0], 95) == 7.0


def test_percentile_matches_numpy_default() -> None:
    rng = random.Random(1234)
    for n in (1, 2, 3, 10, 57):
        values = [rng.uniform(0, 5) for _ in range(n)]
        for p in (0, 1, 25, 50, 90, 95, 99, 100):
            assert percentile(values, p) == pytest.approx(float(np.percentile(values, p)))


def test_percentile_empty_and_bad_p() -> None:
    assert percentile([], 50) is None
    with pytest.raises(ValueError):
        percentile([1.0], 101)
    with pytest.raises(ValueError):
        percentile([1.0], -1)


def test_mean() -> None:
    assert mean([1.0, None, 2.0]) == pytest.approx(1.5)
    assert mean([None, None]) is None
    assert mean([]) is None
    assert mean([True, False, False, True]) == 0.5  # hit rate from booleans
    assert mean(x for x in [3.0]) == 3.0


def test_group_by() -> None:
    records = [
        {"id": 1, "language": "hi", "source": "xquad"},
        {"id": 2, "language": "en", "source": "xquad"},
        {"id": 3, "language": "hi", "source": "xquad"},
        {"id": 4, "language": "en", "source": "rtqa"},
        {"id": 5, "language": "en"},
    ]
    groups = group_by(records, ("language", "source"))
    assert list(groups) == [("hi", "xquad"), ("en", "xquad"), ("en", "rtqa"), ("en", None)]
    assert [r["id"] for r in groups[("hi", "xquad")]] == [1, 3]
    assert [r["id"] for r in groups[("en", None)]] == [5]
    assert [r["id"] for r in group_by(records, ("language",))[("en",)]] == [2, 4, 5]
    assert group_by(records, ()) == {(): records}
    assert group_by([], ("language",)) == {}
