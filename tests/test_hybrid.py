"""Fusion and syndicated-copy folding, on hand-made rankings."""

from __future__ import annotations

import pytest

from rag.evidence import term_overlap
from rag.hybrid import fold_duplicates, jaccard, rrf_fuse, weighted_fuse
from rag.lexical import analyze
from rag.types import Passage


def passage(chunk_id: str, score: float, rank: int, article: str | None = None, text: str = "") -> Passage:
    return Passage(
        chunk_id=chunk_id,
        article_id=article or chunk_id.split(":")[0],
        content_hash="h",
        title="",
        source="",
        url="",
        published="",
        language="en",
        text=text or chunk_id,
        start=0,
        end=1,
        score=score,
        rank=rank,
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
    from types import SimpleNamespace

    from rag.evidence import SentenceEvidence

    rows = {
        "documents": [")", "Kim invited Putin to visit North Korea."],
        "metadatas": [
            {"start": 0, "end": 1, "content_hash": "h"},
            {"start": 2, "end": 41, "content_hash": "h"},
        ],
        "embeddings": [[1.0, 0.0], [0.8, 0.6]],
        "ids": ["h:s0", "h:s2"],
    }
    collection = SimpleNamespace(get=lambda **_: rows)
    evidence = SentenceEvidence(SimpleNamespace(sentence_collection=collection))
    p = passage("a:0", 1.0, 1, "a", "x" * 50)
    p.content_hash, p.start, p.end = "h", 0, 50
    found = evidence.score([1.0, 0.0], [p], "Who invited Putin?")
    assert [e.text for e in found] == ["Kim invited Putin to visit North Korea."]
    assert found[0].similarity == pytest.approx(0.8)
