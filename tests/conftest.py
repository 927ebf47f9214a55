"""Shared fixtures: the real bundled model is loaded once per test session."""

from __future__ import annotations

from pathlib import Path

import pytest

from khabar import settings as settings_mod
from khabar.settings import Settings

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
