"""Question and article files for ``khabar eval``: loaded, validated, fingerprinted.

Why validate up front: an evaluation that runs for ten minutes and then dies on line 412, or,
worse, silently scores a question whose gold id matches no article as "not retrieved", wastes a
run and misleads. Every problem is collected and reported at once, each naming the file and line.

Articles are read with the ingestion readers (:func:`ingest.sources.dispatch.read_file`), the same code the
index is built with, so the ids and languages the metrics see are exactly the ones stored.
"""

from __future__ import annotations

import hashlib
import json
from dataclasses import dataclass, field, replace
from pathlib import Path
from typing import Any

from rag.timeframe import parse_now

__all__ = [
    "ArticleInfo",
    "ArticleSet",
    "EvalDataError",
    "Question",
    "SourceFile",
    "check_gold_ids",
    "load_articles",
    "load_questions",
    "sha256_file",
]

MAX_LISTED_PROBLEMS = 20  # more than this and the file is wrong as a whole; show the start


class EvalDataError(ValueError):
    """Question or article files that cannot be evaluated; ``problems`` name file and line."""

    def __init__(self, what: str, problems: list[str]):
        self.problems = problems
        shown = problems[:MAX_LISTED_PROBLEMS]
        more = len(problems) - len(shown)
        lines = [f"{what}:", *(f"  {p}" for p in shown)]
        if more:
            lines.append(f"  ... and {more} more")
        super().__init__("\n".join(lines))


@dataclass(frozen=True)
class Question:
    """One evaluation question (format: shared/data/README.md)."""

    id: str
    question: str
    language: str
    answers: tuple[str, ...]
    gold_ids: tuple[str, ...]
    answerable: bool = True
    choices: tuple[str, ...] = ()
    date: str = ""
    origin: str = ""  # "file:line", for messages
    # A turn of a conversation: its id, and the questions of the turns before it, oldest first.
    conversation: str = ""
    history: tuple[str, ...] = ()

    @property
    def turn(self) -> int | None:
        """1 for a conversation's first turn; None for a question on its own."""
        return len(self.history) + 1 if self.conversation else None


@dataclass(frozen=True)
class SourceFile:
    """An input file and the hash of its bytes (what the eval index name is derived from)."""

    path: str
    sha256: str
    records: int


@dataclass(frozen=True)
class ArticleInfo:
    """What the metrics need to know about an article: its language, and where it came from."""

    id: str
    language: str
    title: str
    origin: str


@dataclass
class ArticleSet:
    """The articles of one evaluation: the files to ingest and every article's metadata."""

    files: list[SourceFile] = field(default_factory=list)
    articles: dict[str, ArticleInfo] = field(default_factory=dict)
    inputs: list[str] = field(default_factory=list)  # the files and folders as given

    @property
    def paths(self) -> list[Path]:
        """What to ingest: the inputs as given, since a folder is the root its files' ids derive from."""
        return [Path(p) for p in self.inputs] if self.inputs else [Path(f.path) for f in self.files]

    def language_of(self, gold_ids: tuple[str, ...] | list[str]) -> str:
        """Language of the gold article(s): one code, "mixed" when they differ, "none" without gold."""
        languages = {self.articles[g].language or "unknown" for g in gold_ids if g in self.articles}
        if not languages:
            return "none"
        return languages.pop() if len(languages) == 1 else "mixed"


def sha256_file(path: Path) -> str:
    digest = hashlib.sha256()
    with Path(path).open("rb") as f:
        for block in iter(lambda: f.read(1 << 20), b""):
            digest.update(block)
    return digest.hexdigest()


# --- questions -----------------------------------------------------------------------------------


def _string_list(value: Any) -> tuple[str, ...] | None:
    if isinstance(value, list) and all(isinstance(v, str) for v in value):
        return tuple(value)
    return None


def _parse_question(record: Any, origin: str, problems: list[str]) -> Question | None:
    if not isinstance(record, dict):
        problems.append(f"{origin}: a JSON {type(record).__name__}, not a question object")
        return None
    errors: list[str] = []
    for key in ("id", "question", "language"):
        value = record.get(key)
        if not isinstance(value, str) or not value.strip():
            errors.append(f'"{key}" must be a non-empty string')
    answerable = record.get("answerable", True)
    if not isinstance(answerable, bool):
        errors.append('"answerable" must be true or false')
        answerable = True
    answers = _string_list(record.get("answers", []))
    gold_ids = _string_list(record.get("gold_ids", []))
    choices = _string_list(record.get("choices", []))
    if answers is None:
        errors.append('"answers" must be a list of strings')
    elif answerable and not any(a.strip() for a in answers):
        errors.append('an answerable question needs at least one non-blank string in "answers"')
    if gold_ids is None:
        errors.append('"gold_ids" must be a list of article ids (strings)')
    elif answerable and not gold_ids:
        errors.append('an answerable question needs its gold article in "gold_ids"')
    if choices is None:
        errors.append('"choices", when given, must be a list of strings')
    date = record.get("date", "")
    if not isinstance(date, str):
        errors.append('"date", when given, must be a string')
    elif date.strip():
        try:  # the question's "now": refused here, not halfway through a run
            parse_now(date)
        except ValueError:
            errors.append(f'"date" must look like 2022-06-16 or 2022/06/16, not {date!r}')
    if errors:
        problems.append(f"{origin}: " + "; ".join(errors))
        return None
    return Question(
        id=record["id"].strip(),
        question=record["question"],
        language=record["language"].strip(),
        answers=answers or (),
        gold_ids=gold_ids or (),
        answerable=answerable,
        choices=choices or (),
        date=date,
        origin=origin,
    )


