"""Chunks and sentences of one article, with their embeddings, into the index's stores.

Three stores per index: the Chroma chunk collection (dense retrieval), the Chroma sentence
collection (evidence) and, when given, the BM25 ``LexicalIndex`` (lexical retrieval). All three
are keyed by the article's content hash, so one call writes, deletes or relabels a content in all.
"""

from __future__ import annotations

import json
from collections import defaultdict
from typing import TYPE_CHECKING, Any

from llama_index.core.schema import BaseNode, NodeRelationship, RelatedNodeInfo, TextNode

from index.records import Article, Chunk, Sentence, published_day
from khabar.store import Stores

if TYPE_CHECKING:
    from index.lexical import LexicalIndex

# The stored chunk metadata that describes the chunk (everything else is llama-index's bookkeeping).
CHUNK_KEYS = ("chunk_index", "start", "end")


def article_metadata(article: Article) -> dict[str, Any]:
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


ARTICLE_KEYS = tuple(article_metadata(Article(id="", title="", text="")))


def chunk_embedding_text(article: Article, chunk: Chunk) -> str:
    """What the model reads for a chunk: the title gives short chunks their topic."""
    if article.title and article.title not in chunk.text:
        return f"{article.title}\n{chunk.text}"
    return chunk.text


class ChromaWriter:
    def __init__(self, stores: Stores, lexical: LexicalIndex | None = None):
        self.stores = stores
        self.lexical = lexical

    def delete(self, content_hash: str) -> None:
        self.stores.chunks.delete(ref_doc_id=content_hash)
        self.stores.sentences.delete(ref_doc_id=content_hash)
        if self.lexical is not None:
            self.lexical.delete(content_hash)

    def write(
        self,
        article: Article,
        chunks: list[Chunk],
        chunk_vectors: list[list[float]],
        sentence_vectors: list[list[float]],
    ) -> None:
        meta = article_metadata(article)
        source = {NodeRelationship.SOURCE: RelatedNodeInfo(node_id=article.content_hash)}
        sentence_nodes: list[BaseNode] = []
        for s, vector in zip(unique_sentences(chunks), sentence_vectors, strict=True):
            sentence_nodes.append(
                TextNode(
                    # Start and end: clipped pieces of one overlong sentence can share a start.
                    id_=f"{article.content_hash[:16]}:s{s.start}-{s.end}",
                    text=s.text,
                    embedding=vector,
                    metadata={**meta, "start": s.start, "end": s.end},
                    relationships=source,
                )
            )
        chunk_nodes: list[BaseNode] = [
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
        if self.lexical is not None:
            self.lexical.add(
                article.content_hash,
                [(node.node_id, node.get_content(), _described(node.metadata)) for node in chunk_nodes],
            )

    def stored_metadata(self, content_hash: str) -> dict[str, Any] | None:
        """The article fields a stored content's chunks carry (None when it has no chunks)."""
        got = self.stores.chunk_collection.get(
            where={"content_hash": content_hash}, limit=1, include=["metadatas"]
        )
        if not got["ids"]:
            return None
        return {k: got["metadatas"][0].get(k) for k in ARTICLE_KEYS}

    def update_metadata(self, content_hash: str, fields: dict[str, Any]) -> None:
        """Change article fields of a stored content (no re-embedding: they are not embedded).

        Used when the article it is stored under is gone and another with the same text takes its
        place, and when an article's details (date, source, language...) change but not its text.
        """
        for collection in (self.stores.chunk_collection, self.stores.sentence_collection):
            got = collection.get(where={"content_hash": content_hash}, include=["metadatas"])
            if not got["ids"]:
                continue
            metadatas = []
            for meta in got["metadatas"]:
                meta = {**meta, **fields}
                if "_node_content" in meta:  # the node llama-index rebuilds on retrieval
                    node = json.loads(str(meta["_node_content"]))
                    node["metadata"] = {**node.get("metadata", {}), **fields}
                    meta["_node_content"] = json.dumps(node)
                metadatas.append(meta)
            collection.update(ids=got["ids"], metadatas=metadatas)
        if self.lexical is not None:
            self.fill_lexical([content_hash])

    def fill_lexical(self, content_hashes: list[str] | None = None) -> int:
        """(Re)write the lexical index from the chunks stored in Chroma, without re-embedding:
        for ``content_hashes``, or for every stored content. Returns the chunks written."""
        if self.lexical is None:
            return 0
        where = {"content_hash": {"$in": content_hashes}} if content_hashes else None
        got = self.stores.chunk_collection.get(where=where, include=["metadatas", "documents"])
        by_hash: dict[str, list[tuple[int, tuple[str, str, dict[str, Any]]]]] = defaultdict(list)
        for chunk_id, text, meta in zip(got["ids"], got["documents"], got["metadatas"], strict=True):
            described = _described(dict(meta))
            by_hash[str(meta["content_hash"])].append(
                (int(described.get("chunk_index", 0)), (chunk_id, text or "", described))
            )
        for content_hash, rows in by_hash.items():
            self.lexical.add(content_hash, [row for _, row in sorted(rows, key=lambda r: r[0])])
        return len(got["ids"])


def _described(metadata: dict[str, Any]) -> dict[str, Any]:
    """The article and chunk fields of a stored chunk's metadata."""
    keys = (*ARTICLE_KEYS, *CHUNK_KEYS)
    return {k: metadata[k] for k in keys if k in metadata}


def unique_sentences(chunks: list[Chunk]) -> list[Sentence]:
    """Each sentence of the article once, in article order, even where overlapping chunks share it.

    A piece lying inside a sentence already kept (a long sentence cut to fit a chunk, repeated
    by the next chunk whole) is dropped. One sweep over the spans sorted by start, longest first,
    so a book-length file costs n log n, not n².
    """
    spans = {(s.start, s.end): s for chunk in chunks for s in chunk.sentences}
    out: list[Sentence] = []
    reach = -1  # the furthest end of any sentence kept so far
    for start, end in sorted(spans, key=lambda span: (span[0], -span[1])):
        if end <= reach:
            continue  # inside a kept sentence (it starts no earlier and ends no later)
        out.append(spans[(start, end)])
        reach = end
    return out
