"""One writer per index: a second ingest waits for the first (or gives up, saying why), so two
ingests of one data dir at once store exactly what one would have."""

from __future__ import annotations

import os
import subprocess
import sys
import time
from pathlib import Path

import pytest
import typer

from index.lock import IndexBusy, write_lock
from ingest.chunking import Chunker, unique_sentences
from ingest.pipeline import Ingestor
from ingest.sources.dispatch import read_file
from khabar import cli, components
from khabar.settings import Settings

ROOT = Path(__file__).resolve().parent.parent


def held_lock_path(settings: Settings) -> Path:
    folder = components.index_path(settings)
    folder.mkdir(parents=True, exist_ok=True)
    return folder / "write.lock"


def bare_ingestor(settings: Settings, timeout: float) -> Ingestor:
    """No model: these runs never get past the lock, or have nothing to read."""
    return Ingestor(components.open_index(settings), None, None, write_lock_timeout=timeout)  # type: ignore[arg-type]


def test_a_second_writer_waits_then_gives_up_naming_the_lock(make_settings, capsys):
    settings = make_settings()
    lock_path = held_lock_path(settings)
    ingestor = bare_ingestor(settings, 0.5)
    heard = []
    try:
        with write_lock(lock_path, "news", timeout=0):  # held by this test, as another process would
            started = time.monotonic()
            with pytest.raises(IndexBusy) as busy:
                ingestor.ingest([], progress=lambda state: heard.append(state.waiting))
            waited = time.monotonic() - started
        assert waited >= 0.5
        assert heard == [
            f"Waiting for another ingest of index 'news' to finish (lock {lock_path}, held by another "
            "process); giving up after 0.5s."
        ]
        message = str(busy.value)
        assert str(lock_path) in message and "'news'" in message and "0.5s" in message
        assert "Let that process finish, then run this again" in message
        # Free again: the run goes ahead.
        assert ingestor.ingest([]).ok
    finally:
        ingestor.close()

    # The command line shows both, names the setting that waits longer, and fails.
    capsys.readouterr()
    with write_lock(lock_path, "news", timeout=0), pytest.raises(typer.Exit) as exit_:
        cli.run_ingest(bare_ingestor(settings, 0.1), [], prune=False)
    assert exit_.value.exit_code == 1
    shown = "".join(capsys.readouterr().err.split())  # unwrapped, whatever the terminal width
    assert "Waitingforanotheringestofindex'news'" in shown
    assert "".join(str(lock_path).split()) in shown and "Letthatprocessfinish" in shown
    assert "SetKHABAR_WRITE_LOCK_TIMEOUTtowaitlonger" in shown


def test_the_timeout_is_a_setting(monkeypatch):
    assert Settings().write_lock_timeout == 600
    monkeypatch.setenv("KHABAR_WRITE_LOCK_TIMEOUT", "30")
    assert Settings().write_lock_timeout == 30


# --- two real processes -------------------------------------------------------------------------

ARTICLES = {
    "bridge.txt": (
        "Narmada bridge reopens\nThe Narmada bridge at Jabalpur reopened to traffic on Tuesday after "
        "eight months of repairs. Engineers replaced two steel spans and the road surface.\nThe works "
        "cost forty crore rupees, the public works department said."
    ),
    "orchard.txt": (
        "Apple harvest in Himachal\nApple growers in Shimla district expect a record harvest this year. "
        "Late snowfall kept the orchards cool in spring.\nPrices at the Solan market rose by ten per cent."
    ),
    "library.txt": (
        "City library extends hours\nThe central library in Pune will stay open until midnight during "
        "exam season. Students asked for the change in a petition signed by three thousand people."
    ),
    "metro.txt": (
        "Metro line trial run\nThe new metro line in Bhopal completed its first trial run on Sunday. "
        "Six coaches ran between Subhash Nagar and AIIMS stations.\nPassenger service should begin "
        "next spring."
    ),
}


