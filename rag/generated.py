"""Answers written by a connected language model, in the reader's language, shown only as far as
they are verified against their citations; the extractive answer is the safety net.

The order matters: the extractive answerer decides first whether to decline (a question the
articles do not answer, or one that asks to set the instructions aside, is declined without
asking the model). Otherwise the model gets the numbered passages and writes; its text streams to
the reader while it comes. Then every sentence is checked (:mod:`rag.verify`): unsupported ones
are dropped with a visible note, and the quoted answer is given instead, with the reason, when
the model fails (unreachable, slow, rate-limited, closing mid-answer), writes nothing usable
(empty, no citations, the wrong language, endless text) or too little of it is verified.
"""

from __future__ import annotations

import logging
import time
import unicodedata
from collections.abc import Callable, Iterator, Sequence
from dataclasses import asdict, dataclass
from datetime import UTC, datetime
from typing import Any

from llama_index.core.llms import LLM, ChatMessage

from index.language import detect_language
from index.records import Passage
from rag.answer import make_citation
from rag.claims import split_claims, without_markers
from rag.condense import FollowUpCondenser
from rag.prompts import answer_messages, language_name
from rag.query import Query
from rag.stages import Answerer
from rag.types import Answer, ClaimCheck, Evidence, Verification
from rag.verify import ClaimVerifier

log = logging.getLogger(__name__)


class ModelFailed(Exception):
    """The model gave nothing usable; the message is shown to the reader as the reason."""


@dataclass(frozen=True)
class GenerationLimits:
    passages: int  # numbered passages the model gets
    context_chars: int  # characters of passage text, shared among them
    max_chars: int  # an answer longer than this is "endless text"
    deadline_s: float  # the whole answer, from the request to its last piece
    min_share: float  # share of sentences that must be verified for the answer to be shown


def main_script(text: str) -> str:
    """The Unicode script most of the letters of ``text`` are in ("DEVANAGARI", "LATIN", ...)."""
    counts: dict[str, int] = {}
    for ch in text:
        if ch.isalpha():
            script = unicodedata.name(ch, "?").split(" ")[0]
            counts[script] = counts.get(script, 0) + 1
    return max(counts, key=counts.__getitem__, default="")


def answer_language(query: Query, passages: Sequence[Passage]) -> str:
    """The language to answer in: the question's, except that a non-Latin question in the script
    of a passage language is taken to be in it (a short Hindi question is often detected as
    Marathi, and the reader should not be answered in Marathi for that)."""
    language = query.language
    languages = {p.language for p in passages if p.language}
    if language in languages or not languages:
        return language
    script = main_script(query.question)
    if script and script != "LATIN":
        same = [p.language for p in passages if p.language and main_script(p.text[:400]) == script]
        if same:
            return same[0]
    return language


def usage_of(raw: object) -> dict[str, int]:
    """Token counts from a response's raw payload, when the server reports them."""
    usage = raw.get("usage") if isinstance(raw, dict) else getattr(raw, "usage", None)
    if usage is None:
        return {}
    if not isinstance(usage, dict):
        usage = {k: getattr(usage, k, None) for k in ("prompt_tokens", "completion_tokens", "total_tokens")}
    return {k: int(v) for k, v in usage.items() if isinstance(v, int)}


