"""The question, prepared once: every later stage reads the same text, language, terms and vectors.

Like llama-index's ``QueryBundle`` (text + embedding) with what Khabar's stages need besides: the
detected language (cross-lingual questions get their own threshold and tie-break), the analysed
terms (term overlap), the filters, and what retrieval searches for when the question continues
the conversation (:mod:`rag.followup`: the previous question and this one together, so the topic
carries over, while sentences are still scored against the follow-up alone); a question that
stands alone is searched as asked, so an unrelated one does not inherit the old topic.
``now`` and the question's time frame (:mod:`rag.timeframe`: "this week", "पिछले महीने") are
read here too, and the frame narrows ``filters``, so every retriever honours it unchanged.
"""

from __future__ import annotations

import time
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field, replace
from datetime import datetime

from index.analysis import analyze
from index.embedding import Embedder
from index.language import detect_language
from index.lexicon import Lexicon, english_words
from index.records import SearchFilters
from index.text import is_blank
from rag.digest_question import asks_for_digest
from rag.followup import FollowUpRule
from rag.guard import asks_to_override
from rag.timeframe import TimeFrame, TimeRules, parse_now


@dataclass(frozen=True)
class Query:
    text: str  # the question, whitespace-normalised
    language: str  # detected ("" when unsure)
    vector: list[float]  # the question's embedding: evidence and tie-breaks score against it
    search_text: str  # what retrieval searches for (a follow-up: previous question + this one)
    search_vector: list[float]
    follows_up: bool = False  # searched together with the previous question
    overrides: bool = False  # tries to set aside instructions or the articles (:mod:`rag.guard`)
    digest: bool = False  # asks for the news about something, not one fact (:mod:`rag.digest_question`)
    terms: frozenset[str] = field(default_factory=frozenset)  # analysed terms of ``text``
    filters: SearchFilters | None = None
    embed_ms: float = 0.0
    # As typed, when ``text`` is a rewrite of it (a follow-up condensed into a standalone
    # question); answers are given to what was asked.
    asked: str = ""
    # When the question is asked ("now"), its time frame, and the filters the user gave before
    # the frame narrowed them (``filters`` is what retrieval honours).
    now: datetime | None = None
    timeframe: TimeFrame | None = None
    user_filters: SearchFilters | None = None
    # The frame found nothing, so the search ran without it (articles dated after now still out).
    widened: bool = False
    # The question's English words with what they may be written as in another language (a
    # bilingual word list, :mod:`index.lexicon`): "satellite" -> ("उपग्रह",). Empty without one.
    translations: Mapping[str, tuple[str, ...]] = field(default_factory=dict)

    @property
    def question(self) -> str:
        """The question as the user asked it."""
        return self.asked or self.text

    @property
    def restricted(self) -> bool:
        """A window narrows this search (and may be widened when it finds nothing)."""
        return self.timeframe is not None and self.timeframe.kind == "window" and not self.widened

    def widen(self) -> Query:
        """This query searched without its window: the user's filters (articles dated after now
        are still dropped, by :class:`rag.recency.TimeOrder`)."""
        return replace(self, filters=self.user_filters, widened=True)


class EmptyQuestion(ValueError):
    """The question has nothing to search for: it is empty, or only spaces and zero-width
    characters. Front ends say so to the user instead of failing."""

    def __init__(self) -> None:
        super().__init__("The question is empty.")


class QueryBuilder:
    """Builds a :class:`Query` from what the user typed: one embedding per text, one detection."""

    def __init__(
        self,
        embedder: Embedder,
        languages: Sequence[str],
        follow_up: FollowUpRule | None = None,
        time_rules: TimeRules | None = None,
        lexicon: Lexicon | None = None,
    ):
        """``time_rules``: how time words shape the search (None: they are ordinary words, and articles
        dated after now are not excluded). ``lexicon``: a bilingual word list the question's English
        words are looked up in (None: none)."""
        self.embedder = embedder
        self.languages = tuple(languages)
        self.follow_up = follow_up or FollowUpRule()
        self.time = time_rules
        self.lexicon = lexicon

    def translations(self, text: str) -> dict[str, tuple[str, ...]]:
        """The Latin-script words of ``text`` (as analysed, unstemmed) that the word list knows."""
        if self.lexicon is None:
            return {}
        return {w: found for w in english_words(text) if (found := self.lexicon.translations(w))}

    def build(
        self,
        question: str,
        filters: SearchFilters | None = None,
        history: Sequence[str] = (),
        standalone: str | None = None,
        now: datetime | str | None = None,
    ) -> Query:
        """``standalone``: the question rewritten to stand alone (a condensed follow-up); it is then
        what is searched and scored, while the language is the one the user wrote in and the
        guard reads both. ``now``: when the question is asked (None: the current time, UTC)."""
        asked = " ".join(question.split())
        if is_blank(asked):
            raise EmptyQuestion()
        text = " ".join((standalone or "").split()) or asked
        t0 = time.perf_counter()
        vector = self.embedder.embed_query(text)
        search_text, search_vector = text, vector
        condensed = text != asked
        follows_up = condensed or (bool(history) and self.follow_up.continues(text))
        if follows_up and not condensed:  # a rewrite already names what it refers to
            search_text = f"{history[-1]} {text}"
            search_vector = self.embedder.embed_query(search_text)
        embed_ms = round((time.perf_counter() - t0) * 1000, 2)
        moment = parse_now(now)
        frame = self.time.frame((asked, text), moment) if self.time else None
        searched = self.time.filters(frame, filters) if self.time else filters
        return Query(
            text=text,
            language=detect_language(asked, self.languages),
            vector=vector,
            search_text=search_text,
            search_vector=search_vector,
            follows_up=follows_up,
            overrides=asks_to_override(asked) or asks_to_override(text),
            digest=asks_for_digest(asked) or asks_for_digest(text),
            terms=frozenset(analyze(text)),
            filters=searched,
            embed_ms=embed_ms,
            asked=asked if condensed else "",
            now=moment,
            timeframe=frame,
            user_filters=filters,
            translations=self.translations(text),
        )
