"""What a connected language model is asked: to answer from numbered passages, and to condense a
follow-up. Both prompts name the language to write in, since the reader asked in it and the
passages may be in another (llama-index's default prompts do not ask for that).
"""

from __future__ import annotations

from collections.abc import Sequence

from llama_index.core.llms import ChatMessage, MessageRole

from index.records import Passage

LANGUAGE_NAMES = {
    "en": "English",
    "hi": "Hindi",
    "bn": "Bengali",
    "mr": "Marathi",
    "ur": "Urdu",
    "ta": "Tamil",
    "te": "Telugu",
    "gu": "Gujarati",
    "pa": "Punjabi",
    "ne": "Nepali",
    "fr": "French",
    "de": "German",
    "es": "Spanish",
}


def language_name(code: str) -> str:
    """The language's English name for a prompt ("the language of the question" when unknown)."""
    return LANGUAGE_NAMES.get(code, code or "the language of the question")


ANSWER_SYSTEM = (
    "You answer questions about news articles using only the numbered passages you are given.\n"
    "- Write the answer in {language}, the language of the question, even when the passages are in "
    "another language. Keep names and numbers as the passages give them.\n"
    "- Answer in one to three short sentences.\n"
    "- End every sentence with the number of the passage that supports it in square brackets, "
    "like [1] or [2][3]. For example: The minister resigned on Monday [2].\n"
    "- Say nothing the passages do not say.\n"
    "- If the passages do not answer the question, say so in one sentence and cite nothing."
)


def window(text: str, focus: tuple[int, int], chars: int) -> str:
    """At most ``chars`` characters of ``text`` around the span ``focus`` (cut at spaces, "…" where
    cut): a passage is shortened around its best sentence, not from its end."""
    if len(text) <= chars:
        return text
    start, end = max(0, focus[0]), min(len(text), max(focus[1], focus[0]))
    spare = max(0, chars - (end - start))
    lo = max(0, start - spare // 2)
    hi = min(len(text), lo + max(chars, end - start))
    lo = max(0, hi - max(chars, end - start))
    if lo > 0 and (space := text.find(" ", lo)) != -1 and space < start:
        lo = space + 1
    if hi < len(text) and (space := text.rfind(" ", end, hi)) != -1:
        hi = space
    return ("…" if lo > 0 else "") + text[lo:hi] + ("…" if hi < len(text) else "")


def passage_block(number: int, passage: Passage, text: str) -> str:
    """One numbered passage with what a reader of a citation would want: title, source, date."""
    about = " — ".join(x for x in (passage.title, passage.source, passage.published) if x)
    head = f"[{number}] {about}" if about else f"[{number}]"
    return f"{head}\n{text}"


def answer_messages(
    question: str, language: str, passages: Sequence[Passage], focus: Sequence[tuple[int, int]], chars: int
) -> list[ChatMessage]:
    """The chat to send: the rules, then the numbered passages and the question.

    ``focus`` gives, per passage, the span (in the passage) of its best sentence; the passages
    share ``chars`` characters, each cut around that span.
    """
    share = max(200, chars // max(1, len(passages)))
    blocks = [
        passage_block(i, p, window(p.text, span, share))
        for i, (p, span) in enumerate(zip(passages, focus, strict=True), start=1)
    ]
    name = language_name(language)
    ask = f"Question: {question}\nAnswer in {name}, citing the passages like [1]:"
    user = "Passages:\n\n" + "\n\n".join(blocks) + "\n\n" + ask
    return [
        ChatMessage(role=MessageRole.SYSTEM, content=ANSWER_SYSTEM.format(language=name)),
        ChatMessage(role=MessageRole.USER, content=user),
    ]


DIGEST_SYSTEM = (
    "You summarise the news in numbered passages for a reader who asked what is new about a topic.\n"
    "- Write in {language}, the language of the question, even when the passages are in another "
    "language. Keep names and numbers as the passages give them.\n"
    "- The passages are separate stories, newest first. Write one short sentence for each of the most "
    "important ones, in the same order, saying what happened.\n"
    "- End every sentence with the number of its passage in square brackets, like [1] or [2].\n"
    "- Do not write the dates: the reader sees each passage's date beside its number.\n"
    "- Say nothing the passages do not say."
)


def digest_messages(
    question: str, language: str, passages: Sequence[Passage], focus: Sequence[tuple[int, int]], chars: int
) -> list[ChatMessage]:
    """The chat for a digest question (:mod:`rag.digest`): the timeline's passages, newest first,
    each with its headline and date, to be summarised one sentence per story."""
    messages = answer_messages(question, language, passages, focus, chars)
    name = language_name(language)
    user = messages[1].content or ""
    user = user.rsplit("Question:", 1)[0] + (
        f"Question: {question}\nSummarise these stories in {name}, newest first, citing them like [1]:"
    )
    return [
        ChatMessage(role=MessageRole.SYSTEM, content=DIGEST_SYSTEM.format(language=name)),
        ChatMessage(role=MessageRole.USER, content=user),
    ]


CONDENSE_SYSTEM = (
    "Rewrite the last question of a conversation as one standalone question that can be understood "
    "without the conversation, naming what it refers to. Write it in {language}, the language of the "
    "last question. If it already stands alone, repeat it unchanged. Reply with the question only."
)


def condense_messages(question: str, history: Sequence[str], language: str) -> list[ChatMessage]:
    """The chat that asks for a standalone version of ``question`` after ``history`` (oldest first)."""
    earlier = "\n".join(f"- {h}" for h in history)
    user = f"Earlier questions:\n{earlier}\n\nLast question: {question}\nStandalone question:"
    return [
        ChatMessage(
            role=MessageRole.SYSTEM, content=CONDENSE_SYSTEM.format(language=language_name(language))
        ),
        ChatMessage(role=MessageRole.USER, content=user),
    ]
