"""The cross-lingual tie-break: which sentences it reorders (fake aligner), and the real model's
word alignment (session model)."""

from __future__ import annotations

import pytest

from index.embedding.embedder import truncated_encoder
from index.records import Passage
from khabar.settings import Settings
from rag.alignment import PassageTieBreak, SentenceTieBreak, WordAligner
from rag.answer import DeclineThresholds, ExtractiveAnswerer
from rag.types import Evidence
from tests.factories import make_passage, make_query

HINDI = make_passage("h", "x" * 200, 1, chunk_id="h:0", language="hi", end=200)


def hindi(article: str, rank: int, score: float) -> Passage:
    p = make_passage(article, "x" * 100, rank, chunk_id=f"{article}:0", language="hi", end=100)
    p.score = score
    return p


def ev(text: str, score: float) -> Evidence:
    return Evidence(text, 0, len(text), score, score, HINDI)


class TieBreaks:
    """The passage and the sentence tie-break as the service configures them."""

    def __init__(self, aligner, evidence=None):
        self.passages = PassageTieBreak(aligner, evidence, weight=0.3, margin=0.01, candidates=3)
        self.sentences = SentenceTieBreak(aligner, weight=0.3, margin=0.02, candidates=3)


def tie_break_with(aligner, evidence=None) -> TieBreaks:
    return TieBreaks(aligner, evidence)


class FakeAligner:
    """Aligns best with sentences that contain the word "answer"; records what it was asked."""

    def __init__(self) -> None:
        self.asked: list[list[str]] = []

    def maxsim(self, question: str, sentences: list[str]) -> list[float]:
        self.asked.append(list(sentences))
        return [0.9 if "answer" in s else 0.4 for s in sentences]


def test_near_tied_sentences_of_a_cross_lingual_question_are_reordered_by_alignment():
    aligner = FakeAligner()
    tie_break = tie_break_with(aligner)
    evidence = [ev("topic", 0.90), ev("the answer", 0.885), ev("also tied", 0.881), ev("far answer", 0.80)]
    out = tie_break.sentences.process(make_query("Whom did Kim meet?", "en"), evidence)
    assert [e.text for e in out] == ["the answer", "topic", "also tied", "far answer"]
    assert aligner.asked == [["topic", "the answer", "also tied"]]  # only the tied top 3
    assert [e.score for e in out][:2] == [0.885, 0.90]  # scores are kept, only the order changes


def test_tie_break_leaves_same_language_untied_and_disabled_cases_alone():
    aligner = FakeAligner()
    tie_break = tie_break_with(aligner)
    tied = [ev("topic", 0.90), ev("the answer", 0.89)]
    assert tie_break.sentences.process(make_query("किम किससे मिले?", "hi"), tied) == tied  # same language
    assert tie_break.sentences.process(make_query("Kim?", ""), tied) == tied  # language unknown
    clear = [ev("topic", 0.90), ev("the answer", 0.85)]
    assert tie_break.sentences.process(make_query("Whom did Kim meet?", "en"), clear) == clear  # no tie
    assert aligner.asked == []
    off = tie_break_with(None)
    assert off.sentences.process(make_query("Whom did Kim meet?", "en"), tied) == tied


def test_near_tied_passages_are_reordered_by_their_best_aligned_close_sentence():
    from rag.evidence import StoredSentence

    a, b, c, d = hindi("a", 1, 0.850), hindi("b", 2, 0.845), hindi("c", 3, 0.842), hindi("d", 4, 0.80)

    class Sentences:
        def by_passage(self, query_embedding, passages):
            rows = {
                "a": [("a topic sentence", 0.84), ("a second topic", 0.83)],
                "b": [("b second, never compared", 0.82), ("b holds the answer", 0.84)],
                "c": [("c topic", 0.83)],
            }
            return {
                p.chunk_id: [
                    StoredSentence(text, p.content_hash, i, i + 1, sim)
                    for i, (text, sim) in enumerate(rows[p.article_id])
                ]
                for p in passages
            }

    aligner = FakeAligner()
    tie_break = tie_break_with(aligner, Sentences())
    out = tie_break.passages.process(make_query("Whom did Kim meet?", "en", [0.0]), [a, b, c, d])
    # b's closest sentence aligns best: 0.845 + 0.3 x 0.9 beats 0.850 + 0.3 x 0.4.
    assert [p.article_id for p in out] == ["b", "a", "c", "d"] and [p.rank for p in out] == [1, 2, 3, 4]
    # One call for all tied passages, with each passage's closest sentence only.
    assert aligner.asked[0] == ["a topic sentence", "b holds the answer", "c topic"]
    assert out[0].score == 0.845  # scores kept
    # Configured to compare two sentences per passage, each passage's best-aligned one counts.
    two = FakeAligner()
    wider = PassageTieBreak(two, Sentences(), weight=0.3, margin=0.01, candidates=3, sentences_per_passage=2)  # type: ignore[arg-type]
    assert [p.article_id for p in wider.process(make_query("Whom did Kim meet?", "en", [0.0]), [a, b, c, d])][
        :2
    ] == ["b", "a"]
    assert two.asked[0] == [
        "a topic sentence",
        "a second topic",
        "b holds the answer",
        "b second, never compared",
        "c topic",
    ]
    # A same-language question, or a clear winner, is left as it is.
    assert tie_break.passages.process(make_query("किम किससे मिले?", "hi", [0.0]), [a, b, c, d]) == [a, b, c, d]
    assert tie_break.passages.process(make_query("Whom did Kim meet?", "en", [0.0]), [a, d]) == [a, d]


