"""Fusion and syndicated-copy folding, on hand-made rankings."""

from __future__ import annotations

import pytest

from index.analysis import analyze
from index.records import Passage
from rag.evidence import term_overlap
from rag.hybrid import HybridRetriever, fold_duplicates, jaccard, rrf_fuse, weighted_fuse
from tests.factories import FakeIndex, make_passage, make_query


def passage(chunk_id: str, score: float, rank: int, article: str | None = None, text: str = "") -> Passage:
    article_id = article or chunk_id.split(":")[0]
    return make_passage(
        article_id, text or chunk_id, rank, chunk_id=chunk_id, content_hash="h", score=score, end=1
    )


def test_rrf_rewards_agreement_and_keys_on_chunk_id():
    dense = [passage("a:0", 0.9, 1), passage("b:0", 0.8, 2), passage("c:0", 0.7, 3)]
    lexical = [passage("c:0", 12.0, 1), passage("a:0", 9.0, 2), passage("d:0", 1.0, 3)]
    fused = rrf_fuse([dense, lexical], [0.5, 0.5], k=60)
    ids = [p.chunk_id for p in fused]
    # a: 1/61 + 1/62, c: 1/63 + 1/61, b: 1/62, d: 1/63 (all halved)
    assert ids == ["a:0", "c:0", "b:0", "d:0"]
    assert fused[0].score == pytest.approx(0.5 / 61 + 0.5 / 62)
    assert [p.rank for p in fused] == [1, 2, 3, 4]
    assert len(set(ids)) == len(ids)


def test_rrf_weights_tip_the_balance():
    dense = [passage("a:0", 0.9, 1), passage("b:0", 0.8, 2)]
    lexical = [passage("b:0", 5.0, 1), passage("a:0", 4.0, 2)]
    assert rrf_fuse([dense, lexical], [0.9, 0.1], k=1)[0].chunk_id == "a:0"
    assert rrf_fuse([dense, lexical], [0.1, 0.9], k=1)[0].chunk_id == "b:0"


def test_weighted_fusion_min_max_normalises_each_list():
    dense = [passage("a:0", 0.90, 1), passage("b:0", 0.80, 2), passage("c:0", 0.70, 3)]
    lexical = [passage("c:0", 30.0, 1), passage("b:0", 20.0, 2), passage("a:0", 10.0, 3)]
    fused = {p.chunk_id: p.score for p in weighted_fuse([dense, lexical], [0.5, 0.5])}
    assert fused == pytest.approx({"a:0": 0.5, "b:0": 0.5, "c:0": 0.5})
    fused = {p.chunk_id: p.score for p in weighted_fuse([dense, lexical], [0.75, 0.25])}
    assert fused["a:0"] == pytest.approx(0.75)
    assert fused["c:0"] == pytest.approx(0.25)
    assert weighted_fuse([[], lexical], [0.5, 0.5])[0].chunk_id == "c:0"


def test_syndicated_copy_is_folded_into_the_better_ranked_one():
    story = "Kim Jong Un invited Vladimir Putin to visit North Korea and Putin accepted the invitation"
    copy = story + " on Thursday"
    other = "The cricket team won the final in Mumbai after a late collapse"
    ranked = [
        passage("wire:0", 3, 1, "wire", story),
        passage("paper:0", 2, 2, "paper", copy),
        passage("sport:0", 1, 3, "sport", other),
    ]
    folded = fold_duplicates(ranked, threshold=0.6)
    assert [p.chunk_id for p in folded] == ["wire:0", "sport:0"]
    assert folded[0].also_in == ["paper"]
    assert [p.rank for p in folded] == [1, 2]
    # Two passages of the same article are not duplicates of each other, and 1.0 turns folding off.
    same = [passage("wire:0", 2, 1, "wire", story), passage("wire:1", 1, 2, "wire", story)]
    assert len(fold_duplicates(same, threshold=0.6)) == 2
    assert len(fold_duplicates(ranked, threshold=1.0)) == 3


def test_jaccard_and_term_overlap():
    assert jaccard({"a", "b"}, {"b", "c"}) == pytest.approx(1 / 3)
    assert jaccard(set(), {"a"}) == 0.0
    q = set(analyze("What did Kim promise Russia in 2023?"))
    assert term_overlap(q, "किम (Kim) ने 2023 में रूस (Russia) को समर्थन का वादा किया") == pytest.approx(
        len({"kim", "russia", "2023"}) / len(q)
    )
    assert term_overlap(set(), "anything") == 0.0


