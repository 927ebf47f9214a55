"""Search filters as llama-index MetadataFilters, so every retriever honours the same ones."""

from __future__ import annotations

from llama_index.core.vector_stores import FilterCondition, FilterOperator, MetadataFilter, MetadataFilters

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
    days: list[MetadataFilter] = []
    if filters.date_from:
        days.append(
            MetadataFilter(
                key="published_day", value=published_day(filters.date_from), operator=FilterOperator.GTE
            )
        )
    if filters.date_to:
        days.append(
            MetadataFilter(
                key="published_day", value=published_day(filters.date_to), operator=FilterOperator.LTE
            )
        )
    if days and filters.undated:  # in the range, or without a date (published_day 0)
        undated = MetadataFilter(key="published_day", value=0, operator=FilterOperator.EQ)
        parts.append(
            MetadataFilters(filters=[MetadataFilters(filters=days), undated], condition=FilterCondition.OR)
        )
    else:
        parts.extend(days)
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
    if day == 0 and filters.undated:
        return True
    if filters.date_from and day < published_day(filters.date_from):
        return False
    return not (filters.date_to and day > published_day(filters.date_to))