@pytest.mark.integration
def test_two_ingests_at_once_store_what_one_would(make_settings, model_cache, embed_model, tmp_path):
    corpus = tmp_path / "news"
    corpus.mkdir()
    for name, text in ARTICLES.items():
        (corpus / name).write_text(text, encoding="utf-8")
    settings = make_settings()
    data = Path(settings.data_dir)
    env = {
        **os.environ,
        "PYTHONPATH": str(ROOT),
        "KHABAR_MODEL_CACHE_DIR": str(model_cache),  # the session's model, already materialised
        "COLUMNS": "500",
    }
    env = {k: v for k, v in env.items() if not k.startswith("KHABAR_") or k == "KHABAR_MODEL_CACHE_DIR"}
    command = [sys.executable, "-m", "khabar.cli", "--data-dir", str(data), "ingest", str(corpus)]
    logs = [tmp_path / f"run{i}.err" for i in (1, 2)]
    outs = [tmp_path / f"run{i}.out" for i in (1, 2)]

    # The test holds the lock until both runs are waiting for it, so that they meet there for sure
    # (each loads the model first, and one may be much quicker), then lets them go at once.
    lock_path = held_lock_path(settings)
    with write_lock(lock_path, settings.index_name, timeout=0):
        runs = [
            subprocess.Popen(command, env=env, cwd=tmp_path, stdout=out.open("w"), stderr=log.open("w"))
            for out, log in zip(outs, logs, strict=True)
        ]
        try:
            deadline = time.monotonic() + 600
            while not all("Waiting for another ingest" in log.read_text() for log in logs):
                assert all(run.poll() is None for run in runs), [log.read_text() for log in logs]
                assert time.monotonic() < deadline, [log.read_text() for log in logs]
                time.sleep(0.2)
        except BaseException:
            for run in runs:
                run.kill()
            raise
    try:
        codes = [run.wait(timeout=600) for run in runs]
    finally:
        for run in runs:
            run.kill()
    reports = sorted(out.read_text() for out in outs)
    assert codes == [0, 0], [log.read_text() for log in logs]
    # One run stored everything; the other, waiting its turn, found it all there.
    assert reports[0].startswith("0 added, 0 updated, 4 unchanged"), reports
    assert reports[1].startswith("4 added, 0 updated, 0 unchanged"), reports

    # The store is what one ingest makes: the same ids, and every vector readable.
    articles = [a for f in sorted(corpus.iterdir()) for a in read_file(f, corpus).articles]
    chunker = Chunker(embed_model.token_ids, settings.chunk_tokens, settings.chunk_overlap_tokens)
    want_chunks: set[str] = set()
    want_sentences: dict[str, set[tuple[int, int]]] = {}
    for a in articles:
        chunks = chunker.chunk(a)
        want_chunks |= {c.id for c in chunks}
        want_sentences[a.content_hash] = {(s.start, s.end) for s in unique_sentences(chunks)}
    index = components.open_index(settings)
    try:
        stored_ids, vectors = index.chunk_vectors(sorted(want_chunks))
        assert set(stored_ids) == want_chunks and index.count() == len(want_chunks)
        assert vectors.shape == (len(want_chunks), 384)
        stored = index.sentences(list(want_sentences))
        for content_hash, spans in want_sentences.items():
            rows = stored[content_hash]
            assert {(start, end) for _, start, end in rows.rows} == spans
            assert len(rows.rows) == len(spans) and len(rows.vectors) == len(spans)
            assert all(len(vector) == 384 for vector in rows.vectors)
        assert index.manifest.stats()["stored"] == len(articles)
    finally:
        index.close()

    # And a question finds its answer.
    answer = components.service(settings, warm_up=False).ask("When did the Narmada bridge reopen?")
    assert not answer.declined, answer.reason
    assert answer.citations[0].article_id == "bridge.txt"
    assert "reopened to traffic on Tuesday" in answer.citations[0].sentence