def _parse_conversation(record: dict[str, Any], origin: str, problems: list[str]) -> list[Question | None]:
    """A conversation line, ``{"id", "turns": [question objects without ids]}``: one question per
    turn, ``<id>#<n>``, asked with the earlier turns' questions as its history."""
    conv_id, turns = record.get("id"), record.get("turns")
    if not isinstance(conv_id, str) or not conv_id.strip():
        problems.append(f'{origin}: a conversation needs a non-empty string "id"')
        return []
    if not isinstance(turns, list) or not turns:
        problems.append(f'{origin}: "turns" must be a non-empty list of question objects')
        return []
    out: list[Question | None] = []
    history: list[str] = []
    for n, turn in enumerate(turns, 1):
        if isinstance(turn, dict):
            turn = {**turn, "id": f"{conv_id.strip()}#{n}"}
        question = _parse_question(turn, f"{origin} turn {n}", problems)
        if question is not None:
            question = replace(question, conversation=conv_id.strip(), history=tuple(history))
            history.append(question.question)
        out.append(question)
    return out


def load_questions(path: Path) -> list[Question]:
    """Every question of a JSONL file, in file order; raises :class:`EvalDataError` on any problem.

    A line may also hold a conversation (``"turns"``): its turns become questions in order, each
    asked with the questions of the turns before it as the chat's history."""
    path = Path(path)
    try:
        lines = path.read_text(encoding="utf-8-sig").split("\n")
    except OSError as exc:
        raise EvalDataError(f"Cannot read questions {path}", [str(exc.strerror or exc)]) from exc
    except UnicodeDecodeError as exc:
        raise EvalDataError(f"Cannot read questions {path}", ["it is not UTF-8 text"]) from exc
    problems: list[str] = []
    questions: list[Question] = []
    first_line: dict[str, int] = {}
    for n, line in enumerate(lines, 1):
        if not line.strip():
            continue
        origin = f"{path}:{n}"
        try:
            record = json.loads(line)
        except json.JSONDecodeError as exc:
            problems.append(f"{origin}: not valid JSON ({exc.msg}, column {exc.colno})")
            continue
        except RecursionError:  # the parser recurses once per level: [[[[...]]]] thousands deep
            problems.append(f"{origin}: its JSON is nested too deeply to read")
            continue
        parsed = (
            _parse_conversation(record, origin, problems)
            if isinstance(record, dict) and "turns" in record
            else [_parse_question(record, origin, problems)]
        )
        for question in parsed:
            if question is None:
                continue
            if question.id in first_line:
                problems.append(
                    f"{origin}: duplicate id {question.id!r} (first used on line {first_line[question.id]})"
                )
                continue
            first_line[question.id] = n
            questions.append(question)
    if problems:
        raise EvalDataError(f"Problems in the questions file {path}", problems)
    if not questions:
        raise EvalDataError(f"No questions in {path}", ["the file holds no question lines"])
    return questions


# --- articles ------------------------------------------------------------------------------------


def load_articles(paths: list[Path], max_bytes: int | None = None) -> ArticleSet:
    """Read the article files (or folders) with the ingestion readers; raise on any bad record.

    The ingestion would skip a bad record and carry on, which is right for a user's collection
    but not for an evaluation: a skipped gold article turns into a retrieval "miss". Article ids
    must also be unique across files, since a later file's article would replace an earlier one.
    ``max_bytes`` is the ingestion's file size limit, so that a file it would refuse fails here.
    """
    from ingest.errors import ReadError
    from ingest.sources.discovery import iter_sources
    from ingest.sources.dispatch import read_file

    problems: list[str] = []
    walk_problems: list[ReadError] = []
    try:
        sources = list(iter_sources([Path(p) for p in paths], walk_problems.append))
    except ReadError as err:
        raise EvalDataError("Cannot read the articles", [str(err)]) from err
    problems.extend(str(p) for p in walk_problems)
    result = ArticleSet(inputs=[str(Path(p).resolve()) for p in paths])
    for file, root in sources:
        try:
            read = read_file(file, root, max_bytes=max_bytes)
        except ReadError as err:
            problems.append(str(err))
            continue
        problems.extend(str(p) for p in read.problems)  # "file (line n): reason. fix"
        result.files.append(SourceFile(str(Path(file).resolve()), sha256_file(file), len(read.articles)))
        for article in read.articles:
            origin = str(file)
            seen = result.articles.get(article.id)
            if seen is not None:
                problems.append(f"{file}: article id {article.id!r} is also used in {seen.origin}")
                continue
            result.articles[article.id] = ArticleInfo(article.id, article.language, article.title, origin)
    if problems:
        raise EvalDataError("Problems in the article files", problems)
    if not result.articles:
        raise EvalDataError("No articles", ["the article files hold no articles"])
    return result


def check_gold_ids(questions: list[Question], articles: ArticleSet) -> None:
    """Every gold id must name an article of the set, or the question could never be retrieved."""
    problems = [
        f"{q.origin}: gold id(s) {', '.join(repr(g) for g in missing)} match no article"
        for q in questions
        if (missing := [g for g in q.gold_ids if g not in articles.articles])
    ]
    if problems:
        raise EvalDataError("Questions whose gold articles are not in the article files", problems)
