"""Chunks and sentences of one article, with their embeddings, into the index's stores."""

from __future__ import annotations

from llama_index.core.schema import NodeRelationship, RelatedNodeInfo, TextNode

from ingest.article import Article
from ingest.chunking import Chunk
from khabar.store import Stores


def published_day(published: str) -> int:
    """YYYYMMDD as an integer (0 when unknown): Chroma filters ranges on numbers only."""
    digits = published[:10].replace("-", "")
    return int(digits) if len(digits) == 8 and digits.isdigit() else 0


def article_metadata(article: Article) -> dict[str, str | int]:
    return {
        "article_id": article.id,
        "title": article.title,
        "source": article.source,
        "category": article.category,
        "url": article.url,
        "published": article.published,
        "published_day": published_day(article.published),
        "language": article.language,
        "path": article.path,
        "content_hash": article.content_hash,
    }


def chunk_embedding_text(article: Article, chunk: Chunk) -> str:
    """What the model reads for a chunk: the title gives short chunks their topic."""
    if article.title and article.title not in chunk.text:
        return f"{article.title}\n{chunk.text}"
    return chunk.text


class ChromaWriter:
    def __init__(self, stores: Stores):
        self.stores = stores

    def delete(self, content_hash: str) -> None:
        self.stores.chunks.delete(ref_doc_id=content_hash)
        self.stores.sentences.delete(ref_doc_id=content_hash)

    def write(
        self,
        article: Article,
        chunks: list[Chunk],
        chunk_vectors: list[list[float]],
        sentence_vectors: list[list[float]],
    ) -> None:
        meta = article_metadata(article)
        source = {NodeRelationship.SOURCE: RelatedNodeInfo(node_id=article.content_hash)}
        sentence_nodes = []
        for s, vector in zip(unique_sentences(chunks), sentence_vectors, strict=True):
            sentence_nodes.append(
                TextNode(
                    id_=f"{article.content_hash[:16]}:s{s.start}",
                    text=s.text,
                    embedding=vector,
                    metadata={**meta, "start": s.start, "end": s.end},
                    relationships=source,
                )
            )
        chunk_nodes = [
            TextNode(
                id_=chunk.id,
                text=chunk.text,
                embedding=vector,
                metadata={**meta, "chunk_index": chunk.index, "start": chunk.start, "end": chunk.end},
                relationships=source,
                excluded_embed_metadata_keys=list(meta),
                excluded_llm_metadata_keys=list(meta),
            )
            for chunk, vector in zip(chunks, chunk_vectors, strict=True)
        ]
        # Sentences first, chunks last: a chunk is only findable once its evidence exists.
        if sentence_nodes:
            self.stores.sentences.add(sentence_nodes)
        if chunk_nodes:
            self.stores.chunks.add(chunk_nodes)


def unique_sentences(chunks: list[Chunk]):
    """Each sentence of the article once, even where overlapping chunks share it."""
    seen: dict[tuple[int, int], None] = {}
    out = []
    for chunk in chunks:
        for s in chunk.sentences:
            if (s.start, s.end) not in seen and not any(s.start >= a and s.end <= b for a, b in seen):
                seen[(s.start, s.end)] = None
                out.append(s)
    return out
