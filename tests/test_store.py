"""The Chroma collections an index opens: search breadth set on new and existing collections."""

from __future__ import annotations

from khabar.store import open_stores


def test_dense_search_breadth_is_set_on_new_and_existing_collections(make_settings):
    stores = open_stores(make_settings(chroma_ef_search=500), "breadth")
    assert stores.chunk_collection.configuration["hnsw"]["ef_search"] == 500
    assert stores.chunk_collection.configuration["hnsw"]["space"] == "cosine"
    # An index made before (or with another value) is brought to the configured breadth.
    again = open_stores(make_settings(chroma_ef_search=300), "breadth")
    assert again.chunk_collection.configuration["hnsw"]["ef_search"] == 300
    assert again.chunk_collection.configuration["hnsw"]["space"] == "cosine"
