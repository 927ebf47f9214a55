"""The embedding model behind one small protocol, so a faster runtime can replace it."""

from index.embedding.embedder import (
    BUNDLED_E5,
    Embedder,
    SentenceTransformerEmbedder,
    TokenEncoder,
    load_embedder,
    resolved_runtime,
)

__all__ = [
    "BUNDLED_E5",
    "Embedder",
    "SentenceTransformerEmbedder",
    "TokenEncoder",
    "load_embedder",
    "resolved_runtime",
]
