"""The composition root: the one place where settings become components.

Every constructor below ``khabar/`` takes the parts and parameters it uses, never ``Settings``
(PrivateGPT's components/services split). The CLI, the web face, eval and the benchmarks get
their index, ingestor and service from here, so a new implementation of a part (another
embedder, a shared Chroma server, a generated-answer backend) is chosen here and nowhere else.
"""

from __future__ import annotations

import logging
from collections.abc import Sequence
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path
from typing import Any

from llama_index.core.llms import ChatMessage, MessageRole

from index.chroma import ChromaConfig
from index.embedding import Embedder, load_embedder, resolved_runtime
from index.language import detect_language
from index.lexicon import Lexicon, load_lexicon
from index.spec import IndexSpec, code_fingerprint
from index.store import Index, LexicalConfig, StorageConfig, index_folder, index_names
from index.threads import set_model_threads
from ingest.chunking import Chunker
from ingest.pipeline import Ingestor
from ingest.web.fetch import Fetcher
from ingest.web.refresh import FeedRefresher
from khabar.jsonl import append_jsonl
from khabar.settings import Settings
from rag.alignment import PassageTieBreak, SentenceTieBreak, WordAligner
from rag.answer import DeclineThresholds, ExtractiveAnswerer
from rag.condense import FollowUpCondenser
from rag.digest import DigestAnswerer, TimelineAnswerer
from rag.evidence import SentenceEvidence
from rag.followup import FollowUpRule
from rag.generated import GeneratedAnswerer, GenerationLimits
from rag.hybrid import FoldDuplicates, HybridRetriever, SpreadArticles
from rag.prompts import answer_messages, digest_messages
from rag.query import QueryBuilder
from rag.recency import TimeOrder
from rag.rerank import SentenceAwareReranker
from rag.sentence_model import SHIPPED as SHIPPED_SENTENCE_MODEL
from rag.sentence_model import LearnedSentenceOrder, SentenceFeatures, SentenceModel
from rag.service import QAService
from rag.stages import Answerer, EvidenceStep
from rag.stories import PreferLaterReport, Stories
from rag.timeframe import TimeParser, TimeRules
from rag.verify import ClaimVerifier, VerifyRules

logger = logging.getLogger(__name__)

# Generated answers (or sentences of them) that failed verification, one JSON line each.
REJECTED_FILE = "rejected-answers.jsonl"

# The code that decides what is stored for a file: part of the index recipe (see index.spec).
RECIPE_CODE = ("ingest", "index.records", "index.store", "index.language", "index.embedding")


def storage_config(settings: Settings) -> StorageConfig:
    return StorageConfig(
        chroma=ChromaConfig(
            settings.chroma_mode,
            Path(settings.data_dir) / "chroma",
            settings.chroma_host,
            settings.chroma_port,
        ),
        data_dir=Path(settings.data_dir),
        ef_search=settings.chroma_ef_search,
        filter_oversample=settings.chroma_filter_oversample,
    )


def lexical_config(settings: Settings) -> LexicalConfig:
    return LexicalConfig(
        k1=settings.bm25_k1,
        b=settings.bm25_b,
        stemming=settings.bm25_stemming,
        index_titles=settings.index_titles,
    )


def index_spec(settings: Settings) -> IndexSpec:
    """What the settings would store, with the code that stores it."""
    return IndexSpec(
        embed_model=settings.embed_model,
        query_prefix=settings.embed_query_prefix,
        passage_prefix=settings.embed_passage_prefix,
        max_tokens=settings.embed_max_tokens,
        chunk_tokens=settings.chunk_tokens,
        chunk_overlap_tokens=settings.chunk_overlap_tokens,
        language_detection=settings.language_detection,
        languages=tuple(settings.languages),
        index_titles=settings.index_titles,
        code=code_fingerprint(RECIPE_CODE),
    )


def open_index(settings: Settings, name: str | None = None) -> Index:
    return Index(name or settings.index_name, storage_config(settings), lexical_config(settings))


def stored_indexes(settings: Settings) -> list[str]:
    return index_names(storage_config(settings))


def index_path(settings: Settings, name: str | None = None) -> Path:
    """The folder of an index's side files (it may not exist yet)."""
    return index_folder(Path(settings.data_dir), name or settings.index_name)


def embedder(settings: Settings) -> Embedder:
    """The configured model, loaded once per process and configuration."""
    if resolved_runtime(settings.embed_model, settings.embed_runtime) == "torch":
        set_model_threads(settings.embed_threads)  # imports torch: not on the ONNX runtimes
    return load_embedder(
        settings.embed_model,
        Path(settings.model_cache_dir),
        settings.embed_query_prefix,
        settings.embed_passage_prefix,
        settings.embed_batch_size,
        settings.embed_max_tokens,
        settings.embed_runtime,
    )


