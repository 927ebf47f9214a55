"""The composition root: the one place where settings become components.

Every constructor below ``khabar/`` takes the parts and parameters it uses, never ``Settings``
(PrivateGPT's components/services split). The CLI, the web face, eval and the benchmarks get
their index, ingestor and service from here, so a new implementation of a part (another
embedder, a shared Chroma server, a generated-answer backend) is chosen here and nowhere else.
"""

from __future__ import annotations

import logging
from pathlib import Path

from index.chroma import ChromaConfig
from index.embedding import Embedder, load_embedder
from index.language import detect_language
from index.spec import IndexSpec, code_fingerprint
from index.store import Index, LexicalConfig, StorageConfig, index_folder
from ingest.chunking import Chunker
from ingest.pipeline import Ingestor
from khabar.settings import Settings
from rag.alignment import PassageTieBreak, SentenceTieBreak, WordAligner
from rag.answer import ExtractiveAnswerer
from rag.evidence import SentenceEvidence
from rag.followup import FollowUpRule
from rag.hybrid import FoldDuplicates, HybridRetriever, SpreadArticles
from rag.query import QueryBuilder
from rag.rerank import SentenceAwareReranker
from rag.sentence_model import SHIPPED as SHIPPED_SENTENCE_MODEL
from rag.sentence_model import LearnedSentenceOrder, SentenceFeatures, SentenceModel
from rag.service import QAService
from rag.stages import EvidenceStep

logger = logging.getLogger(__name__)

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


def index_path(settings: Settings, name: str | None = None) -> Path:
    """The folder of an index's side files (it may not exist yet)."""
    return index_folder(Path(settings.data_dir), name or settings.index_name)


def embedder(settings: Settings) -> Embedder:
    """The configured model, loaded once per process and configuration."""
    return load_embedder(
        settings.embed_model,
        Path(settings.model_cache_dir),
        settings.embed_query_prefix,
        settings.embed_passage_prefix,
        settings.embed_batch_size,
        settings.embed_max_tokens,
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
    )


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


def service(settings: Settings, name: str | None = None, *, warm_up: bool = True) -> QAService:
    """The question-answering service over one index, its stages as configured."""
    model = embedder(settings)
    index = open_index(settings, name)
    candidates = max(settings.rerank_depth, settings.top_k)
    evidence = SentenceEvidence(
        index,
        settings.evidence_lexical_weight,
        settings.evidence_rank_weight,
        min_sentence_terms=settings.min_sentence_terms,
    )
    aligner = word_aligner(settings, model)
    passage_steps = [
        FoldDuplicates(settings.dedup_threshold, keep=candidates),
        SentenceAwareReranker(
            index, evidence, settings.rerank_sentence_weight, settings.rerank_lexical_weight
        ),
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
                SentenceModel.load(model_file), SentenceFeatures(), settings.sentence_order_candidates
            )
        )
    answerer = ExtractiveAnswerer(
        settings.answer_sentences,
        settings.min_evidence_score,
        settings.answer_margin,
        settings.min_evidence_score_cross_lingual,
        settings.answer_type_sentences,
    )
    qa = QAService(
        index,
        QueryBuilder(model, settings.languages, FollowUpRule(settings.follow_up_max_terms)),
        HybridRetriever(
            index,
            mode=settings.retrieval_mode,
            fusion=settings.fusion,
            dense_weight=settings.dense_weight,
            rrf_k=settings.rrf_k,
            bridge_names=settings.lexical_name_bridge,
            depth=settings.retrieval_depth,
            weight_by_coverage=settings.lexical_weight_by_coverage,
        ),
        passage_steps,
        evidence,
        evidence_steps,
        answerer,
        top_k=settings.top_k,
        candidates=candidates,
        answer_passages=settings.answer_passages,
    )
    if warm_up:
        # The first forward pass pays torch's one-time set-up, and lingua loads its Latin-script
        # models on first use: pay both here, not on a question.
        model.embed_query("warm-up")
        detect_language("warm-up", tuple(settings.languages))
    return qa
