"""Question to ranked passages, through llama-index's retriever over the Chroma chunk store."""

from __future__ import annotations

import math

from llama_index.core import VectorStoreIndex
from llama_index.core.schema import NodeWithScore, QueryBundle

from index.filters import to_metadata_filters
from index.records import Passage, SearchFilters
from khabar.store import Stores


def chroma_similarity_to_cosine(similarity: float) -> float:
    """llama-index's Chroma store reports exp(-distance); cosine distance is 1 - cos."""
    return 1.0 + math.log(similarity) if similarity > 0 else -1.0


def node_to_passage(hit: NodeWithScore, rank: int, score: float) -> Passage:
    return Passage.from_metadata(hit.node.node_id, hit.node.metadata, hit.node.get_content(), score, rank)


class DenseRetriever:
    def __init__(self, stores: Stores, embed_model, top_k: int):
        self._index = VectorStoreIndex.from_vector_store(stores.chunks, embed_model=embed_model)
        self.top_k = top_k

    def retrieve(
        self,
        question: str,
        query_embedding: list[float],
        filters: SearchFilters | None = None,
        top_k: int | None = None,
    ) -> list[Passage]:
        retriever = self._index.as_retriever(
            similarity_top_k=top_k or self.top_k, filters=to_metadata_filters(filters)
        )
        hits = retriever.retrieve(QueryBundle(question, embedding=query_embedding))
        return [
            node_to_passage(h, rank, chroma_similarity_to_cosine(h.score or 0.0))
            for rank, h in enumerate(hits, start=1)
        ]
