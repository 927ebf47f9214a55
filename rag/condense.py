"""Follow-ups rewritten as standalone questions by the connected model, in the language they were
asked in ("And what did he promise?" -> "What did Putin promise?"; a Hindi follow-up stays Hindi).

The rewrite is only used when it looks like a question in the right language; anything else
(a failure, an answer instead of a question, another language, a paragraph) is ignored and the
follow-up rule of :mod:`rag.followup` decides what is searched, as without a model. The rewrite
is searched and scored like a typed question, so the decline rules apply to it.
"""

from __future__ import annotations

import logging
import time
from collections.abc import Sequence

from llama_index.core.llms import LLM

from index.language import detect_language
from rag.prompts import condense_messages

log = logging.getLogger(__name__)

_LABELS = ("standalone question:", "question:", "rewritten question:")


def cleaned(text: str) -> str:
    """The first line of the model's reply, without a label or quotes it may have added."""
    line = next((ln.strip() for ln in text.strip().splitlines() if ln.strip()), "")
    lowered = line.casefold()
    for label in _LABELS:
        if lowered.startswith(label):
            line = line[len(label) :].strip()
            break
    return line.strip("\"'“”‘’` ").strip()


class FollowUpCondenser:
    def __init__(self, llm: LLM, languages: Sequence[str], deadline_s: float, max_chars: int = 400):
        self.llm = llm
        self.languages = tuple(languages)
        self.deadline_s = deadline_s
        self.max_chars = max_chars

    def condense(self, question: str, history: Sequence[str]) -> str | None:
        language = detect_language(question, self.languages)
        deadline = time.monotonic() + self.deadline_s
        reply = ""
        stream = None
        try:
            stream = self.llm.stream_chat(condense_messages(question, history, language))
            for response in stream:
                reply += response.delta or ""
                if len(reply) > self.max_chars or time.monotonic() > deadline:
                    break
        except Exception as err:  # no rewrite: the follow-up rule decides, as without a model
            log.warning("condensing the follow-up failed: %s: %s", type(err).__name__, err)
            return None
        finally:
            close = getattr(stream, "close", None)
            if callable(close):
                close()
        rewrite = cleaned(reply)
        if not rewrite or len(rewrite) > self.max_chars or len(rewrite) > 4 * len(question) + 200:
            log.info("ignored the model's rewrite of %r: %r", question, reply[:200])
            return None
        written_in = detect_language(rewrite, self.languages)
        if language and written_in and written_in != language:
            log.info("ignored the model's rewrite of %r: it is in %s", question, written_in)
            return None
        return rewrite