def test_sentences_without_content_words_are_never_evidence():

    from rag.evidence import SentenceEvidence

    stored = FakeIndex(
        {"h": [(")", 0, 1, [1.0, 0.0]), ("Kim invited Putin to visit North Korea.", 2, 41, [0.8, 0.6])]}
    )
    evidence = SentenceEvidence(stored)  # type: ignore[arg-type]
    p = passage("a:0", 1.0, 1, "a", "x" * 50)
    p.content_hash, p.start, p.end = "h", 0, 50
    found = evidence.score(make_query("Who invited Putin?", "en", [1.0, 0.0]), [p])
    assert [e.text for e in found] == ["Kim invited Putin to visit North Korea."]
    assert found[0].similarity == pytest.approx(0.8)


@pytest.mark.parametrize(
    ("coverage", "by_coverage", "expected"), [(0.25, True, 0.1), (1.0, True, 0.4), (0.25, False, 0.4)]
)
def test_lexical_weight_follows_the_share_of_question_terms_the_index_knows(coverage, by_coverage, expected):
    retriever = HybridRetriever(
        FakeIndex(coverage=coverage),  # type: ignore[arg-type]  # only its vocabulary coverage matters
        dense_weight=0.6,
        weight_by_coverage=by_coverage,
    )
    assert retriever.lexical_weight("any question") == pytest.approx(expected)


def test_spread_articles_demotes_an_articles_extra_passages_without_dropping_any():
    from rag.hybrid import spread_articles

    ranked = [
        passage(cid, 1.0, i) for i, cid in enumerate(["a:0", "a:1", "a:2", "b:0", "a:3", "c:0"], start=1)
    ]
    spread = spread_articles(ranked, per_article=2)
    assert [p.chunk_id for p in spread] == ["a:0", "a:1", "b:0", "c:0", "a:2", "a:3"]
    assert [p.rank for p in spread] == [1, 2, 3, 4, 5, 6]
    assert [p.chunk_id for p in spread_articles(ranked, per_article=0)] == [p.chunk_id for p in ranked]


def test_reranker_lifts_the_passage_holding_the_best_sentence():

    from rag.evidence import SentenceEvidence
    from rag.rerank import SentenceAwareReranker

    # Two chunks of one article; "a:0" is closer as a whole, "a:1" holds the matching sentence.
    chunks = {"a:0": [0.9, 0.436], "a:1": [0.8, 0.6]}
    sentences = [
        ("Warsaw has many parks and old squares.", 0, 38, [0.85, 0.527]),
        ("The Saxon Garden hosted a summer theatre.", 60, 101, [0.2, 0.98]),
    ]
    stores = FakeIndex({"h": sentences}, chunks)
    first, second = passage("a:0", 0.02, 1, "a"), passage("a:1", 0.01, 2, "a")
    first.content_hash, first.start, first.end = "h", 0, 50
    second.content_hash, second.start, second.end = "h", 50, 110
    query = [0.0, 1.0]
    evidence = SentenceEvidence(stores)  # type: ignore[arg-type]
    reranked = SentenceAwareReranker(stores, evidence, 0.3).rerank(query, [first, second])  # type: ignore[arg-type]
    # a:0 = 0.7 * 0.436 + 0.3 * 0.527 = 0.463; a:1 = 0.7 * 0.6 + 0.3 * 0.98 = 0.714
    assert [p.chunk_id for p in reranked] == ["a:1", "a:0"] and [p.rank for p in reranked] == [1, 2]
    assert reranked[0].score == pytest.approx(0.7 * 0.6 + 0.3 * 0.98)
    # Weight 0 keeps the fused order.
    kept = SentenceAwareReranker(stores, evidence, 0.0).rerank(query, [first, second])  # type: ignore[arg-type]
    assert [p.chunk_id for p in kept] == ["a:0", "a:1"]
    # BM25's support counts too: the best BM25 hit (support 1) outweighs a 0.25 cosine lead at 0.3.
    first.lexical = 1.0
    reranker = SentenceAwareReranker(stores, evidence, 0.3, lexical_weight=0.3)  # type: ignore[arg-type]
    with_words = reranker.rerank(query, [first, second])
    assert [p.chunk_id for p in with_words] == ["a:0", "a:1"]
    assert with_words[0].score == pytest.approx(0.7 * 0.436 + 0.3 * 0.527 + 0.3)
    assert with_words[1].score == pytest.approx(0.7 * 0.6 + 0.3 * 0.98)


