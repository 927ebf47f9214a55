"""The ONNX runtimes of the embedding model: exported once from the bundled weights (no hub), they
give the torch model's vectors (fp32: equal to rounding; int8: near), the same tokens, token
vectors that still align words, and KHABAR_EMBED_RUNTIME selects them ('auto', the default: int8
for the bundled model, torch for any other)."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest
from pydantic import ValidationError

from index.embedding import BUNDLED_E5
from index.embedding import onnx as onnx_runtime
from index.embedding.embedder import load_embedder, resolve_model_path
from khabar import components
from khabar.settings import Settings

pytest.importorskip("onnxruntime")
pytest.importorskip("onnx")

HINDI = [
    "इस बीच अमेरिकी विदेश विभाग ने कहा है कि नया हथियार सौदा होने पर अतिरिक्त प्रतिबंध लगाए जाएंगे.",
    "उत्तर कोरिया के नेता किम जोंग उन ने पुतिन को अपने देश आने का न्योता दिया।",
    "असम में बाढ़ से एक लाख लोग प्रभावित हुए हैं।",
]
ENGLISH = [
    "The US State Department warned of additional sanctions if a new arms deal is made.",
    "Kim Jong Un invited Vladimir Putin to visit North Korea, and Putin accepted.",
    "Floods",
]
# fp32 runs the same arithmetic in another order: anything below this is a different computation.
FP32_MIN_COSINE = 0.9999
# int8 rounds every weight: on xquad-hi-dev's chunks, sentences and questions its vectors stay at or
# above 0.99 of torch's (bench/results/runtime.json); a broken graph (mask, positions, pooling) or
# a saturating quantisation lands far lower.
INT8_MIN_COSINE = 0.98


def onnx_model(model_cache: Path, runtime: str):
    return load_embedder(BUNDLED_E5, model_cache, "query: ", "passage: ", 32, 512, runtime)


@pytest.mark.integration
@pytest.mark.parametrize(("runtime", "bound"), [("onnx", FP32_MIN_COSINE), ("onnx-int8", INT8_MIN_COSINE)])
@pytest.mark.parametrize("texts", [HINDI, ENGLISH], ids=["hindi", "english"])
def test_onnx_vectors_are_unit_length_and_close_to_torchs(torch_model, model_cache, runtime, bound, texts):
    model = onnx_model(model_cache, runtime)
    passages = np.asarray(model.embed_passages(texts))
    reference = np.asarray(torch_model.embed_passages(texts))
    queries = np.asarray([model.embed_query(t) for t in texts])
    reference_queries = np.asarray([torch_model.embed_query(t) for t in texts])
    for ours, theirs in ((passages, reference), (queries, reference_queries)):
        assert np.allclose(np.linalg.norm(ours, axis=1), 1.0, atol=1e-5)
        assert (ours * theirs).sum(axis=1).min() >= bound
    # The prompt is applied: a question's vector is not its passage vector.
    assert float(queries[0] @ passages[0]) < 0.99
    assert model.token_ids(texts[0]) == torch_model.token_ids(texts[0])
    assert model.embed_passages([]) == []


@pytest.mark.integration
def test_onnx_token_vectors_match_torchs_and_still_align_words(torch_model, model_cache):
    from rag.alignment import WordAligner

    model = onnx_model(model_cache, "onnx")
    ours, theirs = model.token_encoder(8, 128, 64), torch_model.token_encoder(8, 128, 64)
    texts = [("query", "Until when did trading go on?"), ("passage", HINDI[1])]
    for a, b in zip(ours.vectors(texts), theirs.vectors(texts), strict=True):
        assert a.shape == b.shape and (a * b).sum(axis=1).min() >= 0.999
    aligner = WordAligner(ours)
    question = "Until when did Warsaw's first stock exchange keep trading?"
    answering = "वारसॉ का पहला स्टॉक एक्सचेंज 1817 में स्थापित हुआ और द्वितीय विश्व युद्ध तक इसमें व्यापार होता रहा।"
    topical = "आज वारसॉ स्टॉक एक्सचेंज इस क्षेत्र का सबसे बड़ा बाज़ार है।"
    scores = aligner.maxsim(question, [answering, topical, "मानसून की बारिश से किसानों को राहत मिली।"])
    assert scores[0] > scores[1] + 0.05 and scores[1] > scores[2]


@pytest.mark.integration
def test_exports_are_built_once_beside_the_model_folder(torch_model, model_cache, monkeypatch):
    onnx_model(model_cache, "onnx")
    folder = Path(resolve_model_path(BUNDLED_E5, model_cache))
    built = onnx_runtime.export_path(folder, None, int8=False)
    assert built.is_file() and built.parent.parent == folder.parent
    before = built.stat().st_mtime_ns

    def no_export(*args, **kwargs):
        raise AssertionError("exported again")

    monkeypatch.setattr(onnx_runtime, "_export", no_export)
    assert onnx_runtime.exported(folder) == built and built.stat().st_mtime_ns == before


def test_an_interrupted_export_leaves_nothing_to_load(tmp_path, monkeypatch):
    folder = tmp_path / "models" / "some-model"
    folder.mkdir(parents=True)

    def half_written(folder: Path, layers: int | None, out: Path) -> Path:
        out.write_bytes(b"half a graph")
        raise KeyboardInterrupt

    monkeypatch.setattr(onnx_runtime, "_export", half_written)
    with pytest.raises(KeyboardInterrupt):
        onnx_runtime.exported(folder, 8, int8=True)
    assert not onnx_runtime.export_path(folder, 8, int8=True).exists()
    assert not onnx_runtime.export_path(folder, 8, int8=False).exists()
    assert [p.name for p in onnx_runtime.export_path(folder, 8, True).parent.iterdir()] == []


def test_the_runtime_setting_reaches_the_loader(monkeypatch, tmp_path):
    seen = []

    def fake_load(*args):
        seen.append(args[-1])
        return object()

    monkeypatch.setattr(components, "load_embedder", fake_load)
    components.embedder(Settings(model_cache_dir=tmp_path))
    monkeypatch.setenv("KHABAR_EMBED_RUNTIME", "torch")
    components.embedder(Settings(model_cache_dir=tmp_path))
    assert seen == ["auto", "torch"]
    with pytest.raises(ValidationError):
        Settings(embed_runtime="tensorrt")


@pytest.mark.integration
def test_auto_runs_the_bundled_model_on_int8(embed_model, model_cache):
    """(A named model stays on torch under 'auto': tests/test_embedding.py loads one.)"""
    assert isinstance(embed_model, onnx_runtime.OnnxEmbedder) and embed_model.runtime == "onnx-int8"
    assert load_embedder(BUNDLED_E5, model_cache, "query: ", "passage: ", 32, 512, "auto") is embed_model


def test_a_hub_model_name_cannot_run_on_onnx(tmp_path):
    with pytest.raises(ValueError, match="model folder on disk"):
        load_embedder("intfloat/some-model", tmp_path, "query: ", "passage: ", 32, 512, "onnx")
    with pytest.raises(ValueError, match="unknown embedding runtime"):
        load_embedder(BUNDLED_E5, tmp_path, "query: ", "passage: ", 32, 512, "tensorrt")


def test_the_tokenizer_file_gives_transformers_ids_without_importing_it(model_cache):
    """The ONNX runtimes read tokenizer.json with `tokenizers` alone (no transformers, no torch at
    start-up); their ids, masks, truncation and padding must be transformers' own."""
    from transformers import AutoTokenizer

    from index.embedding.tokenizer_file import TokenizerFile

    folder = Path(resolve_model_path(BUNDLED_E5, model_cache))
    ours, theirs = TokenizerFile(folder), AutoTokenizer.from_pretrained(folder)
    long_hindi = " ".join(HINDI * 40)  # far over 512 tokens
    texts = [*HINDI, *ENGLISH, "", "  ", "a\u00a0b\tc\n\nd\u200b", "Kim’s “quote” — dash…", long_hindi]
    for text in texts:
        assert ours.encode(text, add_special_tokens=False) == theirs.encode(text, add_special_tokens=False)
        assert ours.encode(text) == theirs.encode(text)
        for limit in (8, 512):
            mine = ours(text, truncation=True, max_length=limit, return_tensors="np")
            want = theirs(text, truncation=True, max_length=limit, return_tensors="np")
            assert mine["input_ids"].tolist() == want["input_ids"].tolist()
            assert mine["attention_mask"].tolist() == want["attention_mask"].tolist()
    batch = ["passage: " + t for t in texts]
    mine = ours(batch, padding=True, truncation=True, max_length=512, return_tensors="np")
    want = theirs(batch, padding=True, truncation=True, max_length=512, return_tensors="np")
    assert mine["input_ids"].tolist() == want["input_ids"].tolist()
    assert mine["attention_mask"].tolist() == want["attention_mask"].tolist()
    assert len(ours.encode(long_hindi)) > 512  # token counts (chunking) are never truncated


def test_the_onnx_runtimes_start_without_transformers_or_torch(model_cache, tmp_path):
    """What makes the first answer seconds sooner: loading the int8 model imports neither."""
    import subprocess
    import sys

    onnx_model(model_cache, "onnx-int8")  # the export exists before the child process looks
    code = (
        "import sys; from pathlib import Path; from index.embedding.embedder import load_embedder;"
        f"m = load_embedder({BUNDLED_E5!r}, Path({str(model_cache)!r}), 'query: ', 'passage: ', 32, 512,"
        " 'onnx-int8'); m.embed_query('x'); m.token_encoder(8, 256, 8).vectors([('query', 'x')]);"
        "print(sorted(n for n in ('torch', 'transformers', 'sentence_transformers') if n in sys.modules))"
    )
    root = Path(__file__).resolve().parent.parent
    out = subprocess.run(
        [sys.executable, "-c", code], cwd=root, capture_output=True, text=True, timeout=300, check=True
    )
    assert out.stdout.strip().splitlines()[-1] == "[]"
