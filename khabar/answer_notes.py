"""What the reader is told about who wrote an answer and what checking it found, in plain words.

A generated answer is labelled as written by the model and checked; a sentence dropped by the
checks is announced with why; a generated answer that was not shown is announced with why the
quoted one came instead. The words are plain text, shared by the terminal (``khabar.cli``) and the
chat (``khabar.web.render`` escapes and places them: a reason can quote the model's own text, so
it is data like any article text).
"""

from __future__ import annotations

from collections.abc import Sequence

from index.records import shown_date
from rag.types import Answer, Citation, ClaimCheck


def generated_label(model: str = "") -> str:
    who = f"the language model ({model})" if model else "the language model"
    return f"Written by {who} · every sentence checked against the sentence it cites"


def dropped_note(dropped: Sequence[ClaimCheck]) -> str:
    """The note on dropped sentences: how many, and why (each reason once)."""
    count = len(dropped)
    head = f"{count} sentence{'' if count == 1 else 's'} left out: could not be verified"
    reasons = list(dict.fromkeys(c.reason for c in dropped if c.reason))
    return f"{head} — {'; '.join(reasons)}" if reasons else head


def fallback_note(reason: str) -> str:
    why = reason.strip().rstrip(".") or "it could not be verified"
    return f"The language model's answer was not shown: {why}. The answer below is quoted from the articles."


def text_from_label(text_from: str) -> str:
    """What a reader is told of a text that is not the article's own ("feed summary")."""
    return f"text from the {text_from}: the article's page could not be fetched" if text_from else ""


def time_notes(answer: Answer) -> list[str]:
    """The question's time frame, and what the reader should know about the dates behind the
    answer (a window that found nothing, only undated articles); shown declined or not."""
    notes = [f"Time frame: {answer.timeframe}"] if answer.timeframe else []
    return notes + ([answer.time_note] if answer.time_note else [])


def update_note(c: Citation) -> str:
    """A later report quoted instead of the first one: both dates."""
    return f"[{c.marker}] first reported {shown_date(c.first_reported)}; updated {shown_date(c.published)}"


def dated_source(c: Citation) -> str:
    """One source of a timeline: [n] date · headline (first reported …)."""
    first = f" (first reported {shown_date(c.first_reported)})" if c.first_reported else ""
    return f"[{c.marker}] {shown_date(c.published)} · {c.title or c.article_id}{first}"


def answer_notes(answer: Answer, model: str = "") -> tuple[list[str], list[str]]:
    """The notes to show before and after the answer's text."""
    verification = answer.verification
    if answer.declined:
        return [], []
    # A timeline says each entry's dates in its own line; an answer says them in a note.
    updates = (
        [] if answer.kind == "timeline" else [update_note(c) for c in answer.citations if c.first_reported]
    )
    if answer.answerer != "generated":
        fallback = verification.fallback if verification is not None else ""
        return ([fallback_note(fallback)] if fallback else []), updates
    after = [*updates, generated_label(model)]
    if verification is not None and verification.dropped:
        after.append(dropped_note(verification.dropped))
    return [], after