def test_lexical_support_is_relative_to_the_best_bm25_hit_and_scaled_by_bm25s_share():
    from rag.hybrid import lexical_support

    ranking = [passage("a:0", 8.0, 1), passage("b:0", 2.0, 2)]
    assert lexical_support(ranking, 0.5) == pytest.approx({"a:0": 0.5, "b:0": 0.125})
    assert lexical_support([], 0.5) == {}


def test_sentences_are_read_once_per_article_content():
    from rag.evidence import SentenceEvidence

    stored = FakeIndex({h: [(f"Sentence of article {h} with words.", 0, 33, [1.0, 0.0])] for h in "abc"})
    evidence = SentenceEvidence(stored, cache_articles=2)  # type: ignore[arg-type]
    reads = stored.sentence_reads
    a, b, c = (passage(f"{h}:0", 1.0, 1, h, "x" * 60) for h in "abc")
    for p in (a, b, c):
        p.content_hash, p.start, p.end = p.article_id, 0, 60
    assert len(evidence.sentences([1.0, 0.0], [a, b])) == 2
    assert len(evidence.sentences([0.0, 1.0], [a, b])) == 2  # a new question, the same articles
    assert reads == [["a", "b"]]
    assert [s.similarity for s in evidence.sentences([0.0, 1.0], [a])] == [0.0]
    evidence.sentences([1.0, 0.0], [c])  # over the cache size: the least recently used (b) goes
    assert reads[-1] == ["c"]
    evidence.sentences([1.0, 0.0], [a, b])
    assert reads[-1] == ["b"]


def test_fused_passages_carry_bm25_support_for_the_reranker(tmp_path):
    from index.lexical import LexicalIndex, to_passages

    meta = {"language": "hi", "source": "s", "published_day": 0, "start": 0, "end": 40}
    with LexicalIndex(tmp_path / "lexical") as lexical:
        lexical.add("a", [("a:0", "बहाल किए गए टेप रंगीन थे", {**meta, "article_id": "a", "content_hash": "a"})])
        lexical.add("b", [("b:0", "टेप बाज़ार में बिके", {**meta, "article_id": "b", "content_hash": "b"})])
        lexical.add("c", [("c:0", "चुनाव के नतीजे आए", {**meta, "article_id": "c", "content_hash": "c"})])

        class Stored:
            """The real BM25 side, a fixed dense ranking."""

            def dense_search(self, vector, top_k, filters):
                return [passage("c:0", 0.9, 1), passage("b:0", 0.8, 2), passage("a:0", 0.7, 3)]

            def lexical_search(self, text, top_k, filters, bridged=None):
                return to_passages(lexical.search(text, top_k, filters))

        retriever = HybridRetriever(Stored(), dense_weight=0.5, weight_by_coverage=False)  # type: ignore[arg-type]
        # "टेपों" reaches "टेप" only through the stemmer.
        fused = {p.chunk_id: p for p in retriever.retrieve(make_query("बहाल टेपों", "hi"), 3)}
    assert fused["a:0"].lexical == pytest.approx(0.5)  # the best BM25 hit, times BM25's share 0.5
    assert 0 < fused["b:0"].lexical < fused["a:0"].lexical
    assert fused["c:0"].lexical == 0.0  # BM25 did not find it


def test_an_english_question_gets_bm25_support_from_names_and_translations(tmp_path):
    """ "Putin" reaches पुतिन by its skeleton, "satellite" reaches उपग्रह through the word list;
    without the list only the name does, and BM25 weighs less, since it reads less of the question."""
    from index.lexical import LexicalIndex, to_passages
    from index.lexicon import Lexicon

    meta = {"language": "hi", "source": "s", "published_day": 0, "start": 0, "end": 40}
    with LexicalIndex(tmp_path / "lexical") as lexical:
        lexical.add("a", [("a:0", "पुतिन ने उपग्रह देखा", {**meta, "article_id": "a", "content_hash": "a"})])
        lexical.add("b", [("b:0", "पुतिन मास्को लौटे", {**meta, "article_id": "b", "content_hash": "b"})])

        class Stored:
            """The real BM25 side, a fixed dense ranking."""

            def dense_search(self, vector, top_k, filters):
                return [passage("b:0", 0.9, 1), passage("a:0", 0.8, 2)]

            def lexical_search(self, text, top_k, filters, bridged=None):
                extra = [t for terms in (bridged or {}).values() for t in terms]
                return to_passages(lexical.search(text, top_k, filters, extra))

            def coverage(self, text, bridged=None):
                return lexical.coverage(text, bridged)

            def bridge(self, text):
                return lexical.bridge(text)

            def translations(self, text, lexicon):
                return lexical.translations(text, lexicon)

        words = Lexicon({"satellite": ["उपग्रह"]})
        query = make_query("Which satellite did Putin see?", "en")
        names_only = HybridRetriever(Stored(), bridge_names=True)  # type: ignore[arg-type]
        both = HybridRetriever(Stored(), bridge_names=True, lexicon=words)  # type: ignore[arg-type]
        assert names_only.bridged(query.search_text) == {"putin": ["पुतिन"]}
        assert both.bridged(query.search_text) == {"putin": ["पुतिन"], "satellite": ["उपग्रह"]}
        before = {p.chunk_id: p.lexical for p in names_only.retrieve(query, 2)}
        after = {p.chunk_id: p.lexical for p in both.retrieve(query, 2)}
    assert before["a:0"] == pytest.approx(before["b:0"])  # the name alone cannot tell them apart
    assert after["a:0"] > after["b:0"] > 0
    assert HybridRetriever(Stored()).bridged("Which satellite?") is None  # type: ignore[arg-type]


