"""The stored index checked against its manifest, and mended (``khabar ingest --verify``).

Why: a content is marked complete once all of its vectors are written, and from then on every
run trusts the manifest and calls its file "unchanged". Damage done after that (two processes
that wrote at once, before writers took the index's lock; a store restored or edited by hand)
is never seen again: a question that reaches the content fails ("Error getting embedding") or
finds chunks without their sentences, and ingesting again repairs nothing. This looks at what
is really stored.

What is checked, and how each problem is mended (in this order):

- rows whose vector Chroma cannot read: their text is embedded again (a chunk with its title,
  as ingestion embeds it) and the rows written again. First, because such rows may not even be
  deletable (``Index.replace_vectors``);
- rows of a content that no article name holds (chunks, sentences, BM25 rows): removed from
  every store, and a manifest entry for it dropped;
- a complete content whose chunks are not exactly those it was stored with, or whose stored
  sentences leave part of a chunk's text uncovered (the sentences of an article cover every
  non-space character of its chunks): removed from every store and marked incomplete in the
  manifest, the path an interrupted run takes, so the next run that reads a file holding it
  stores it again. That is the same run when its file is among the paths ingested;
- BM25 rows that differ from a content's chunks (missing, or without a chunk): rewritten from
  the chunks in Chroma, with no embedding.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field

import numpy as np

from index.records import Article, Chunk
from index.store import Index, StoredRecords
from ingest.chunking import chunk_embedding_text

Embed = Callable[[list[str]], list[list[float]]]


@dataclass
class Finding:
    """One problem found with one stored content, and what was done about it."""

    article: str  # the article's name, or the best the stores know of it
    content_hash: str
    problem: str
    repair: str
    files: list[str] = field(default_factory=list)  # files whose next ingest stores it again

    def __str__(self) -> str:
        return f"{self.article}: {self.problem}; {self.repair}"


@dataclass
class VerifyReport:
    contents: int = 0  # article contents checked (in the manifest or in any store)
    findings: list[Finding] = field(default_factory=list)


def verify(index: Index, embed: Embed, index_titles: bool = True) -> VerifyReport:
    """Check every content the manifest or any store holds, mend what is broken, say what was.

    Call it holding the index's write lock (``Ingestor.ingest`` does): it deletes and rewrites.
    """
    manifest = index.manifest
    stored = index.survey()
    contents = {c.content_hash: c for c in manifest.contents()}
    report = VerifyReport(contents=len(stored.keys() | contents.keys()))

    def label(content_hash: str) -> str:
        names = manifest.names_for_content(content_hash)
        return names[0] if names else _label(content_hash, stored.get(content_hash), contents)

    for content_hash, lost in _mend_vectors(index, stored, embed, index_titles).items():
        problem = f"{lost} vector(s) could not be read"
        report.findings.append(Finding(label(content_hash), content_hash, problem, "embedded again"))

    for content_hash in sorted(stored.keys() | contents.keys()):
        records = stored.get(content_hash, StoredRecords())
        content = contents.get(content_hash)
        names = manifest.names_for_content(content_hash)
        if not names:
            problem, repair = _remove_orphan(index, content_hash, records, content is not None)
        elif content is None or not content.complete:
            continue  # interrupted: the next run that reads its file stores it (deleting what is left)
        elif problem := _damage(content_hash, content.n_chunks, records):
            manifest.mark_incomplete(content_hash)  # first: a crash from here on leaves it to be redone
            index.delete(content_hash)
            files = sorted({path for name in names for path in manifest.holders(name)})
            repair = f"removed; ingest {', '.join(files) or 'its file'} again to store it again"
            report.findings.append(Finding(names[0], content_hash, problem, repair, files))
            continue
        elif records.lexical != set(records.chunks):
            missing, extra = set(records.chunks) - records.lexical, records.lexical - set(records.chunks)
            index.fill_lexical([content_hash])
            problem = f"{len(missing)} BM25 row(s) missing, {len(extra)} without a chunk"
            repair = "BM25 rows rewritten from the stored chunks"
        else:
            continue
        report.findings.append(Finding(label(content_hash), content_hash, problem, repair))
    return report


def _mend_vectors(
    index: Index, stored: dict[str, StoredRecords], embed: Embed, index_titles: bool
) -> dict[str, int]:
    """Embed again, and write again, every row whose vector cannot be read; lost rows per content."""
    lost_chunks, lost_sentences = index.unreadable_vectors(sorted(stored))
    if not lost_chunks and not lost_sentences:
        return {}
    texts: dict[tuple[str, str], str] = {}
    lost: dict[str, int] = {}
    for content_hash, records in stored.items():
        article = Article(id=records.article_id, title=records.title, text="")
        for chunk_id in lost_chunks & records.chunks.keys():
            start, end, text = records.chunks[chunk_id]
            chunk = Chunk(chunk_id, 0, start, end, text)
            texts["chunk", chunk_id] = chunk_embedding_text(article, chunk, index_titles)
            lost[content_hash] = lost.get(content_hash, 0) + 1
        for sentence_id in lost_sentences & records.sentences.keys():
            texts["sentence", sentence_id] = records.sentences[sentence_id][2]
            lost[content_hash] = lost.get(content_hash, 0) + 1
    vectors = dict(zip(texts, embed(list(texts.values())), strict=True))
    index.replace_vectors(
        {row_id: v for (kind, row_id), v in vectors.items() if kind == "chunk"},
        {row_id: v for (kind, row_id), v in vectors.items() if kind == "sentence"},
    )
    return lost


def _remove_orphan(
    index: Index, content_hash: str, records: StoredRecords, in_manifest: bool
) -> tuple[str, str]:
    """A content no article name holds: what is stored of it goes, and its manifest entry."""
    if records.chunks or records.sentences or records.lexical:
        index.delete(content_hash)
        problem = (
            f"stored, but no article holds it ({len(records.chunks)} chunk(s), "
            f"{len(records.sentences)} sentence(s), {len(records.lexical)} BM25 row(s))"
        )
        repair = "removed from every store"
    else:
        problem, repair = "in the manifest, but no article holds it", "entry dropped"
    if in_manifest:
        index.manifest.drop_content(content_hash)
    return problem, repair


def _damage(content_hash: str, n_chunks: int, records: StoredRecords) -> str:
    """What is wrong with a content the manifest calls complete ('' when nothing)."""
    want = {f"{content_hash[:16]}:{i}" for i in range(n_chunks)}
    have = set(records.chunks)
    if have != want:
        return f"{len(want - have)} of its {n_chunks} chunk(s) missing" + (
            f", {len(have - want)} not its own" if have - want else ""
        )
    uncovered = _uncovered_chunks(records)
    if uncovered:
        return f"sentences missing for {uncovered} of its {n_chunks} chunk(s)"
    return ""


def _uncovered_chunks(records: StoredRecords) -> int:
    """Chunks with a non-space character that no stored sentence of the content covers."""
    length = max((start + len(text) for start, _, text in records.chunks.values()), default=0)
    covered = np.zeros(length, dtype=bool)
    for start, end, _ in records.sentences.values():
        covered[start:end] = True
    count = 0
    for start, _, text in records.chunks.values():
        words = np.fromiter((not c.isspace() for c in text), dtype=bool, count=len(text))
        count += bool((words & ~covered[start : start + len(text)]).any())
    return count


def _label(content_hash: str, records: StoredRecords | None, contents: dict) -> str:
    content = contents.get(content_hash)
    if content is not None and content.article_id:
        return content.article_id
    if records is not None and (records.article_id or records.title):
        return records.article_id or records.title
    return content_hash[:16]