class GeneratedAnswerer:
    def __init__(
        self,
        llm: LLM,
        fallback: Answerer,
        verifier: ClaimVerifier,
        limits: GenerationLimits,
        languages: Sequence[str],
        condenser: FollowUpCondenser | None = None,
        endpoint: str = "the language model",
        on_rejected: Callable[[dict[str, Any]], None] | None = None,
        prompt: Callable[..., list[ChatMessage]] = answer_messages,
    ):
        """``on_rejected`` receives a record of every answer with a sentence left out or not shown
        at all (question, the model's text, each check, the reason), for the log beside the index.
        ``prompt`` builds the chat from (question, language, passages, focus spans, characters):
        :func:`rag.prompts.answer_messages`, or the digest's summary prompt."""
        self.llm = llm
        self.fallback = fallback
        self.verifier = verifier
        self.limits = limits
        self.languages = tuple(languages)
        self.condenser = condenser
        self.endpoint = endpoint or "the language model"  # named in messages about a failed request
        self.on_rejected = on_rejected
        self.prompt = prompt

    def standalone(self, question: str, history: Sequence[str]) -> str | None:
        """The follow-up rewritten by the model as a standalone question in its language (None:
        not asked, or no usable rewrite; the follow-up rule then decides what is searched)."""
        if self.condenser is None or not history:
            return None
        return self.condenser.condense(question, history)

    def answer(self, query: Query, evidence: list[Evidence], passages: list[Passage]) -> Answer:
        *_, final = self.stream(query, evidence, passages)
        assert isinstance(final, Answer)
        return final

    def stream(
        self, query: Query, evidence: list[Evidence], passages: list[Passage]
    ) -> Iterator[str | Answer]:
        quoted = self.fallback.answer(query, evidence, passages)
        if quoted.declined:  # the decline rules hold whoever writes the answer
            yield quoted.text
            yield quoted
            return
        given = passages[: self.limits.passages]
        language = answer_language(query, given)
        usage: dict[str, int] = {}
        text = ""
        try:
            chunks = 0
            for piece, raw in self._generate(query, language, evidence, given):
                text += piece
                chunks += 1
                usage = usage_of(raw) or usage
                if piece:
                    yield piece
            usage = usage or {"completion_chunks": chunks}
            answer = self._verified(query, language, text, given, passages, quoted)
        except ModelFailed as failed:
            answer = self._fall_back(quoted, str(failed), [])
        answer.usage = usage
        self._record(query, text, answer)
        yield answer

    def _record(self, query: Query, text: str, answer: Answer) -> None:
        """Log what verification rejected: a fallback, or sentences left out."""
        checked = answer.verification
        if checked is None or not (checked.fallback or checked.dropped):
            return
        log.warning(
            "generated answer to %r: %s",
            query.question,
            checked.fallback or f"{len(checked.dropped)} sentence(s) left out",
        )
        if self.on_rejected is None:
            return
        self.on_rejected(
            {
                "timestamp": datetime.now(UTC).isoformat(timespec="seconds"),
                "question": query.question,
                "searched": query.text,
                "endpoint": self.endpoint,
                "model_text": text,
                "shown": answer.answerer,
                "fallback": checked.fallback,
                "checks": [asdict(c) for c in checked.checks],
            }
        )

    def _generate(
        self, query: Query, language: str, evidence: list[Evidence], given: list[Passage]
    ) -> Iterator[tuple[str, object]]:
        """(text piece, raw response) as the model writes; ModelFailed on anything unusable."""
        focus = []
        for p in given:
            best = next((e for e in evidence if e.passage.chunk_id == p.chunk_id), None)
            focus.append((best.start - p.start, best.end - p.start) if best else (0, 0))
        messages = self.prompt(query.text, language, given, focus, self.limits.context_chars)
        deadline = time.monotonic() + self.limits.deadline_s
        written = 0
        stream = None
        try:
            stream = self.llm.stream_chat(messages)
            for response in stream:
                piece = response.delta or ""
                written += len(piece)
                if written > self.limits.max_chars:
                    raise ModelFailed(f"the model's answer ran past {self.limits.max_chars} characters")
                if time.monotonic() > deadline:
                    raise ModelFailed(f"the model did not finish within {self.limits.deadline_s:g} s")
                yield piece, response.raw
        except ModelFailed:
            raise
        except Exception as err:  # any client or server failure: the reader gets the quoted answer
            log.info("generation at %s failed: %s: %s", self.endpoint, type(err).__name__, err)
            raise ModelFailed(f"{self.endpoint} failed: {describe_error(err)}") from err
        finally:
            close = getattr(stream, "close", None)
            if callable(close):
                close()

    def _verified(
        self,
        query: Query,
        language: str,
        text: str,
        given: list[Passage],
        passages: list[Passage],
        quoted: Answer,
    ) -> Answer:
        """The answer as far as it is verified (``language``: the one it was asked to be in)."""
        if not text.strip():
            raise ModelFailed("the model returned an empty answer")
        plain = without_markers(text)
        # Told apart among the question's and the passages' languages only: a short Hindi answer
        # could pass for Marathi among every configured language.
        candidates = tuple(dict.fromkeys(x for x in (language, *(p.language for p in given)) if x))
        written_in = detect_language(plain, candidates or self.languages)
        if language and written_in and written_in != language:
            raise ModelFailed(
                f"the model answered in {language_name(written_in)}, not in {language_name(language)}"
            )
        claims = split_claims(text)
        if not any(c.markers for c in claims):
            raise ModelFailed("the model cited no passage (it may have found no answer in them)")
        checks, highlight = self.verifier.check(query.text, language, claims, given)
        verification = Verification(checks)
        if not verification.verified or verification.share < self.limits.min_share:
            reason = (
                f"only {verification.verified} of {len(checks)} sentences of the model's answer could "
                f"be verified against the passages they cite ({verification.dropped[0].reason})"
            )
            return self._fall_back(quoted, reason, checks)
        citations = []
        for marker in sorted(highlight):
            s = highlight[marker]
            p = given[marker - 1]
            ev = Evidence(s.text, s.start, s.end, s.similarity, s.similarity, p)
            citations.append(make_citation(marker, ev, query))
        body = " ".join(f"{c.text} " + "".join(f"[{m}]" for m in c.markers) for c in checks if c.supported)
        return Answer(
            quoted.question,
            body,
            citations,
            declined=False,
            passages=passages,
            confidence=quoted.confidence,
            answerer="generated",
            verification=verification,
        )

    def _fall_back(self, quoted: Answer, reason: str, checks: list[ClaimCheck]) -> Answer:
        quoted.verification = Verification(checks, fallback=reason)
        return quoted


def describe_error(err: BaseException) -> str:
    """A failed request in a reader's words, with the client's own message for the details."""
    name = type(err).__name__
    status = getattr(err, "status_code", None)
    if status == 429 or "RateLimit" in name:
        return "it is rate-limited (HTTP 429); try again later"
    if "Timeout" in name:
        return "it did not answer in time"
    if "Connection" in name or "Connect" in name:
        return "it could not be reached (is the server running at the configured address?)"
    if isinstance(status, int):
        return f"it answered HTTP {status}"
    message = " ".join(str(err).split())[:200]
    return f"{name}: {message}" if message else name