def test_sentences_by_passage_include_overlap_sentences_in_both_chunks():

    from rag.evidence import SentenceEvidence

    rows = [
        ("First sentence here.", 0, 20, [1.0, 0.0]),
        ("Overlap sentence here.", 21, 43, [0.6, 0.8]),
        ("Last sentence here.", 44, 63, [0.0, 1.0]),
    ]
    evidence = SentenceEvidence(FakeIndex({"h": rows}))  # type: ignore[arg-type]
    first, second = passage("a:0", 1.0, 1, "a"), passage("a:1", 0.9, 2, "a")
    first.content_hash, first.start, first.end = "h", 0, 43
    second.content_hash, second.start, second.end = "h", 21, 63
    found = evidence.by_passage([0.0, 1.0], [first, second])
    assert [s.text for s in found["a:0"]] == ["First sentence here.", "Overlap sentence here."]
    assert [s.text for s in found["a:1"]] == ["Overlap sentence here.", "Last sentence here."]
    assert found["a:1"][1].similarity == pytest.approx(1.0)


def test_an_article_without_quotable_sentences_leaves_the_others_answerable():
    """A two-word article ("India won.") has no sentence long enough to quote, and an article may
    have no stored sentences at all: neither may stop the other retrieved articles being scored."""
    from rag.evidence import SentenceEvidence
    from rag.rerank import SentenceAwareReranker

    good = ("Kim invited Putin to visit North Korea.", 0, 39, [0.8, 0.6])
    chunks = {"short:0": [1.0, 0.0], "good:0": [0.8, 0.6], "bare:0": [0.6, 0.8]}
    stored = FakeIndex({"good": [good], "short": [("India won.", 0, 10, [1.0, 0.0])]}, chunks)
    evidence = SentenceEvidence(stored)  # type: ignore[arg-type]
    passages = []
    for rank, h in enumerate(["short", "good", "bare"], start=1):
        p = passage(f"{h}:0", 1.0, rank, h, "x" * 40)
        p.content_hash, p.start, p.end = h, 0, 40
        passages.append(p)
    query = make_query("Who invited Putin?", "en", [1.0, 0.0])
    found = evidence.score(query, passages)
    assert [e.text for e in found] == ["Kim invited Putin to visit North Korea."]
    assert evidence.articles(["short", "bare"])["short"].rows == []  # cached as "nothing to quote"
    by_passage = evidence.by_passage(query.vector, passages)
    assert by_passage == {"short:0": [], "good:0": by_passage["good:0"], "bare:0": []}
    reranked = SentenceAwareReranker(stored, evidence, 0.3).rerank(query.vector, passages)  # type: ignore[arg-type]
    assert len(reranked) == 3


@pytest.mark.parametrize("question", ["", " \n\t", "\u200b", "\u200c \u200d", "\ufeff\u200b"])
def test_a_question_of_whitespace_or_zero_width_characters_is_empty(question):
    from rag.query import EmptyQuestion, QueryBuilder

    class NoModel:
        def embed_query(self, text: str) -> list[float]:
            raise AssertionError("an empty question must not reach the model")

    with pytest.raises(EmptyQuestion, match=r"^The question is empty\.$"):
        QueryBuilder(NoModel(), ("en",)).build(question)  # type: ignore[arg-type]
    assert issubclass(EmptyQuestion, ValueError)  # callers that caught ValueError still do
