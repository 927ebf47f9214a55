"""The extractive answerer's choices, on hand-made evidence (no model, no store)."""

from __future__ import annotations

from index.records import Passage
from rag.answer import DECLINE_TEXT, DeclineThresholds, ExtractiveAnswerer
from rag.types import Evidence
from tests.factories import make_passage, make_query


def passage(article_id: str, rank: int, text: str) -> Passage:
    return make_passage(article_id, text, rank, chunk_id=f"{article_id}:0", start=100, end=100 + len(text))


def evidence(text: str, similarity: float, score: float, p: Passage) -> Evidence:
    start = p.start + p.text.index(text)
    return Evidence(text, start, start + len(text), similarity, score, p)


A = passage("a", 1, "Kim met Putin at Vostochny. They spoke for four hours. Kim invited Putin.")
B = passage("b", 2, "Kim invited Putin. The visit lasted six days.")


def test_declines_on_the_best_sentences_evidence_score_not_its_cosine():
    answerer = ExtractiveAnswerer(max_sentences=2, thresholds=DeclineThresholds(0.815, 0.815), margin=0.01)
    # Cosine under the threshold, but term overlap and rank lift the score over it: answered.
    lifted = [evidence("Kim met Putin at Vostochny.", 0.79, 0.83, A)]
    answer = answerer.answer(make_query("Where did Kim meet Putin?", ""), lifted, [A])
    assert not answer.declined and answer.confidence == 0.83
    # Cosine over the threshold does not save a score under it.
    weak = [evidence("Kim met Putin at Vostochny.", 0.82, 0.81, A)]
    declined = answerer.answer(make_query("Where did Kim meet Putin?", ""), weak, [A])
    assert declined.declined and declined.text == DECLINE_TEXT and declined.citations == []
    assert "0.810 is below the threshold 0.815" in declined.reason and declined.passages == [A]


def test_quotes_a_second_sentence_only_within_the_margin_and_never_the_same_sentence_twice():
    answerer = ExtractiveAnswerer(max_sentences=2, thresholds=DeclineThresholds(0.5, 0.5), margin=0.01)
    ranked = [
        evidence("Kim invited Putin.", 0.86, 0.900, A),
        evidence("Kim invited Putin.", 0.86, 0.895, B),  # the syndicated copy's same sentence
        evidence("They spoke for four hours.", 0.85, 0.892, A),
        evidence("The visit lasted six days.", 0.84, 0.880, B),  # outside the margin
    ]
    answer = answerer.answer(make_query("What did Kim do?", ""), ranked, [A, B])
    assert answer.text == "Kim invited Putin. [1] They spoke for four hours. [2]"
    assert [(c.marker, c.article_id) for c in answer.citations] == [(1, "a"), (2, "a")]
    first = answer.citations[0]
    assert A.text[slice(*first.highlight)] == "Kim invited Putin."
    one = ExtractiveAnswerer(max_sentences=1, thresholds=DeclineThresholds(0.5, 0.5), margin=0.05).answer(
        make_query("q", ""), ranked, [A, B]
    )
    assert len(one.citations) == 1


def test_cross_lingual_questions_are_held_to_their_own_threshold():
    hindi = make_passage("h", "किम ने पुतिन से मुलाकात की।", 1, chunk_id="h:0", language="hi")
    best = [evidence("किम ने पुतिन से मुलाकात की।", 0.82, 0.83, hindi)]
    thresholds = DeclineThresholds(0.875, 0.8)
    answerer = ExtractiveAnswerer(max_sentences=2, thresholds=thresholds, margin=0.01)
    # An English question over Hindi text: 0.83 clears the cross-lingual 0.8.
    assert not answerer.answer(make_query("Whom did Kim meet?", "en"), best, [hindi]).declined
    # The same score for a Hindi question falls short of the same-language 0.875.
    same = answerer.answer(make_query("किम किससे मिले?", "hi"), best, [hindi])
    assert same.declined and "below the threshold 0.875" in same.reason
    # An undetected question language is held to the same-language threshold.
    assert answerer.answer(make_query("Kim?", ""), best, [hindi]).declined
    # The choice is the thresholds record's, the one rule the digest timeline follows too.
    assert [thresholds.for_languages(q, "hi") for q in ("en", "hi", "")] == [0.8, 0.875, 0.875]


def test_a_question_naming_what_the_passage_never_mentions_needs_the_name_margin_more():
    hindi = make_passage(
        "h",
        "रूसी राष्ट्रपति व्लादिमीर पुतिन ने किम जोंग उन को मॉस्को आने का न्योता दिया।",
        1,
        chunk_id="h:0",
        language="hi",
    )
    best = [evidence(hindi.text, 0.80, 0.81, hindi)]
    answerer = ExtractiveAnswerer(1, DeclineThresholds(0.875, 0.8), margin=0.01, name_margin=0.02)
    # France is named nowhere in the passage, in either script: 0.81 falls short of 0.8 + 0.02.
    france = answerer.answer(make_query("Who is the president of France?", "en"), best, [hindi])
    assert france.declined and "0.820 (raised by 0.020: the passage never mentions france)" in france.reason
    # Putin is (पुतिन), and so is Moscow (मॉस्को): the plain threshold.
    for question in ("Whom did Putin invite?", "Who was invited to Moscow?"):
        assert not answerer.answer(make_query(question, "en"), best, [hindi]).declined, question
    # A question that names nothing, and the margin off, keep the plain threshold too.
    assert not answerer.answer(make_query("Who was invited?", "en"), best, [hindi]).declined
    off = ExtractiveAnswerer(1, DeclineThresholds(0.875, 0.8), margin=0.01)
    assert not off.answer(make_query("Who is the president of France?", "en"), best, [hindi]).declined
