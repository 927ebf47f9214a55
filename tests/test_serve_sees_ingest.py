"""A long-lived service (``khabar serve``) and an ingest run in another process, over one data dir:
the service answers about what the other process ingested afterwards, without a restart and
without an error (its Chroma is reopened when the index's write counter moved)."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import pytest

from khabar import components

pytestmark = pytest.mark.integration

ROOT = Path(__file__).resolve().parent.parent
CORPUS = ROOT / "corpus"
FIRST = "putin-kim-invitation-hi.txt"
SECOND = "kochi-metro.txt"
SECOND_TEXT = (
    "Kochi Metro Rail Limited announced on Monday that the new water metro service will connect ten "
    "islands around Kochi by the end of next year. The managing director said the electric boats "
    "will carry up to one hundred passengers each and run every fifteen minutes during peak hours. "
    "The project is funded by a loan of eight hundred crore rupees from a German development bank. "
    "Fishermen in the area raised concerns that the boats could disturb their nets near the "
    "backwaters, and the company promised to mark separate channels for the boats."
)


def test_a_running_service_answers_about_an_article_another_process_ingested(
    tmp_path, make_settings, model_cache, embed_model
):
    first, second = tmp_path / "first", tmp_path / "second"
    first.mkdir()
    second.mkdir()
    (first / FIRST).write_bytes((CORPUS / FIRST).read_bytes())
    (second / SECOND).write_text(SECOND_TEXT, encoding="utf-8")
    settings = make_settings()
    ingestor = components.ingestor(settings)
    try:
        assert ingestor.ingest([first]).added == 1
    finally:
        ingestor.close()
    service = components.service(settings)
    before = service.ask("What did the US State Department warn?")
    assert not before.declined, before.reason
    assert {c.article_id for c in before.citations} == {FIRST}

    env = {k: v for k, v in os.environ.items() if not k.startswith("KHABAR_")}
    env |= {"PYTHONPATH": str(ROOT), "KHABAR_MODEL_CACHE_DIR": str(model_cache), "COLUMNS": "500"}
    command = [
        sys.executable,
        "-m",
        "khabar.cli",
        "--data-dir",
        str(settings.data_dir),
        "ingest",
        str(second),
    ]
    run = subprocess.run(command, env=env, cwd=tmp_path, capture_output=True, text=True, timeout=600)
    assert run.returncode == 0, run.stderr

    answer = service.ask("How many passengers will the Kochi water metro boats carry?")
    assert not answer.declined, answer.reason
    assert SECOND in {p.article_id for p in answer.passages}
    assert answer.citations and answer.citations[0].article_id == SECOND
    assert all(c.sentence in SECOND_TEXT for c in answer.citations if c.article_id == SECOND)
    # And what it knew before is still answered.
    again = service.ask("What did the US State Department warn?")
    assert not again.declined and again.citations[0].article_id == FIRST
