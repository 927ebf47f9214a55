"""Files to stored, embedded chunks: incremental, idempotent, and safe to interrupt.

Identity rules:
- an article's *name* is its stable id (record id, feed guid, or path under the ingested root);
- its *content* is the hash of title and text; Chroma stores each content once;
- a name whose content changed releases the old content (deleted when no other name uses it);
- ``prune`` releases the names of files that are gone (never of pages: a URL holder is no file).

One run at a time per index: ``ingest`` holds the index's inter-process write lock
(:meth:`index.store.Index.writing`) from before it reads the manifest until its last write.
"""

from __future__ import annotations

import errno
import logging
import os
import time
from collections.abc import Callable, Iterable
from dataclasses import dataclass, field
from functools import partial
from pathlib import Path

from index.embedding import Embedder
from index.language import DEFAULT_LANGUAGES
from index.records import Article
from index.store import ContentRows, Index, article_metadata
from ingest.chunking import Chunker, chunk_embedding_text, unique_sentences
from ingest.errors import ReadError
from ingest.sources.discovery import iter_sources, unreachable
from ingest.sources.dispatch import read_file
from ingest.verify import VerifyReport, verify
from ingest.web.urls import is_web_url


@dataclass
class FileResult:
    path: str
    status: str  # ingested | unchanged | skipped | partial | removed
    articles: int = 0
    chunks: int = 0
    problems: list[ReadError] = field(default_factory=list)
    notes: list[str] = field(default_factory=list)


@dataclass
class IngestReport:
    files: list[FileResult] = field(default_factory=list)
    added: int = 0
    updated: int = 0
    unchanged: int = 0
    duplicates: int = 0
    removed: int = 0
    chunks: int = 0
    sentences: int = 0
    seconds: float = 0.0
    verified: VerifyReport | None = None  # with ``verify``: what the check found and did
    cancelled: bool = False  # ``stop`` answered true: the files after ``files`` were not read

    @property
    def problems(self) -> list[ReadError]:
        return [p for f in self.files for p in f.problems]

    @property
    def ok(self) -> bool:
        return not self.problems


@dataclass
class Progress:
    """What a progress display needs; ``total_files`` is known before work starts."""

    total_files: int
    files_done: int = 0
    articles: int = 0
    chunks: int = 0
    current: str = ""
    waiting: str = ""  # set while another process's ingest of the index holds its write lock


ProgressCallback = Callable[[Progress], None]
StopCheck = Callable[[], bool]

logger = logging.getLogger(__name__)