def ingestor(settings: Settings, name: str | None = None) -> Ingestor:
    model = embedder(settings)
    return Ingestor(
        open_index(settings, name),
        model,
        Chunker(model.token_ids, settings.chunk_tokens, settings.chunk_overlap_tokens),
        detect_language=settings.language_detection,
        languages=tuple(settings.languages),
        index_titles=settings.index_titles,
        max_file_bytes=settings.max_file_bytes,
        max_article_chars=settings.max_article_chars,
        write_lock_timeout=settings.write_lock_timeout,
        write_batch=settings.ingest_write_batch,
    )


def fetcher(settings: Settings) -> Fetcher:
    """The web fetcher under the fetch settings (timeouts, retries, per-host delay, robots.txt)."""
    return Fetcher(
        user_agent=settings.fetch_user_agent,
        timeout=settings.fetch_timeout,
        retries=settings.fetch_retries,
        backoff=settings.fetch_backoff,
        max_retry_after=settings.fetch_max_retry_after,
        host_delay=settings.fetch_host_delay,
        max_bytes=min(settings.fetch_max_bytes, settings.max_file_bytes),
        max_seconds=settings.fetch_max_seconds,
        respect_robots=settings.fetch_respect_robots,
    )


def feed_refresher(settings: Settings, name: str | None = None) -> FeedRefresher:
    """Fetches URLs and followed feeds into the index (``khabar ingest URL``, ``khabar feeds``,
    and a periodic refresh inside ``khabar serve``); ``close`` closes its ingestor and fetcher."""
    return FeedRefresher(
        ingestor(settings, name),
        fetcher(settings),
        detect_language=settings.language_detection,
        languages=tuple(settings.languages),
    )


def time_rules(settings: Settings) -> TimeRules | None:
    """How time words shape a search, or None when time-awareness is off."""
    if not settings.time_aware:
        return None
    return TimeRules(TimeParser(settings.time_week_days), settings.time_undated)


def lexicon(settings: Settings) -> Lexicon | None:
    """The bilingual word list BM25 searches translations from, or None (off, or 'auto' and not
    installed)."""
    found = load_lexicon(
        settings.lexicon, settings.lexicon_max_senses, settings.lexicon_translations, settings.model_cache_dir
    )
    if found is not None:
        logger.info("searching translations from %s (%d English words)", found.source, len(found))
    return found


def word_aligner(settings: Settings, model: Embedder) -> WordAligner | None:
    """The word aligner over the embedding model, or None when it is off or the model has no
    encoder layers to read token vectors from (then ties stay in evidence-score order)."""
    if settings.alignment_weight <= 0:
        return None
    encoder = model.token_encoder(
        settings.alignment_layer, settings.alignment_max_tokens, settings.alignment_cache_size
    )
    if encoder is None:
        logger.warning("word alignment is off: %s has no encoder layers to read", settings.embed_model)
        return None
    return WordAligner(encoder)


class LLMNotConfigured(ValueError):
    """Generated answers were asked for, but no model is connected."""


def check_answerer(settings: Settings) -> None:
    """Raise :class:`LLMNotConfigured` when generated answers are the default but no model is
    connected: said before anything loads (``khabar serve``, ``python app.py``), not after."""
    if settings.answerer == "generated" and not (settings.llm_base_url or settings.llm_gguf):
        raise LLMNotConfigured(
            "KHABAR_ANSWERER=generated needs a language model: set KHABAR_LLM_BASE_URL (an OpenAI-compatible "
            "endpoint such as http://127.0.0.1:8080/v1) or KHABAR_LLM_GGUF (a local model file)"
        )


def llm_endpoint(settings: Settings) -> str:
    """The connected model in a reader's words ("" when none is)."""
    if settings.llm_gguf:
        return f"the local model {Path(settings.llm_gguf).name}"
    if settings.llm_base_url:
        return f"the language model at {settings.llm_base_url}"
    return ""


def chatml(messages: Sequence[ChatMessage]) -> str:
    """Messages in the ChatML prompt format that small instruct GGUF models use (SmolLM2, Qwen);
    llama-index's LlamaCPP defaults to Llama 2's. A model with another format is best served by
    llama.cpp's server, which reads the template from the file, and reached by KHABAR_LLM_BASE_URL."""
    turns = [f"<|im_start|>{m.role.value}\n{m.content}<|im_end|>\n" for m in messages]
    return "".join(turns) + "<|im_start|>assistant\n"


