"""What keeps `khabar serve`'s start short (issue 15, `bench/scale.py cold`): the serve module does
not import Gradio, so `launch` imports it while the service loads in another thread, and serving
on the int8 runtime, through to the first answer, imports neither torch nor transformers (seconds
each) — not even with KHABAR_EMBED_THREADS set, a torch-only setting."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

import pytest

from khabar import components

pytestmark = pytest.mark.integration

ROOT = Path(__file__).resolve().parent.parent
HEAVY = ("torch", "transformers", "sentence_transformers")
TIMEOUT_S = 300


def run_python(code: str, env: dict[str, str] | None = None) -> str:
    base = {k: v for k, v in os.environ.items() if not k.startswith("KHABAR_")}
    got = subprocess.run(
        [sys.executable, "-c", code],
        cwd=ROOT,
        env=base | {"PYTHONPATH": str(ROOT), "GRADIO_ANALYTICS_ENABLED": "False"} | (env or {}),
        capture_output=True,
        text=True,
        timeout=TIMEOUT_S,
    )
    assert got.returncode == 0, got.stderr[-3000:]
    return got.stdout.strip().splitlines()[-1]


def test_the_cli_and_the_serve_module_import_no_gradio_and_no_torch():
    loaded = run_python(
        "import json, sys; import khabar.cli, khabar.web.serve;"
        f"print(json.dumps([m for m in ('gradio', *{HEAVY!r}) if m in sys.modules]))"
    )
    assert json.loads(loaded) == []


def test_serving_on_int8_answers_without_importing_torch_or_transformers(
    make_settings, model_cache, embed_model
):
    settings = make_settings()
    ingestor = components.ingestor(settings)
    try:
        assert ingestor.ingest([ROOT / "corpus"]).added >= 1
    finally:
        ingestor.close()
    # In this process first: the int8 exports (the model's and the word aligner's) exist before
    # the child looks, as they do after any earlier run.
    components.service(settings, warm_up=False).close()
    code = """
import json, socket, sys
from khabar.settings import Settings
from khabar.web import serve
from khabar.web.backend import Backend
made, real = {}, Backend.from_settings.__func__
def from_settings(cls, settings):
    made["backend"] = real(cls, settings)
    return made["backend"]
Backend.from_settings = classmethod(from_settings)
with socket.socket() as s:
    s.bind(("127.0.0.1", 0))
    port = s.getsockname()[1]
served = serve.launch(Settings(), host="127.0.0.1", port=port, block=False)
try:
    answer = made["backend"].service.ask("What did the US State Department warn?")
finally:
    served.close()
print(json.dumps({"declined": answer.declined, "cited": sorted({c.article_id for c in answer.citations}),
                  "heavy": [m for m in HEAVY if m in sys.modules]}))
""".replace("HEAVY", repr(HEAVY))
    env = {
        "KHABAR_DATA_DIR": str(settings.data_dir),
        "KHABAR_MODEL_CACHE_DIR": str(model_cache),
        "KHABAR_EMBED_THREADS": "1",
    }
    got = json.loads(run_python(code, env))
    assert got["heavy"] == []
    assert not got["declined"] and got["cited"] == ["putin-kim-invitation-hi.txt"]