class Ingestor:
    """Reads files into articles, chunks and embeds what is new, and writes it to ``index``.

    Takes its parts, not settings: the composition root (``khabar.components``) builds them.
    The ingestor owns ``index`` from then on: ``close`` closes it.

    Whatever stops one file (or folder) from being read becomes one problem of the report, and
    the run goes on: a collection of thousands of files must not be lost to one bad file.
    Files over ``max_file_bytes`` (None: no limit) are refused unread; an article over
    ``max_article_chars`` (None: no limit) is refused as a problem of its file, whose other
    articles are stored.
    The ingestor owns ``index`` from then on: ``close`` closes it. ``write_lock_timeout``: how
    long a run waits for another process's run on the same index to finish.
    """

    def __init__(
        self,
        index: Index,
        embedder: Embedder,
        chunker: Chunker,
        *,
        detect_language: bool = True,
        languages: tuple[str, ...] = DEFAULT_LANGUAGES,
        index_titles: bool = True,
        max_file_bytes: int | None = None,
        max_article_chars: int | None = None,
        write_lock_timeout: float = 600.0,
        write_batch: int = 1,
    ):
        """``write_batch``: how many articles of one file are written to the index together
        (:meth:`index.store.Index.write_many`); 1 writes each at once."""
        self.index = index
        self.write_batch = max(1, write_batch)
        # Embedded articles of the file being read, not yet written (begun in the manifest, so an
        # interrupted run leaves them incomplete, to be cleaned up and stored again).
        self._pending: list[ContentRows] = []
        self._pending_names: list[tuple[str, str, str]] = []  # name, content hash, file
        self.max_file_bytes = max_file_bytes
        self.max_article_chars = max_article_chars
        self.write_lock_timeout = write_lock_timeout
        self.detect_language, self.languages = detect_language, languages
        self.index_titles = index_titles
        self.manifest = index.manifest
        self.embedder = embedder
        self.chunker = chunker
        self._stop: StopCheck = _never

    def close(self) -> None:
        self.index.close()

    # -- public ----------------------------------------------------------------------------
    def ingest(
        self,
        paths: Iterable[Path],
        prune: bool = False,
        progress: ProgressCallback | None = None,
        verify: bool = False,
        stop: StopCheck | None = None,
    ) -> IngestReport:
        """Ingest ``paths`` (files or folders), then with ``prune`` remove what is gone. With
        ``verify``, first check what is stored and mend it (:mod:`ingest.verify`): a damaged
        article whose file is among ``paths`` is stored again by this same run.

        The whole run holds the index's write lock: a second writer (another ``khabar ingest``, a
        web upload, an eval build) waits for it, told why through ``progress`` (``waiting``) or
        the log, and gives up with :class:`index.lock.IndexBusy` after ``write_lock_timeout``.

        ``stop`` (a web upload's cancel button) is asked before every article: once it answers
        true the run ends with ``cancelled`` set. What was stored stays whole (articles are never
        cut), the file being read is not marked done, so the next run reads it again, and
        ``prune`` is skipped, since files that were not reached are not gone.
        """
        state = Progress(total_files=0)
        run = partial(self._ingest, paths, prune, progress, state, verify)
        return self._locked(progress, stop, state, run)

    def ingest_articles(
        self,
        articles: Iterable[Article],
        problems: Iterable[ReadError] = (),
        progress: ProgressCallback | None = None,
        stop: StopCheck | None = None,
    ) -> IngestReport:
        """Ingest articles already read from somewhere that is not a file (fetched pages, feed
        entries), each held by its ``path`` (a page's canonical URL; else its id).

        The same rules as files (:meth:`ingest`): one name's new text replaces its chunks, the
        same text under two names is stored once, the write lock is held for the whole run.
        ``problems`` (the URLs that could not be fetched) go into the report as skipped, so one
        report says what came in and what failed. A URL holder is never pruned as a gone file.
        """
        items = list(articles)
        state = Progress(total_files=len(items))
        run = partial(self._ingest_read, items, problems, progress, state)
        return self._locked(progress, stop, state, run)

    def _locked(
        self,
        progress: ProgressCallback | None,
        stop: StopCheck | None,
        state: Progress,
        run: Callable[[], IngestReport],
    ) -> IngestReport:
        """``run`` holding the index's write lock, with ``stop`` asked before every article."""

        def wait(message: str) -> None:
            if progress is None:
                logger.warning(message)
                return
            state.waiting = message
            progress(state)
            state.waiting = ""

        self._stop = stop or _never
        try:
            with self.index.writing(self.write_lock_timeout, wait):
                return run()
        finally:
            self._stop = _never

    def _begin_run(self) -> tuple[float, IngestReport]:
        """When the run started and its empty report; every run (files or read articles) starts
        here, so both fill the lexical index of an index built before ingestion fed it (once,
        from Chroma) before they write anything."""
        started = time.perf_counter()
        if self.index.lexical_needs_filling():
            self.index.fill_lexical()
        return started, IngestReport()

    def _ingest_read(
        self,
        articles: list[Article],
        problems: Iterable[ReadError],
        progress: ProgressCallback | None,
        state: Progress,
    ) -> IngestReport:
        started, report = self._begin_run()
        report.files.extend(FileResult(p.path, "skipped", problems=[p]) for p in problems)
        for article in articles:
            if self._stop():
                report.cancelled = True
                break
            holder = article.path or article.id
            state.current = holder
            result = FileResult(holder, "ingested")
            if self.max_article_chars is not None and len(article.text) > self.max_article_chars:
                result.status = "skipped"
                result.problems.append(self._too_long(holder, article))
            else:
                article.path = holder
                self._ingest_article(article, holder, result, report)
                self._flush()  # not batched: a fetched article has no file to read it again from
            report.files.append(result)
            state.files_done += 1
            state.articles += result.articles
            state.chunks += result.chunks
            if progress:
                progress(state)
        report.seconds = time.perf_counter() - started
        return report

    def _ingest(
        self,
        paths: Iterable[Path],
        prune: bool,
        progress: ProgressCallback | None,
        state: Progress,
        check: bool,
    ) -> IngestReport:
        started, report = self._begin_run()
        if check:
            report.verified = verify(self.index, self._embed, self.index_titles)
        targets: list[tuple[Path, Path]] = []
        seen: set[str] = set()

        def skipped(err: ReadError) -> None:
            report.files.append(FileResult(err.path, "skipped", problems=[err]))

        for given in paths:
            try:
                # Folders that cannot be listed and links that leave them are reported, not read.
                files = list(iter_sources([Path(given)], on_problem=skipped))
            except ReadError as err:
                skipped(err)
                continue
            for f, root in files:  # a file named twice (itself, and inside a folder named too) counts once
                if (key := os.path.abspath(f)) not in seen:
                    seen.add(key)
                    targets.append((f, root))
        state.total_files = len(targets)
        for path, root in targets:
            if self._stop():
                report.cancelled = True
                break
            state.current = str(path)
            result = self._ingest_file(path, root, report)
            report.files.append(result)
            state.files_done += 1
            state.articles += result.articles
            state.chunks += result.chunks
            if progress:
                progress(state)
        if prune and not report.cancelled:
            self._prune(report)
        if report.verified:
            for finding in report.verified.findings:
                stored = self.manifest.content(finding.content_hash)
                if finding.files and stored is not None and stored.complete:
                    finding.repair = "removed, and stored again from its file by this run"
        report.seconds = time.perf_counter() - started
        return report

    # -- one file --------------------------------------------------------------------------
    def _ingest_file(self, path: Path, root: Path, report: IngestReport) -> FileResult:
        try:
            key = str(path.resolve(strict=True))
            stat = path.stat()
        except OSError as err:  # gone since it was found, unreachable, or a link loop
            return FileResult(str(path), "skipped", problems=[unreachable(path, err)])
        except RuntimeError:  # Python 3.11's Path.resolve on a link loop
            return FileResult(
                str(path), "skipped", problems=[unreachable(path, OSError(errno.ELOOP, "link loop"))]
            )
        if self.manifest.file_unchanged(key, stat.st_size, stat.st_mtime_ns):
            n = len(self.manifest.names_for_path(key))
            report.unchanged += n
            return FileResult(key, "unchanged", articles=n)
        try:
            read = read_file(path, root, self.detect_language, self.languages, self.max_file_bytes)
        except ReadError as err:
            return FileResult(key, "skipped", problems=[err])
        result = FileResult(key, "ingested", problems=list(read.problems))
        previous = self.manifest.names_for_path(key)
        try:
            accepted = self._ingest_articles_of(key, read.articles, previous, result, report)
        except BaseException:
            self._drop_pending()  # and the file is not recorded: the next run reads it again
            raise
        if accepted is None:
            return result  # cancelled
        for gone in previous:  # records that this file no longer holds
            self._release_name(gone, key, report)
        if result.problems:
            result.status = "partial" if accepted else "skipped"
            # Not recorded as done: the next run reads it again and reports its problems again
            # (its good articles cost nothing then: their contents are stored).
            self.manifest.forget_file(key)
        else:
            self.manifest.record_file(key, stat.st_size, stat.st_mtime_ns)
        return result

    def _ingest_articles_of(
        self,
        key: str,
        articles: list[Article],
        previous: dict[str, str],
        result: FileResult,
        report: IngestReport,
    ) -> int | None:
        """The articles of one file, written in batches of ``write_batch`` and all written on
        return; how many were accepted, or None when the run was cancelled inside the file."""
        accepted = 0
        for article in articles:
            if self._stop():
                # Cancelled inside the file: its other stored names are kept (not released as
                # gone) and the file stays unrecorded, so the next run finishes it.
                report.cancelled = True
                result.status = "partial"
                result.notes.append(f"cancelled after {accepted} of {len(articles)} articles")
                self._flush()  # what was embedded is stored whole
                self.manifest.forget_file(key)
                return None
            if self.max_article_chars is not None and len(article.text) > self.max_article_chars:
                # Refused like an unreadable record: what the file held under that name goes.
                result.problems.append(self._too_long(key, article))
                continue
            article.path = key
            previous.pop(article.id, None)
            self._ingest_article(article, key, result, report)
            accepted += 1
        self._flush()
        return accepted

    def _too_long(self, path: str, article: Article) -> ReadError:
        return ReadError(
            path,
            f"article {article.id!r} is {len(article.text):,} characters long, over the limit of "
            f"{self.max_article_chars:,} characters an article",
            "split it into smaller articles, or raise the limit "
            "(the max_article_chars setting, KHABAR_MAX_ARTICLE_CHARS)",
            record=article.id,
        )

    def _ingest_article(self, article: Article, path: str, result: FileResult, report: IngestReport) -> None:
        h = article.content_hash
        old = self.manifest.content_of(article.id)
        if self._pending_holds(article):  # its text or its name waits in the batch: write it first
            self._flush()
            old = self.manifest.content_of(article.id)
        stored = self.manifest.content(h)
        result.articles += 1
        if old == h and stored and stored.complete:
            self.manifest.hold(article.id, path)
            # Details come from the file the stored text was read from (a second copy has no say).
            primary = stored.article_id == article.id and self.manifest.path_of(article.id) == path
            if primary and self._update_details(article):
                report.updated += 1
                result.notes.append(f"{article.id}: details changed, text unchanged; not re-embedded")
            else:
                report.unchanged += 1
            return
        if old is not None and old != h:
            elsewhere = [p for p in self.manifest.holders(article.id) if p != path]
            if elsewhere:
                also_in = ", ".join(elsewhere)
                result.notes.append(f"{article.id}: also in {also_in} with another text; this file's is kept")
        if stored and stored.complete:
            # Same text already stored under another name: keep one copy.
            others = [n for n in self.manifest.names_for_content(h) if n != article.id]
            report.duplicates += 1
            result.notes.append(
                f"{article.id}: same text as {', '.join(others) or stored.article_id}; stored once"
            )
        else:
            if stored:  # left incomplete by an interrupted run
                self.index.delete(h)
            # A new name may wait for the batch's write; a changed text is written at once, since
            # its old text is released below and must stay searchable until the new one is stored.
            batched = old is None
            n_chunks, n_sentences = self._store(article, path if batched else None)
            result.chunks += n_chunks
            report.chunks += n_chunks
            report.sentences += n_sentences
            if batched:
                report.added += 1
                return  # named when written (_flush): a name only ever points to a whole content
            report.updated += 1
        self.manifest.set_name(article.id, h, path)
        if old is not None and old != h:
            self._release_content(old)

    def _update_details(self, article: Article) -> bool:
        """Bring a stored article's details (date, source, url, language...) up to date when its
        file changed but its text did not. True when something changed."""
        wanted = article_metadata(article)
        have = self.index.stored_fields(article.content_hash)
        if have is None or have == wanted:
            return False
        self.index.relabel(article.content_hash, wanted)
        return True

    def _embed(self, texts: list[str]) -> list[list[float]]:
        """Embed shortest first: the embedder cuts the list into fixed batches before the model
        sees it, and a batch pads every text to its longest one, so mixing a 220-token chunk
        with 20-token sentences would make the model read mostly padding."""
        if not texts:
            return []
        order = sorted(range(len(texts)), key=lambda i: len(texts[i]))
        vectors = self.embedder.embed_passages([texts[i] for i in order])
        out: list[list[float]] = [[] for _ in texts]
        for i, vector in zip(order, vectors, strict=True):
            out[i] = vector
        return out

    def _store(self, article: Article, held_by: str | None = None) -> tuple[int, int]:
        """Embed one article and write it now; with ``held_by`` (a new name's file), queue it
        instead, to be written and named when ``write_batch`` articles wait or the file ends."""
        chunks = self.chunker.chunk(article)
        sentences = unique_sentences(chunks)
        self.manifest.begin_content(article.content_hash, article.id, article.title, len(chunks))
        chunk_vectors = self._embed([chunk_embedding_text(article, c, self.index_titles) for c in chunks])
        sentence_vectors = self._embed([s.text for s in sentences])
        self._pending.append(ContentRows(article, chunks, chunk_vectors, sentences, sentence_vectors))
        if held_by is not None:
            self._pending_names.append((article.id, article.content_hash, held_by))
        if held_by is None or len(self._pending) >= self.write_batch:
            self._flush()
        return len(chunks), len(sentences)

    def _flush(self) -> None:
        """Write the pending articles, mark each complete in the manifest, then give the new ones
        their names."""
        if not self._pending:
            return
        pending, names = self._pending, self._pending_names
        self._pending, self._pending_names = [], []
        self.index.write_many(pending)
        for rows in pending:
            self.manifest.complete_content(rows.article.content_hash)
        for name, content_hash, path in names:
            self.manifest.set_name(name, content_hash, path)

    def _drop_pending(self) -> None:
        """Forget what is not written: begun in the manifest but incomplete and unnamed, the
        next run (or a prune) cleans it up, as after any interrupted write."""
        self._pending, self._pending_names = [], []

    def _pending_holds(self, article: Article) -> bool:
        """Whether the article's text or name waits in the batch."""
        return any(
            rows.article.content_hash == article.content_hash or rows.article.id == article.id
            for rows in self._pending
        )

    # -- removal ---------------------------------------------------------------------------
    def _release_name(self, name: str, path: str, report: IngestReport) -> None:
        """``path`` no longer holds the article ``name``; it goes when no other file holds it."""
        came_from = self.manifest.path_of(name)
        remaining = self.manifest.release(name, path)
        if remaining:
            if came_from == path:
                # Its text was read from the file that let it go: read the others again next run,
                # so that the name gets their text (and their details) back.
                for other in remaining:
                    self.manifest.forget_file(other)
            return
        h = self.manifest.content_of(name)
        self.manifest.drop_name(name)
        report.removed += 1
        if h:
            self._release_content(h)

    def _release_content(self, content_hash: str) -> None:
        names = self.manifest.names_for_content(content_hash)
        if not names:
            self.index.delete(content_hash)
            self.manifest.drop_content(content_hash)
            return
        stored = self.manifest.content(content_hash)
        if stored is not None and stored.article_id not in names:
            # It was stored under the name just released; another article still has this text,
            # so it stays, but its chunks must now cite that article, not the one that is gone.
            fields = {"article_id": names[0], "path": self.manifest.path_of(names[0]) or ""}
            self.index.relabel(content_hash, fields)
            self.manifest.relabel_content(content_hash, names[0])

    def _prune(self, report: IngestReport) -> None:
        for path in self.manifest.known_paths():
            if is_web_url(path):  # a page, not a file: it is not gone because no file is there
                continue
            try:
                if Path(path).exists():
                    continue
            except OSError:  # in a folder that cannot be read now: not known to be gone, so kept
                continue
            for name in self.manifest.names_for_path(path):
                self._release_name(name, path, report)
            self.manifest.forget_file(path)
            report.files.append(FileResult(path, "removed"))
        # An article whose run was interrupted mid-write has no name yet, so no file leads to it:
        # when its file is gone, its chunks would stay searchable, and cited, for good. Removing
        # it costs nothing when the file is still there but was not read in this run: the file
        # was never recorded as done, so the next run that reads it stores the article afresh.
        for content in self.manifest.abandoned_contents():
            self.index.delete(content.content_hash)
            self.manifest.drop_content(content.content_hash)
            note = f"{content.article_id}: removed what an interrupted run had written of it"
            report.files.append(FileResult(content.article_id, "removed", notes=[note]))


def _never() -> bool:
    return False