def llm(settings: Settings):
    """The connected language model (a llama-index LLM), or None when none is configured.

    An OpenAI-compatible endpoint (llama.cpp's server, vLLM, Ollama's /v1, LM Studio, OpenAI)
    through llama-index's OpenAILike; or a GGUF file in this process through llama-cpp-python,
    the optional 'llm' extra.
    """
    if settings.llm_gguf:
        try:
            from llama_index.llms.llama_cpp import LlamaCPP
        except ImportError as err:
            raise LLMNotConfigured(
                f"KHABAR_LLM_GGUF={settings.llm_gguf} needs the optional extra: pip install -e '.[llm]'"
            ) from err
        if not Path(settings.llm_gguf).is_file():
            raise LLMNotConfigured(f"KHABAR_LLM_GGUF: no model file at {settings.llm_gguf}")
        return LlamaCPP(
            model_path=str(settings.llm_gguf),
            temperature=settings.llm_temperature,
            max_new_tokens=settings.llm_max_tokens,
            context_window=settings.llm_gguf_context_tokens,
            model_kwargs={"n_ctx": settings.llm_gguf_context_tokens},
            messages_to_prompt=chatml,
            completion_to_prompt=lambda text: chatml([ChatMessage(role=MessageRole.USER, content=text)]),
            verbose=False,
        )
    if not settings.llm_base_url:
        return None
    from llama_index.llms.openai_like import OpenAILike

    return OpenAILike(
        model=settings.llm_model,
        api_base=settings.llm_base_url,
        # The client refuses an empty key; local servers ignore it.
        api_key=settings.llm_api_key.get_secret_value() or "not-needed",
        is_chat_model=True,
        context_window=32768,
        max_tokens=settings.llm_max_tokens,
        temperature=settings.llm_temperature,
        timeout=settings.llm_timeout,
        max_retries=settings.llm_max_retries,
        reuse_client=True,
    )


def stories(settings: Settings, evidence: SentenceEvidence) -> Stories:
    return Stories(evidence, settings.story_sentence_similarity, settings.story_title_overlap)


def answerers(
    settings: Settings, model: Embedder, evidence: SentenceEvidence, connected: Any = None
) -> tuple[ExtractiveAnswerer, dict[str, Answerer]]:
    """The extractive answerer, and every answerer a question may choose by name: "extractive"
    always, "generated" when a language model is connected (``connected``, a llama-index LLM,
    else the one the settings name). Each answers a digest question with a dated timeline."""
    extractive = ExtractiveAnswerer(
        settings.answer_sentences,
        DeclineThresholds(settings.min_evidence_score, settings.min_evidence_score_cross_lingual),
        settings.answer_margin,
        settings.answer_type_sentences,
        settings.unmentioned_name_margin,
    )
    timeline = TimelineAnswerer(
        stories(settings, evidence),
        settings.digest_articles,
        DeclineThresholds(settings.digest_min_score, settings.digest_min_score_cross_lingual),
    )
    choices: dict[str, Answerer] = {"extractive": DigestAnswerer(extractive, timeline)}
    connected = connected if connected is not None else llm(settings)
    if connected is not None:
        verifier = ClaimVerifier(
            evidence,
            model.embed_query,
            VerifyRules(
                settings.verify_min_similarity,
                settings.verify_min_similarity_cross_lingual,
                names=settings.verify_names,
                numbers=settings.verify_numbers,
            ),
        )
        limits = GenerationLimits(
            passages=settings.answer_passages,
            context_chars=settings.llm_context_chars,
            max_chars=settings.llm_max_tokens
            * 8,  # no tokeniser of the model here: 8 chars a token is generous
            deadline_s=settings.llm_timeout,
            min_share=settings.verify_min_share,
        )
        condenser = (
            FollowUpCondenser(connected, settings.languages, settings.llm_timeout)
            if settings.llm_condense_follow_ups
            else None
        )
        rejected = Path(settings.data_dir) / REJECTED_FILE

        def generated(fallback: Answerer, prompt: Any) -> GeneratedAnswerer:
            return GeneratedAnswerer(
                connected,
                fallback,
                verifier,
                limits,
                settings.languages,
                condenser,
                llm_endpoint(settings),
                on_rejected=lambda record: append_jsonl(rejected, record),
                prompt=prompt,
            )

        choices["generated"] = DigestAnswerer(
            generated(extractive, answer_messages), timeline, generated(timeline, digest_messages)
        )
    else:
        check_answerer(settings)
    return extractive, choices


