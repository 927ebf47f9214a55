"""What a generated answer adds to a question's record, and the figures made from those fields.

Why apart from :mod:`khabar.eval.scoring`: these fields only mean something when a language
model was asked (``answer.verification`` is set), and every one of them is None or zero for the
extractive answerer and the stock pipeline, so the scoring of quoted answers stays as it was.

* the model was asked: the generated answerer got past the decline rules and called the model
  (a declined question never reaches it);
* a fallback: the model was asked but the reader got the quoted answer; its reason, in the
  answerer's words, is kept and also sorted into a few kinds that can be counted;
* verified share: of every sentence the model wrote (shown or not), the share that passed the
  checks against the passage it cites, pooled over answers;
* tokens: the completion tokens the server reported, or the number of streamed pieces when it
  reports none (``usage["completion_chunks"]``); summed and averaged over answers the model wrote.
"""

from __future__ import annotations

import re
from collections import Counter
from collections.abc import Iterable
from typing import Any

from rag.types import Answer

__all__ = ["FALLBACK_KINDS", "fallback_kind", "fallback_reasons", "generation_fields", "summarise_generation"]

# (kind, what the reason the answerer gives says): rag.generated writes these reasons.
FALLBACK_KINDS: tuple[tuple[str, re.Pattern[str]], ...] = tuple(
    (kind, re.compile(pattern))
    for kind, pattern in (
        ("too little verified", r"^only \d+ of \d+ sentences"),
        ("too slow", r"did not finish within"),
        ("endless text", r"ran past \d+ characters"),
        ("empty answer", r"empty answer"),
        ("no citation", r"cited no passage"),
        ("wrong language", r"^the model answered in "),
        ("model failed", r" failed: "),
    )
)


def fallback_kind(reason: str) -> str:
    """The kind of a fallback reason ("" for none; "other" for a reason of no known kind)."""
    if not reason:
        return ""
    return next((kind for kind, pattern in FALLBACK_KINDS if pattern.search(reason)), "other")


def _tokens(usage: dict[str, int]) -> int | None:
    if "completion_tokens" in usage:
        return usage["completion_tokens"]
    return usage.get("completion_chunks")


def generation_fields(answer: Answer) -> dict[str, Any]:
    """The record fields of one answer about who wrote it and what checking found."""
    v = answer.verification
    asked = v is not None
    return {
        "answerer": answer.answerer,
        "model_asked": asked,
        "fallback": v.fallback if v is not None else "",
        "fallback_kind": fallback_kind(v.fallback) if v is not None else "",
        "sentences_written": len(v.checks) if v is not None else 0,
        "sentences_verified": v.verified if v is not None else 0,
        "dropped": [{"text": c.text, "reason": c.reason} for c in v.dropped] if v is not None else [],
        "usage": dict(answer.usage),
        "tokens": _tokens(answer.usage) if asked else None,
    }


def summarise_generation(records: list[dict[str, Any]]) -> dict[str, Any]:
    """Model-asked count, fallback share, verified share and tokens over ``records`` (None where
    the model was never asked, so extractive columns show a dash, not a zero)."""
    asked = [r for r in records if r.get("model_asked")]
    written = sum(r["sentences_written"] for r in asked)
    tokens = [r["tokens"] for r in asked if r.get("tokens") is not None]
    return {
        "model_asked": len(asked),
        "fallback_share": sum(bool(r["fallback"]) for r in asked) / len(asked) if asked else None,
        "verified_share": sum(r["sentences_verified"] for r in asked) / written if written else None,
        "completion_tokens": sum(tokens) if tokens else None,
        "completion_tokens_mean": sum(tokens) / len(tokens) if tokens else None,
    }


def fallback_reasons(records: Iterable[dict[str, Any]]) -> dict[str, int]:
    """How many fallbacks of each kind, most frequent first."""
    return dict(Counter(r["fallback_kind"] for r in records if r.get("fallback")).most_common())
