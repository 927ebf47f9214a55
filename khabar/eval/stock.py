"""The anchor Khabar must beat: the pipeline a llama-index user would build instead.

``VectorStoreIndex`` over ``ChromaVectorStore``, the default ``SentenceSplitter`` (1024 tokens,
200 overlap), ``HuggingFaceEmbedding`` with the same model and e5 prefixes, top-k retrieval; its
answer is the "best sentence": the most query-similar sentence of the top-5 chunks, embedded at
question time (nothing precomputed). Same model, same articles, same readers: only the pipeline
differs, so the report compares pipelines and nothing else.
"""

from __future__ import annotations

import hashlib
import json
import time
from collections.abc import Sequence
from typing import Any

from index.records import Passage
from khabar.eval.build import BuildInfo, BuildProgress, components
from khabar.eval.data import ArticleSet
from khabar.settings import Settings
from rag.types import Answer, Citation

BEST_SENTENCE_CHUNKS = 5


class StockPipeline:
    name = "stock"

    def __init__(self, settings: Settings, top_k: int, rebuild: bool = False):
        self.settings = settings.model_copy(update={"top_k": top_k})
        self.top_k = top_k
        self.rebuild = rebuild
        self.index_name = ""
        self._index: Any = None
        self._embed_model: Any = None

    def describe(self) -> dict[str, Any]:
        return {
            "name": self.name,
            "index_name": self.index_name,
            "top_k": self.top_k,
            "splitter": "SentenceSplitter() defaults (1024/200)",
            "answer": f"most query-similar sentence of the top-{BEST_SENTENCE_CHUNKS} chunks",
            **components().index_spec(self.settings).describe(),
        }

    def build(self, articles: ArticleSet, progress: BuildProgress | None = None) -> BuildInfo:
        from llama_index.core import Document, StorageContext, VectorStoreIndex
        from llama_index.core.node_parser import SentenceSplitter
        from llama_index.vector_stores.chroma import ChromaVectorStore

        from index.chroma import chroma_client, drop_collections
        from ingest.sources.discovery import iter_sources
        from ingest.sources.dispatch import read_file

        key = json.dumps(
            {
                "files": sorted(f.sha256 for f in articles.files),
                "recipe": components().index_spec(self.settings).fingerprint(),
            },
            sort_keys=True,
        )
        self.index_name = "stock-" + hashlib.sha256(key.encode()).hexdigest()[:12]
        if self.rebuild:
            drop_collections(
                chroma_client(components().storage_config(self.settings).chroma), self.index_name
            )
        client = chroma_client(components().storage_config(self.settings).chroma)
        # The same model, through llama-index itself: this pipeline is what a llama-index user builds.
        embed_model = components().embedder(self.settings).llama_index_model
        started = time.perf_counter()
        # A finished build is marked by a second, empty collection: an interrupted one is redone.
        done_marker = self.index_name + "-done"
        existing = {c.name for c in client.list_collections()}
        reused = done_marker in existing and self.index_name in existing
        if not reused and self.index_name in existing:
            client.delete_collection(self.index_name)  # a partial build: start it again
        collection = client.get_or_create_collection(
            self.index_name, configuration={"hnsw": {"space": "cosine"}}
        )
        vector_store = ChromaVectorStore(chroma_collection=collection)
        chunks = 0
        if not reused:
            documents = []
            for path, root in iter_sources(articles.paths):
                for a in read_file(path, root).articles:
                    documents.append(
                        Document(
                            text=a.text,
                            id_=a.id,
                            metadata={"article_id": a.id, "title": a.title, "language": a.language},
                        )
                    )
            nodes = SentenceSplitter().get_nodes_from_documents(documents)
            chunks = len(nodes)
            VectorStoreIndex(
                nodes,
                storage_context=StorageContext.from_defaults(vector_store=vector_store),
                embed_model=embed_model,
            )
            client.get_or_create_collection(done_marker)
            if progress:
                progress(len(articles.files), len(articles.files), chunks)
        seconds = time.perf_counter() - started
        self._index = VectorStoreIndex.from_vector_store(vector_store, embed_model=embed_model)
        self._embed_model = embed_model
        return BuildInfo(
            index_name=self.index_name,
            status="reused" if reused else "built",
            seconds=round(seconds, 3),
            chunks_embedded=chunks,
            sentences_embedded=0,  # the stock pipeline embeds sentences at question time
            chunks_per_second=round(chunks / seconds, 2) if chunks and seconds else None,
            index_chunks=collection.count(),
            index_articles=len(articles.articles),
        )

    def ask(self, question: str, history: Sequence[str] = (), now: str = "") -> Answer:
        # The anchor has no notion of time: ``now`` is accepted and ignored.
        # A plain VectorStoreIndex retriever has no conversation: every turn is asked alone
        # (llama-index's chat engines condense follow-ups with an LLM, which the anchor has not).
        # Loaded here, like build()'s imports: the registry imports this module whenever the CLI
        # starts, and numpy with ingest.chunking (llama-index) would add seconds to every command.
        import numpy as np

        from ingest.chunking import split_sentences

        if self._index is None:
            raise RuntimeError("build() the evaluation index before asking questions")
        t0 = time.perf_counter()
        hits = self._index.as_retriever(similarity_top_k=self.top_k).retrieve(question)
        t1 = time.perf_counter()
        passages = [
            Passage(
                chunk_id=h.node.node_id,
                article_id=str(h.node.metadata.get("article_id", "")),
                content_hash="",
                title=str(h.node.metadata.get("title", "")),
                source="",
                url="",
                published="",
                language=str(h.node.metadata.get("language", "")),
                text=h.node.get_content(),
                start=h.node.start_char_idx or 0,
                end=h.node.end_char_idx or 0,
                score=float(h.score or 0.0),
                rank=rank,
            )
            for rank, h in enumerate(hits, start=1)
        ]
        candidates = [
            (p, s) for p in passages[:BEST_SENTENCE_CHUNKS] for s in split_sentences(p.text, p.language)
        ]
        citations: list[Citation] = []
        text = ""
        if candidates:
            embed = self._embed_model
            q = np.asarray(embed.get_query_embedding(question))
            vectors = np.asarray(embed.get_text_embedding_batch([s.text for _, s in candidates]))
            best = int(np.argmax(vectors @ q))
            p, s = candidates[best]
            citations.append(
                Citation(
                    marker=1,
                    article_id=p.article_id,
                    chunk_id=p.chunk_id,
                    title=p.title,
                    source="",
                    published="",
                    url="",
                    language=p.language,
                    sentence=s.text,
                    start=p.start + s.start,
                    end=p.start + s.end,
                    passage=p.text,
                    passage_start=p.start,
                    passage_end=p.end,
                    highlight=(s.start, s.end),
                    score=round(float(vectors[best] @ q), 4),
                )
            )
            text = f"{s.text} [1]"
        t2 = time.perf_counter()
        return Answer(
            question=question,
            text=text,
            citations=citations,
            declined=not citations,
            passages=passages,
            timings_ms={
                "embed": 0.0,
                "retrieve": round((t1 - t0) * 1000, 2),
                "answer": round((t2 - t1) * 1000, 2),
                "total": round((t2 - t0) * 1000, 2),
            },
        )
