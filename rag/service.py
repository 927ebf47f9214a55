"""The question-answering service every face uses: CLI ``ask``, the chat, and ``khabar eval``."""

from __future__ import annotations

import logging
import time
from collections.abc import Iterator, Sequence
from dataclasses import dataclass

from index.language import detect_language
from index.lexical import LexicalIndex
from index.records import Passage, SearchFilters
from khabar.settings import Settings
from rag.alignment import CrossLingualTieBreak, TokenAligner
from rag.answer import ExtractiveAnswerer
from rag.evidence import SentenceEvidence
from rag.hybrid import HybridRetriever, spread_articles
from rag.rerank import SentenceAwareReranker
from rag.retriever import DenseRetriever
from rag.types import Answer, Evidence

logger = logging.getLogger(__name__)


@dataclass
class Search:
    """What :meth:`QAService.search` found, with what the later steps need from the question."""

    question: str  # whitespace-normalised
    language: str  # detected ("" when unsure)
    query_embedding: list[float]
    passages: list[Passage]
    embed_ms: float


class QAService:
    def __init__(self, settings: Settings, index_name: str | None = None):
        from khabar.embedding import get_embed_model
        from khabar.store import index_dir, open_stores

        self.settings = settings
        self.stores = open_stores(settings, index_name)
        self.embed_model = get_embed_model(settings)
        self.lexical = LexicalIndex(
            index_dir(settings, index_name),
            k1=settings.bm25_k1,
            b=settings.bm25_b,
            stem=settings.bm25_stemming,
        )
        self.retriever = HybridRetriever(
            DenseRetriever(self.stores, self.embed_model, settings.top_k),
            self.lexical,
            mode=settings.retrieval_mode,
            fusion=settings.fusion,
            dense_weight=settings.dense_weight,
            rrf_k=settings.rrf_k,
            depth=settings.retrieval_depth,
            dedup_threshold=settings.dedup_threshold,
            weight_by_coverage=settings.lexical_weight_by_coverage,
        )
        # The first forward pass pays torch's one-time set-up (~0.5 s); pay it here, not on a question.
        self.embed_model.get_query_embedding("warm-up")
        self.evidence = SentenceEvidence(
            self.stores, settings.evidence_lexical_weight, settings.evidence_rank_weight
        )
        self.reranker = SentenceAwareReranker(
            self.stores, self.evidence, settings.rerank_sentence_weight, settings.rerank_lexical_weight
        )
        self.tie_break = CrossLingualTieBreak(
            make_aligner(self.embed_model, settings),
            self.evidence,
            settings.alignment_weight,
            settings.alignment_passage_margin,
            settings.alignment_sentence_margin,
            settings.alignment_passage_candidates,
            settings.alignment_sentence_candidates,
        )
        self.answerer = ExtractiveAnswerer(
            settings.answer_sentences,
            settings.min_evidence_score,
            settings.answer_margin,
            settings.min_evidence_score_cross_lingual,
        )
        detect_language("warm-up")  # lingua loads its Latin-script models on first use (~0.7 s)

    def is_empty(self) -> bool:
        return self.stores.chunk_collection.count() == 0

    def ask(self, question: str, filters: SearchFilters | None = None, history: Sequence[str] = ()) -> Answer:
        """Answer ``question``; ``history`` holds the conversation's earlier questions, oldest first."""
        *_, answer = self.ask_stream(question, filters, history)
        assert isinstance(answer, Answer)
        return answer

    def search(
        self, question: str, filters: SearchFilters | None = None, history: Sequence[str] = ()
    ) -> Search:
        """The question's passages, best first: retrieval, rerank, one passage per article first,
        then (cross-lingual questions) the word-alignment tie-break among the top few."""
        question = " ".join(question.split())
        if not question:
            raise ValueError("The question is empty.")
        t0 = time.perf_counter()
        query_embedding = self.embed_model.get_query_embedding(question)
        search_text, search_embedding = question, query_embedding
        if history:
            search_text = f"{history[-1]} {question}"
            search_embedding = self.embed_model.get_query_embedding(search_text)
        embed_ms = round((time.perf_counter() - t0) * 1000, 2)
        top_k = self.settings.top_k
        # The reranker may lift a candidate from below the cut: it sees more passages than are kept.
        depth = max(self.settings.rerank_depth, top_k)
        candidates = self.retriever.retrieve(search_text, search_embedding, filters, depth)
        reranked = self.reranker.rerank(search_embedding, candidates)
        spread = spread_articles(reranked, self.settings.passages_per_article)
        # Cross-lingual questions get near-ties settled word by word (before the cut, so a tied
        # passage just below it can move up), and their own decline threshold.
        language = detect_language(question)
        spread = self.tie_break.reorder_passages(question, language, query_embedding, spread)
        return Search(question, language, query_embedding, spread[:top_k], embed_ms)

    def evidence_for(self, found: Search, passages: Sequence[Passage]) -> list[Evidence]:
        """The sentences the answerer chooses from, best first (``passages``: ``found.passages`` or
        a subset of them; answers quote the first ``answer_passages`` only, so a deeper retrieval,
        eval's top-10, answers alike)."""
        evidence = self.evidence.score(
            found.query_embedding, list(passages[: self.settings.answer_passages]), found.question
        )
        return self.tie_break.reorder_sentences(found.question, found.language, evidence)

    def ask_stream(
        self, question: str, filters: SearchFilters | None = None, history: Sequence[str] = ()
    ) -> Iterator[str | Answer]:
        """Text deltas while the answerer writes, then the finished ``Answer`` (with timings).

        A follow-up ("And what did Kim promise?") is retrieved together with the previous question,
        so that the topic carries over; its sentences are still scored against the follow-up alone.
        """
        t0 = time.perf_counter()
        found = self.search(question, filters, history)
        t2 = time.perf_counter()
        evidence = self.evidence_for(found, found.passages)
        for piece in self.answerer.stream(found.question, evidence, found.passages, found.language):
            if isinstance(piece, Answer):
                t3 = time.perf_counter()
                piece.timings_ms = {
                    "embed": found.embed_ms,
                    "retrieve": round((t2 - t0) * 1000 - found.embed_ms, 2),
                    "answer": round((t3 - t2) * 1000, 2),
                    "total": round((t3 - t0) * 1000, 2),
                }
            yield piece


def make_aligner(embed_model: object, settings: Settings) -> TokenAligner | None:
    """The word aligner over the embedding model, or None when it is off or the model has no
    Hugging Face encoder to read token vectors from (then ties stay in evidence-score order)."""
    if settings.alignment_weight <= 0:
        return None
    try:
        return TokenAligner.from_embed_model(
            embed_model,
            settings.alignment_layer,
            settings.embed_query_prefix,
            settings.embed_passage_prefix,
        )
    except (AttributeError, TypeError, IndexError) as err:
        logger.warning(
            "word alignment is off: %s has no encoder layers to read (%s)", settings.embed_model, err
        )
        return None
