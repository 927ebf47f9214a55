"""Shared fixtures: the real bundled model is loaded once per test session, and a real `chroma run`
server is started once, when a test asks for it."""

from __future__ import annotations

import shutil
import socket
import subprocess
import sys
import time
import urllib.request
import uuid
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pytest

from khabar import settings as settings_mod
from khabar.settings import Settings
from tests.factories import stop_process

ROOT = Path(__file__).resolve().parent.parent
CORPUS = ROOT / "corpus"
SHARED_DATA = ROOT.parent / "shared" / "data"


@pytest.fixture(scope="session")
def model_cache(tmp_path_factory) -> Path:
    return tmp_path_factory.mktemp("model-cache")


@pytest.fixture
def make_settings(tmp_path, model_cache):
    """Settings isolated in a temporary data directory, sharing the session's model."""

    def factory(**overrides) -> Settings:
        values = {"data_dir": tmp_path / "data", "model_cache_dir": model_cache, **overrides}
        return Settings(**values)

    yield factory
    settings_mod.reset()


@pytest.fixture(scope="session")
def embed_model(model_cache):
    """The session's embedder (index.embedding.Embedder), as the composition root builds it."""
    from khabar import components

    return components.embedder(Settings(model_cache_dir=model_cache))


@pytest.fixture(scope="session")
def torch_model(model_cache):
    """The materialised folder through torch (sentence-transformers), whatever the default runtime."""
    from khabar import components

    return components.embedder(Settings(model_cache_dir=model_cache, embed_runtime="torch"))


def shared_data_or_skip(*parts: str) -> Path:
    path = SHARED_DATA.joinpath(*parts)
    if not path.exists():
        pytest.skip(f"{path} is absent (development data lives beside the project)")
    return path


# --- a real `chroma run` server, for the http mode -------------------------------------------------


@dataclass(frozen=True)
class ChromaServer:
    host: str
    port: int

    def settings(self, index_name: str) -> dict[str, Any]:
        """Settings overrides that put an index on this server (names are unique per test: the
        server is shared by the whole session)."""
        return {
            "chroma_mode": "http",
            "chroma_host": self.host,
            "chroma_port": self.port,
            "index_name": index_name,
        }


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


def _heartbeat(port: int) -> bool:
    try:
        with urllib.request.urlopen(f"http://127.0.0.1:{port}/api/v2/heartbeat", timeout=1) as r:
            return r.status == 200
    except OSError:
        return False


@pytest.fixture(scope="session")
def chroma_server(tmp_path_factory) -> Iterator[ChromaServer]:
    """A `chroma run` server on a free loopback port over a temporary folder, for the session;
    the tests that need it skip when the `chroma` command is missing or does not start."""
    command = shutil.which("chroma", path=str(Path(sys.executable).parent)) or shutil.which("chroma")
    if command is None:
        pytest.skip("the `chroma` command is not installed")
    folder = tmp_path_factory.mktemp("chroma-server")
    port = _free_port()
    log = (folder / "server.log").open("wb")
    server = subprocess.Popen(
        [command, "run", "--path", str(folder / "db"), "--host", "127.0.0.1", "--port", str(port)],
        stdout=log,
        stderr=subprocess.STDOUT,
    )
    try:
        deadline = time.monotonic() + 60
        while not _heartbeat(port):
            if server.poll() is not None or time.monotonic() > deadline:
                pytest.skip(f"`chroma run` did not answer on port {port}: see {folder / 'server.log'}")
            time.sleep(0.1)
        yield ChromaServer("127.0.0.1", port)
    finally:
        stop_process(server)
        log.close()


@pytest.fixture(params=["embedded", "http"])
def chroma_mode(request) -> dict[str, Any]:
    """Settings overrides for each Chroma mode: embedded in the test's data dir, or an index of its
    own on the session's server (the BM25 terms and manifest then live there too)."""
    if request.param == "embedded":
        return {}
    server: ChromaServer = request.getfixturevalue("chroma_server")
    return server.settings(f"t-{uuid.uuid4().hex[:12]}")
