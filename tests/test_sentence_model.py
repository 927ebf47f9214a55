"""Answer-type evidence and the learned sentence order: no model, hand-made evidence."""

from __future__ import annotations

import json

import numpy as np
import pytest

from rag.answer_type import AnswerType, expected_type, supports
from rag.sentence_model import (
    FEATURES,
    SHIPPED,
    LearnedSentenceOrder,
    SentenceFeatures,
    SentenceModel,
)
from rag.types import Evidence
from tests.factories import make_passage, make_query

TEXT = (
    "रूस (Russia) की यात्रा पर गए किम जोंग उन (Kim Jong Un) ने पुतिन को न्योता दिया. "
    "बैठक बुधवार को हुई. किम ने अगले 100 वर्षों के संबंधों की इच्छा जताई."
)


def sentences(language: str = "hi") -> list[Evidence]:
    passage = make_passage("kim", TEXT, 1, language=language)
    out = []
    for i, s in enumerate(TEXT.split(". ")):
        start = TEXT.index(s)
        out.append(Evidence(s, start, start + len(s), 0.8 - 0.01 * i, 0.8 - 0.01 * i, passage))
    return out


@pytest.mark.parametrize(
    ("question", "kind"),
    [
        ("How many years of ties did Kim want?", AnswerType.NUMBER),
        ("When did the leaders meet?", AnswerType.DATE),
        ("In what year was it built?", AnswerType.DATE),
        ("Who invited Putin?", AnswerType.PERSON),
        ("Where did they meet?", AnswerType.PLACE),
        ("What did Kim promise?", AnswerType.OTHER),
        ("किम ने कितने वर्षों के संबंधों की इच्छा जताई?", AnswerType.NUMBER),
        ("बैठक कब हुई?", AnswerType.DATE),
        ("किस वर्ष यह बना?", AnswerType.DATE),
        ("पुतिन को किसने न्योता दिया?", AnswerType.PERSON),
        ("बैठक कहाँ हुई?", AnswerType.PLACE),
    ],
)
def test_the_expected_answer_type_comes_from_the_question_words(question, kind):
    assert expected_type(question) is kind


def test_a_sentence_supports_a_type_only_with_something_the_question_lacks():
    assert supports(AnswerType.NUMBER, "किम ने अगले 100 वर्षों की इच्छा जताई.", "How many years?")
    assert supports(AnswerType.NUMBER, "किम ने अगले १०० वर्षों की इच्छा जताई.", "How many years?")
    assert supports(AnswerType.NUMBER, "दो लाख लोग आए.", "How many people came?")
    assert not supports(AnswerType.NUMBER, "The 100 years plan.", "What is the 100 years plan?")
    assert supports(AnswerType.DATE, "बैठक बुधवार को हुई.", "When did they meet?")
    assert supports(AnswerType.DATE, "It was built in 1887.", "When was it built?")
    assert not supports(AnswerType.DATE, "It was built after 1887.", "What happened after 1887?")
    assert not supports(AnswerType.PERSON, "Kim met Putin.", "Who met Putin?")  # names: the bridge


def test_features_show_the_lead_gloss_names_and_types():
    query = make_query("How many years of ties did Kim Jong Un want?", language="en")
    x = SentenceFeatures().matrix(query, sentences())
    col = {name: x[:, i] for i, name in enumerate(FEATURES)}
    assert x.shape == (3, len(FEATURES))
    assert list(col["lead"]) == [1.0, 0.0, 0.0]
    assert list(col["position"]) == [0.0, 0.5, 1.0]
    assert col["latin_share"][0] > 0.2 and col["latin_share"][2] == 0.0  # "(Russia)", "(Kim Jong Un)"
    assert col["latin_names"][0] >= 1 and col["bridged_names"][0] >= 1  # किम जोंग उन and (Kim Jong Un)
    assert col["bridged_names"][2] == 0  # किम alone: "km" is too short a skeleton to count
    assert list(col["new_number"]) == [0.0, 0.0, 1.0] and set(col["expects_typed"]) == {1.0}
    assert set(col["cross_lingual"]) == {1.0} and col["order"][1] == 0.5


def test_a_sentence_in_another_language_shows_the_question_words_it_holds_in_translation():
    translations = {"years": ("वर्ष",), "ties": ("संबंध",)}
    query = make_query("How many years of ties did Kim want?", language="en", translations=translations)
    col = dict(zip(FEATURES, SentenceFeatures().matrix(query, sentences()).T, strict=True))
    # English words: many, years, ties, kim, want ("how", "of", "did" are stop words).
    assert col["translated_words"][2] == pytest.approx(2 / 5)  # वर्षों, संबंधों: inflected, stemmed alike
    assert list(col["translated_words"][:2]) == [0.0, 0.0]
    # No word list: nothing in translation, the other features as before.
    plain_query = make_query("How many years of ties did Kim want?", language="en")
    plain = dict(zip(FEATURES, SentenceFeatures().matrix(plain_query, sentences()).T, strict=True))
    assert set(plain["translated_words"]) == {0.0}
    assert list(plain["new_number"]) == list(col["new_number"])


def model_preferring(feature: str) -> SentenceModel:
    weights = np.zeros(len(FEATURES))
    weights[FEATURES.index(feature)] = 1.0
    return SentenceModel(FEATURES, weights, 0.0, np.zeros(len(FEATURES)), np.ones(len(FEATURES)), {})


def test_the_learned_order_moves_the_sentence_the_model_prefers_and_keeps_every_score():
    query = make_query("How many years of ties did Kim want?", language="en")
    evidence = sentences()
    step = LearnedSentenceOrder(model_preferring("new_number"), SentenceFeatures(), candidates=2)
    # Only the first two are candidates: the number sentence (third) stays where it is.
    assert step.process(query, evidence) == evidence
    step.candidates = 3
    reordered = step.process(query, evidence)
    assert reordered[0] is evidence[2] and reordered[1:] == evidence[:2]  # ties keep their order
    assert [e.score for e in reordered] == [evidence[2].score, evidence[0].score, evidence[1].score]


def test_a_model_file_round_trips_and_refuses_other_features(tmp_path):
    model = model_preferring("lead")
    path = tmp_path / "m.json"
    model.save(path)
    again = SentenceModel.load(path)
    assert again.features == FEATURES and np.allclose(again.weights, model.weights)
    data = json.loads(path.read_text(encoding="utf-8"))
    data["features"] = data["features"][:-1]
    path.write_text(json.dumps(data), encoding="utf-8")
    with pytest.raises(ValueError, match="refit"):
        SentenceModel.load(path)


def test_the_shipped_weights_load():
    model = SentenceModel.load(SHIPPED)
    assert model.weights.shape == (len(FEATURES),) and model.about["folds"]
