"""The Chroma collections an index opens: search breadth set on new and existing collections."""

from __future__ import annotations

from index.chroma import chroma_client, open_stores
from khabar import components


def test_dense_search_breadth_is_set_on_new_and_existing_collections(make_settings):
    stores = open_stores(client(make_settings()), "breadth", 500)
    assert stores.chunk_collection.configuration["hnsw"]["ef_search"] == 500
    assert stores.chunk_collection.configuration["hnsw"]["space"] == "cosine"
    # An index made before (or with another value) is brought to the configured breadth.
    again = open_stores(client(make_settings()), "breadth", 300)
    assert again.chunk_collection.configuration["hnsw"]["ef_search"] == 300
    assert again.chunk_collection.configuration["hnsw"]["space"] == "cosine"


def client(settings):
    return chroma_client(components.storage_config(settings).chroma)
