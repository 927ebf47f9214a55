"""Search filters as llama-index MetadataFilters, so every retriever honours the same ones."""

from __future__ import annotations

from llama_index.core.vector_stores import FilterOperator, MetadataFilter, MetadataFilters

from index.records import SearchFilters, published_day


def to_metadata_filters(filters: SearchFilters | None) -> MetadataFilters | None:
    if filters is None or filters.is_empty():
        return None
    parts: list[MetadataFilter] = []
    if filters.languages:
        parts.append(
            MetadataFilter(key="language", value=list(filters.languages), operator=FilterOperator.IN)
        )
    if filters.sources:
        parts.append(MetadataFilter(key="source", value=list(filters.sources), operator=FilterOperator.IN))
    if filters.date_from:
        parts.append(
            MetadataFilter(
                key="published_day", value=published_day(filters.date_from), operator=FilterOperator.GTE
            )
        )
    if filters.date_to:
        parts.append(
            MetadataFilter(
                key="published_day", value=published_day(filters.date_to), operator=FilterOperator.LTE
            )
        )
    return MetadataFilters(filters=parts)


def matches(metadata: dict, filters: SearchFilters | None) -> bool:
    """The same filters applied in Python, for retrievers that are not Chroma queries."""
    if filters is None or filters.is_empty():
        return True
    if filters.languages and metadata.get("language") not in filters.languages:
        return False
    if filters.sources and metadata.get("source") not in filters.sources:
        return False
    day = int(metadata.get("published_day") or 0)
    if filters.date_from and day < published_day(filters.date_from):
        return False
    return not (filters.date_to and day > published_day(filters.date_to))