def service(
    settings: Settings, name: str | None = None, *, warm_up: bool = True, connected: Any = None
) -> QAService:
    """The question-answering service over one index, its stages as configured (``connected``: a
    llama-index LLM to use instead of the configured one)."""
    languages = tuple(settings.languages)
    # Loaded side by side, each in its own thread: lingua's models (loaded on first use, per script
    # and n-gram length: a one-word warm-up left most of it to the first question), the index with
    # the vectors and BM25 matrix its first search would load (Chroma's HNSW loads in C, beside the
    # model's ONNX sessions), and the model here.
    with ThreadPoolExecutor(max_workers=2, thread_name_prefix="khabar-warm-up") as pool:
        opening = pool.submit(_open_index, settings, name, warm_up)  # first: lingua holds the GIL
        if warm_up:
            pool.submit(_warm_language_detector, languages)
        reading = pool.submit(lexicon, settings)  # a dictionary's first reading is slow (then cached)
        model = embedder(settings)
        if warm_up:
            # The first forward pass pays the runtime's one-time set-up: pay it here, not on a question.
            model.embed_query("warm-up")
        aligner = word_aligner(settings, model)
        index = opening.result()
        word_list = reading.result()
    candidates = max(settings.rerank_depth, settings.top_k)
    evidence = SentenceEvidence(
        index,
        settings.evidence_lexical_weight,
        settings.evidence_rank_weight,
        min_sentence_terms=settings.min_sentence_terms,
    )
    # Articles dated after now dropped; under a time frame, newer or dated passages first.
    time_order = [
        TimeOrder(settings.time_undated, settings.time_recency_weight, settings.time_recency_half_life_days)
    ]
    passage_steps = [
        FoldDuplicates(settings.dedup_threshold, keep=candidates),
        SentenceAwareReranker(
            index, evidence, settings.rerank_sentence_weight, settings.rerank_lexical_weight
        ),
        *(time_order if settings.time_aware else []),
        SpreadArticles(settings.passages_per_article),
        # Cross-lingual near-ties settled word by word, before the cut so a tied passage just
        # below it can move up.
        PassageTieBreak(
            aligner,
            evidence,
            settings.alignment_weight,
            settings.alignment_passage_margin,
            settings.alignment_passage_candidates,
            settings.alignment_sentences_per_passage,
        ),
    ]
    evidence_steps: list[EvidenceStep] = [
        SentenceTieBreak(
            aligner,
            settings.alignment_weight,
            settings.alignment_sentence_margin,
            settings.alignment_sentence_candidates,
        )
    ]
    if settings.sentence_order == "learned":
        model_file = settings.sentence_model_file or SHIPPED_SENTENCE_MODEL
        evidence_steps.append(
            LearnedSentenceOrder(
                SentenceModel.load(model_file),
                SentenceFeatures(),
                settings.sentence_order_candidates,
            )
        )
    # Last, on the final order: the best sentence's later report, when as good, is quoted instead.
    evidence_steps.append(PreferLaterReport(stories(settings, evidence), settings.later_report_margin))
    _, choices = answerers(settings, model, evidence, connected)
    qa = QAService(
        index,
        QueryBuilder(
            model,
            settings.languages,
            FollowUpRule(settings.follow_up_max_terms),
            time_rules(settings),
            word_list,
        ),
        HybridRetriever(
            index,
            mode=settings.retrieval_mode,
            fusion=settings.fusion,
            dense_weight=settings.dense_weight,
            rrf_k=settings.rrf_k,
            bridge_names=settings.lexical_name_bridge,
            lexicon=word_list,
            depth=settings.retrieval_depth,
            weight_by_coverage=settings.lexical_weight_by_coverage,
        ),
        passage_steps,
        evidence,
        evidence_steps,
        choices[settings.answerer],
        top_k=settings.top_k,
        candidates=candidates,
        answer_passages=settings.answer_passages,
        alternatives=choices,
        digest_passages=settings.digest_passages,
    )
    return qa


def _open_index(settings: Settings, name: str | None, warm_up: bool) -> Index:
    index = open_index(settings, name)
    if warm_up:
        index.warm_up(lexical=settings.retrieval_mode != "dense")
    return index


# A question-sized sentence per script the questions come in: what a real first question loads.
WARM_UP_SENTENCES = (
    "Which country will require a single charging standard for all new phones?",
    "पुतिन ने किम जोंग उन को रूस आने का न्योता दिया",
)


def _warm_language_detector(languages: tuple[str, ...]) -> None:
    for sentence in WARM_UP_SENTENCES:
        detect_language(sentence, languages)