def test_answerer_reads_the_best_score_wherever_a_tie_break_put_it():
    answerer = ExtractiveAnswerer(max_sentences=2, thresholds=DeclineThresholds(0.875, 0.8), margin=0.01)
    reordered = [ev("the answer", 0.805), ev("topic", 0.81), ev("other", 0.79)]
    answer = answerer.answer(make_query("Whom did Kim meet?", "en"), reordered, [HINDI])
    assert not answer.declined and answer.confidence == 0.81
    # The first in order is quoted first; the best is within the margin of itself, "other" is not.
    assert [c.sentence for c in answer.citations] == ["the answer", "topic"]
    weak = [ev("the answer", 0.78), ev("topic", 0.79)]
    assert answerer.answer(make_query("Whom did Kim meet?", "en"), weak, [HINDI]).declined


def test_truncated_encoder_matches_the_full_models_hidden_state(torch_model):
    import torch

    st = torch_model._sentence_transformer
    model = st[0].auto_model
    view = truncated_encoder(model, 8)
    assert len(view.encoder.layer) == 8 and len(model.encoder.layer) == 12  # the model is untouched
    enc = st.tokenizer(["query: When did the war end?"], return_tensors="pt")
    with torch.no_grad():
        full = model(**enc, output_hidden_states=True).hidden_states[8]
        part = view(**enc).last_hidden_state
    assert torch.allclose(full, part, atol=1e-5)


def test_word_alignment_prefers_the_hindi_sentence_that_answers_the_english_question(embed_model):
    aligner = WordAligner(embed_model.token_encoder(8, 128, 2048))
    question = "Until when did Warsaw's first stock exchange keep trading?"
    answering = "वारसॉ का पहला स्टॉक एक्सचेंज 1817 में स्थापित हुआ और द्वितीय विश्व युद्ध तक इसमें व्यापार होता रहा।"
    topical = "आज वारसॉ स्टॉक एक्सचेंज इस क्षेत्र का सबसे बड़ा बाज़ार है।"
    unrelated = "मानसून की बारिश से किसानों को राहत मिली।"
    scores = aligner.maxsim(question, [answering, topical, unrelated])
    # Word by word, the sentence holding "first", "until"/"तक" and "trading"/"व्यापार" wins clearly.
    assert scores[0] > scores[1] + 0.05 and scores[1] > scores[2]
    assert scores[0] == pytest.approx(aligner.maxsim(question, [answering])[0])  # cached, same value
    assert all(0 < s <= 1 for s in scores)


def test_alignment_is_off_when_disabled_or_when_the_model_has_no_encoder_layers(caplog):
    from khabar import components

    class NoLayers:
        """An embedder whose model has no encoder layers to read token vectors from."""

        def token_encoder(self, layer, max_tokens, cache_size):
            return None

    assert components.word_aligner(Settings(alignment_weight=0.0), NoLayers()) is None  # type: ignore[arg-type]
    with caplog.at_level("WARNING"):
        assert components.word_aligner(Settings(), NoLayers()) is None  # type: ignore[arg-type]
    assert "word alignment is off" in caplog.text


def test_a_model_without_a_transformer_stack_offers_no_token_vectors():
    from types import SimpleNamespace

    from index.embedding import SentenceTransformerEmbedder

    st = SimpleNamespace(tokenizer=None)  # not a transformer stack
    model = SentenceTransformerEmbedder(SimpleNamespace(_model=st), "fake", "query: ", "passage: ")  # type: ignore[arg-type]
    assert model.token_encoder(8, 128, 16) is None


def test_a_cache_smaller_than_one_call_still_returns_every_sentences_vectors(embed_model):
    question = "Who won the election?"
    sentences = ["चुनाव में भाजपा जीती।", "मानसून की बारिश हुई।", "क्रिकेट मैच रद्द हुआ।"]
    roomy = WordAligner(embed_model.token_encoder(8, 128, 2048))
    tiny = WordAligner(embed_model.token_encoder(8, 128, 1))
    expected = roomy.maxsim(question, sentences)
    assert tiny.maxsim(question, sentences) == pytest.approx(expected, abs=1e-3)
    assert tiny.maxsim(question, sentences) == pytest.approx(expected, abs=1e-3)  # after evictions
    assert len(tiny.encoder._cache) == 1


def test_search_settles_passage_ties_before_the_top_k_cut():
    """A tied passage just below the cut can move into the top k: the tie-break sees the reranked
    list, not the kept passages (fakes for retrieval; the real tie-break and settings)."""
    from rag.evidence import StoredSentence
    from rag.hybrid import SpreadArticles
    from rag.service import QAService

    ranked = [hindi("a", 1, 0.850), hindi("b", 2, 0.849), hindi("c", 3, 0.848), hindi("d", 4, 0.70)]

    class Sentences:
        def by_passage(self, query_embedding, passages):
            text = {"a": "a topic", "b": "b topic", "c": "c holds the answer", "d": "d answer, too far"}
            return {
                p.chunk_id: [StoredSentence(text[p.article_id], p.content_hash, 0, 1, 0.8)] for p in passages
            }

    class Ranked:
        def retrieve(self, query, candidates):
            return ranked

    class Queries:
        def build(self, question, filters=None, history=(), standalone=None, now=None):
            return make_query(question, "en", [0.0])

    tie_break = tie_break_with(FakeAligner(), Sentences())
    service = QAService(
        None,  # type: ignore[arg-type]
        Queries(),  # type: ignore[arg-type]
        Ranked(),
        [SpreadArticles(1), tie_break.passages],
        None,  # type: ignore[arg-type]
        [],
        None,  # type: ignore[arg-type]
        top_k=2,
        candidates=4,
        answer_passages=2,
    )
    found = service.search("Whom did Kim meet?")
    assert found.language == "en"
    assert [p.article_id for p in found.passages] == ["c", "a"]  # c was third, below the cut of 2
