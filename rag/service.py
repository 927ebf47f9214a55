"""The question-answering service every face uses: CLI ``ask``, the chat, and ``khabar eval``."""

from __future__ import annotations

import time

from khabar.settings import Settings
from rag.answer import ExtractiveAnswerer
from rag.evidence import SentenceEvidence
from rag.retriever import DenseRetriever
from rag.types import Answer, SearchFilters


class QAService:
    def __init__(self, settings: Settings, index_name: str | None = None):
        from khabar.embedding import get_embed_model
        from khabar.store import open_stores

        self.settings = settings
        self.stores = open_stores(settings, index_name)
        self.embed_model = get_embed_model(settings)
        self.retriever = DenseRetriever(self.stores, self.embed_model, settings.top_k)
        self.evidence = SentenceEvidence(self.stores)
        self.answerer = ExtractiveAnswerer(
            settings.answer_sentences, settings.min_evidence_score, settings.answer_margin
        )

    def is_empty(self) -> bool:
        return self.stores.chunk_collection.count() == 0

    def ask(self, question: str, filters: SearchFilters | None = None) -> Answer:
        question = " ".join(question.split())
        if not question:
            raise ValueError("The question is empty.")
        timings: dict[str, float] = {}
        t0 = time.perf_counter()
        query_embedding = self.embed_model.get_query_embedding(question)
        t1 = time.perf_counter()
        passages = self.retriever.retrieve(question, query_embedding, filters)
        t2 = time.perf_counter()
        evidence = self.evidence.score(query_embedding, passages)
        answer = self.answerer.answer(question, evidence, passages)
        t3 = time.perf_counter()
        timings["embed"] = (t1 - t0) * 1000
        timings["retrieve"] = (t2 - t1) * 1000
        timings["answer"] = (t3 - t2) * 1000
        timings["total"] = (t3 - t0) * 1000
        answer.timings_ms = {k: round(v, 2) for k, v in timings.items()}
        return answer
