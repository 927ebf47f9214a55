"""What a quote shares with the question across scripts: found, attached to cross-lingual
citations only, and shown in the JSON and the chat."""

from __future__ import annotations

from khabar.web.render import citations_html
from rag.answer import DeclineThresholds, ExtractiveAnswerer
from rag.explain import shared_terms
from rag.types import Evidence
from tests.factories import make_passage, make_query

SENTENCE = "इस दौरान किम जोंग उन ने पुतिन से अगले १०० वर्षों के संबंधों की बात कही."


def test_names_and_numbers_are_paired_as_asked_and_as_written():
    pairs = shared_terms("What did Kim Jong Un tell Putin about the next 100 years?", SENTENCE)
    assert pairs == [("Kim Jong Un", "किम जोंग उन"), ("Putin", "पुतिन"), ("100", "१००")]


def test_words_held_in_translation_are_paired_in_their_inflected_form():
    question = "What did Kim Jong Un say about relations in the coming years?"
    translations = {"relations": ("संबंध",), "years": ("वर्ष",), "say": ("बोलना",)}
    pairs = shared_terms(question, SENTENCE, translations)
    assert pairs == [("Kim Jong Un", "किम जोंग उन"), ("relations", "संबंधों"), ("years", "वर्षों")]
    assert shared_terms(question, SENTENCE) == [("Kim Jong Un", "किम जोंग उन")]


def test_a_query_carries_its_translations_into_the_citation():
    passage = make_passage("kim", SENTENCE, 1, language="hi")
    evidence = [Evidence(SENTENCE, 0, len(SENTENCE), 0.9, 0.9, passage)]
    query = make_query("What about relations?", language="en", translations={"relations": ("संबंध",)})
    answer = ExtractiveAnswerer(1, DeclineThresholds(0.5, 0.5), 0.0).answer(query, evidence, [passage])
    assert answer.citations[0].matches == [("relations", "संबंधों")]


def test_what_is_spelled_alike_or_unrelated_is_not_listed():
    assert shared_terms("What about the 100 years?", "The plan covers 100 years.") == []
    assert shared_terms("Who is the president of France?", SENTENCE) == []


def answer(question_language: str, passage_language: str):
    passage = make_passage("kim", SENTENCE, 1, language=passage_language)
    evidence = [Evidence(SENTENCE, 0, len(SENTENCE), 0.9, 0.9, passage)]
    query = make_query("What did Kim Jong Un tell Putin?", language=question_language)
    return ExtractiveAnswerer(1, DeclineThresholds(0.5, 0.5), 0.0).answer(query, evidence, [passage])


def test_only_a_quote_across_languages_carries_its_matches():
    across = answer("en", "hi")
    assert across.citations[0].matches == [("Kim Jong Un", "किम जोंग उन"), ("Putin", "पुतिन")]
    assert across.to_dict()["citations"][0]["matches"] == [["Kim Jong Un", "किम जोंग उन"], ["Putin", "पुतिन"]]
    assert answer("hi", "hi").citations[0].matches == []


def test_the_chat_shows_the_matches_under_the_passage_with_each_side_in_its_language():
    html = citations_html(answer("en", "hi").citations, "t1")
    assert 'class="khabar-matches"' in html and "[1] matches the question:" in html
    assert '<span>Kim Jong Un</span> ↔ <span lang="hi">किम जोंग उन</span>' in html


def typed_answer(question: str, sentence: str, sentences: int):
    passage = make_passage("p", sentence, 1, language="en")
    evidence = [Evidence(sentence, 0, len(sentence), 0.9, 0.9, passage)]
    answerer = ExtractiveAnswerer(1, DeclineThresholds(0.5, 0.5), 0.0, answer_type_sentences=sentences)
    return answerer.answer(make_query(question), evidence, [passage])


def test_a_number_question_without_a_number_in_the_best_sentences_can_be_declined():
    sentence = "The council met to discuss the new stadium."
    assert not typed_answer("How many seats will the stadium have?", sentence, 0).declined  # off
    declined = typed_answer("How many seats will the stadium have?", sentence, 1)
    assert declined.declined and "asks for a number" in declined.reason
    assert not typed_answer("How many seats?", "It will have 40,000 seats.", 1).declined
    assert not typed_answer("What did the council discuss?", sentence, 1).declined  # no type asked
