"""Per-question records and the metrics computed from them.

Two steps, kept apart on purpose: :func:`score_question` turns one question and its
:class:`rag.types.Answer` into a plain, JSON-ready record holding every flag the metrics use;
:func:`summarise` only averages records. So every number in a report can be recomputed from
``report.json`` alone, and a comparison of two runs works on records, not on re-running anything.

Definitions (shared/data/README.md, and the functions of :mod:`khabar.eval.metrics`):

* retrieval is judged at article level on answerable questions: a hit at k when a passage of a
  gold article is among the first k *passages* (``gold_rank(..., unique=False)``, the README's
  wording); MRR@10 uses the same passage rank; nDCG@10 ranks distinct articles
  (:func:`khabar.eval.metrics.ndcg_at_k`);
* answered right: a gold string occurs in the answer (NFC, case-folded, citation markers
  stripped); a declined answer is never right; unanswerable questions are judged by declining.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass
from typing import Any

from khabar.eval.data import Question
from khabar.eval.generation import generation_fields, summarise_generation
from khabar.eval.metrics import (
    abstention_rates,
    answer_contains,
    citation_precision,
    citation_support,
    cited_segments,
    first_sentence,
    gold_rank,
    group_by,
    hit_at_k,
    mean,
    ndcg_at_k,
    percentile,
    reciprocal_rank,
    strip_citations,
    token_f1,
)
from khabar.eval.script_match import answer_contains_any_script
from rag.types import Answer

__all__ = [
    "GENERATION_METRICS",
    "HIT_KS",
    "METRICS",
    "RANK_CUTOFF",
    "MetricInfo",
    "breakdowns",
    "gate_metrics",
    "score_question",
    "summarise",
]

HIT_KS = (1, 5, 10)
RANK_CUTOFF = 10  # MRR@10 and nDCG@10


@dataclass(frozen=True)
class MetricInfo:
    """How to show and judge one metric: its label, unit, and which direction is better."""

    name: str
    label: str
    kind: str  # "rate" (0..1), "count", "ms", "chars", "seconds", "per_second"
    higher_is_better: bool | None  # None: neither (a description, e.g. answer length)

    @property
    def gate(self) -> bool:
        """Usable with ``--fail-under``: only metrics where "under" means "worse"."""
        return self.higher_is_better is True


_METRIC_LIST = [
    MetricInfo("questions", "questions", "count", None),
    MetricInfo("answerable", "answerable", "count", None),
    MetricInfo("unanswerable", "unanswerable", "count", None),
    MetricInfo("answered", "answered (not declined)", "count", None),
    *(MetricInfo(f"hit@{k}", f"hit@{k}", "rate", True) for k in HIT_KS),
    MetricInfo("mrr@10", "MRR@10", "rate", True),
    MetricInfo("ndcg@10", "nDCG@10", "rate", True),
    MetricInfo("answer_accuracy", "answer accuracy", "rate", True),
    MetricInfo("answer_accuracy_any_script", "answer accuracy (either script)", "rate", True),
    MetricInfo("top_sentence_accuracy", "top-sentence accuracy", "rate", True),
    MetricInfo("token_f1", "token F1", "rate", True),
    MetricInfo("mean_answer_chars", "mean answer length (chars)", "chars", None),
    MetricInfo("citation_precision", "citation precision", "rate", True),
    MetricInfo("citation_support", "citation support", "rate", True),
    MetricInfo("declined_unanswerable", "declined when unanswerable", "rate", True),
    MetricInfo("wrongly_declined", "declined when answerable", "rate", False),
    MetricInfo("decline_precision", "decline precision", "rate", True),
    MetricInfo("decline_recall", "decline recall", "rate", True),
    # Generated answers (khabar.eval.generation): None where no language model was asked.
    MetricInfo("model_asked", "asked the language model", "count", None),
    MetricInfo("verified_share", "generated sentences verified", "rate", True),
    MetricInfo("fallback_share", "fallbacks to the quoted answer", "rate", False),
    MetricInfo("completion_tokens", "completion tokens (sum)", "tokens", None),
    MetricInfo("completion_tokens_mean", "completion tokens (mean)", "tokens", None),
    MetricInfo("retrieval_p50_ms", "retrieval p50 (ms)", "ms", False),
    MetricInfo("retrieval_p95_ms", "retrieval p95 (ms)", "ms", False),
    MetricInfo("answer_p50_ms", "answering p50 (ms)", "ms", False),
    MetricInfo("answer_p95_ms", "answering p95 (ms)", "ms", False),
    MetricInfo("total_p50_ms", "total p50 (ms)", "ms", False),
    MetricInfo("total_p95_ms", "total p95 (ms)", "ms", False),
    # Run-level figures: only in the overall metrics, not in the per-language breakdowns.
    MetricInfo("questions_per_second", "questions/s", "per_second", True),
    MetricInfo("index_build_seconds", "index build (s)", "seconds", False),
    MetricInfo("index_chunks_per_second", "index chunks/s", "per_second", True),
]
METRICS: dict[str, MetricInfo] = {m.name: m for m in _METRIC_LIST}
# Shown only when some column measured them: an extractive-only report does not list five dashes.
GENERATION_METRICS = frozenset(
    {"model_asked", "verified_share", "fallback_share", "completion_tokens", "completion_tokens_mean"}
)


def gate_metrics() -> list[str]:
    """Names accepted by ``--fail-under``, in display order."""
    return [m.name for m in _METRIC_LIST if m.gate]


# --- one question --------------------------------------------------------------------------------


def top_sentence(answer: Answer) -> str:
    """The answer's first quoted sentence: its first citation's sentence, as the answerer quoted it.

    Re-splitting the answer text would cut a quoted sentence at an initial ("निकोलस ई. गोलोविन",
    "T. T. Tsui": 14 of 578 xquad answers); an answer without citations falls back to the
    first sentence of its text.
    """
    return answer.citations[0].sentence if answer.citations else first_sentence(answer.text)


def score_question(question: Question, answer: Answer, article_language: str) -> dict[str, Any]:
    """The JSON record of one question: what was asked, what came back, and every judgement."""
    retrieved = [p.article_id for p in answer.passages]
    answerable = question.answerable
    has_gold = answerable and bool(question.gold_ids)
    rank = gold_rank(retrieved, question.gold_ids, unique=False) if has_gold else None
    article_rank = gold_rank(retrieved, question.gold_ids) if has_gold else None
    text = "" if answer.declined else strip_citations(answer.text).strip()
    cited_ids = [c.article_id for c in answer.citations]
    passages = {c.marker: c.passage for c in answer.citations}

    record: dict[str, Any] = {
        "id": question.id,
        "question": question.question,
        "language": question.language,
        "article_language": article_language,
        "answers": list(question.answers),
        "gold_ids": list(question.gold_ids),
        "answerable": answerable,
        **({"conversation": question.conversation, "turn": question.turn} if question.conversation else {}),
        # "now" for the question's time words, and what they were read as
        **(
            {"date": question.date, "timeframe": answer.timeframe}
            if question.date or answer.timeframe
            else {}
        ),
        **({"time_note": answer.time_note} if answer.time_note else {}),
        "retrieved_ids": retrieved,
        "gold_rank": rank,  # passage position (README definition)
        "gold_article_rank": article_rank,  # among distinct articles
        "answer": answer.text,
        "declined": answer.declined,
        "decline_reason": answer.reason,
        "citations": [
            {"marker": c.marker, "article_id": c.article_id, "chunk_id": c.chunk_id, "sentence": c.sentence}
            for c in answer.citations
        ],
        "latency_ms": {
            "embed": answer.timings_ms.get("embed"),
            "retrieve": answer.timings_ms.get("retrieve"),
            "retrieval": _sum(answer.timings_ms.get("embed"), answer.timings_ms.get("retrieve")),
            "answer": answer.timings_ms.get("answer"),
            "total": answer.timings_ms.get("total"),
        },
        "answer_chars": None if answer.declined else len(text),
        "citation_support": None
        if answer.declined
        else citation_support(cited_segments(answer.text, passages)),
        **generation_fields(answer),
    }
    if answerable:
        record.update(
            {
                **{f"hit@{k}": hit_at_k(rank, k) if has_gold else None for k in HIT_KS},
                "rr@10": reciprocal_rank(rank, RANK_CUTOFF) if has_gold else None,
                "ndcg@10": ndcg_at_k(retrieved, question.gold_ids, RANK_CUTOFF) if has_gold else None,
                "answer_correct": (not answer.declined) and answer_contains(text, question.answers),
                "answer_correct_any_script": (not answer.declined)
                and answer_contains_any_script(text, question.answers),
                "top_sentence_correct": (not answer.declined)
                and answer_contains(top_sentence(answer), question.answers),
                "token_f1": token_f1(text, question.answers) if not answer.declined else 0.0,
                "citation_precision": None
                if answer.declined
                else citation_precision(cited_ids, question.gold_ids),
            }
        )
    else:
        record.update(
            {
                **{f"hit@{k}": None for k in HIT_KS},
                "rr@10": None,
                "ndcg@10": None,
                "answer_correct": None,
                "answer_correct_any_script": None,
                "top_sentence_correct": None,
                "token_f1": None,
                "citation_precision": None,
            }
        )
    # One flag for "did the right thing", used to compare runs: answer right, or declined rightly.
    record["correct"] = record["answer_correct"] if answerable else answer.declined
    return record


def _sum(*values: float | None) -> float | None:
    return None if any(v is None for v in values) else round(sum(v for v in values if v is not None), 2)


# --- many questions ------------------------------------------------------------------------------


def _latency(records: list[dict[str, Any]], stage: str, p: float) -> float | None:
    values = [r["latency_ms"][stage] for r in records if r["latency_ms"].get(stage) is not None]
    value = percentile(values, p)
    return None if value is None else round(value, 2)


def summarise(records: list[dict[str, Any]]) -> dict[str, Any]:
    """Every per-question metric averaged over ``records`` (None where no question qualifies).

    Retrieval, answer and citation-precision metrics average over answerable questions; answer
    length and citation support over answers given (not declined); abstention over all.
    """
    answerable = [r for r in records if r["answerable"]]
    answered = [r for r in records if not r["declined"]]
    metrics: dict[str, Any] = {
        "questions": len(records),
        "answerable": len(answerable),
        "unanswerable": len(records) - len(answerable),
        "answered": len(answered),
    }
    for k in HIT_KS:
        metrics[f"hit@{k}"] = mean(r[f"hit@{k}"] for r in answerable)
    metrics["mrr@10"] = mean(r["rr@10"] for r in answerable)
    metrics["ndcg@10"] = mean(r["ndcg@10"] for r in answerable)
    metrics["answer_accuracy"] = mean(r["answer_correct"] for r in answerable)
    metrics["answer_accuracy_any_script"] = mean(r.get("answer_correct_any_script") for r in answerable)
    metrics["top_sentence_accuracy"] = mean(r["top_sentence_correct"] for r in answerable)
    metrics["token_f1"] = mean(r["token_f1"] for r in answerable)
    metrics["mean_answer_chars"] = mean(r["answer_chars"] for r in answered)
    metrics["citation_precision"] = mean(r["citation_precision"] for r in answerable)
    metrics["citation_support"] = mean(r["citation_support"] for r in answered)
    metrics.update(abstention_rates((r["answerable"], r["declined"]) for r in records))
    metrics.update(summarise_generation(records))
    for stage in ("retrieval", "answer", "total"):
        metrics[f"{stage}_p50_ms"] = _latency(records, stage, 50)
        metrics[f"{stage}_p95_ms"] = _latency(records, stage, 95)
    return metrics


def breakdowns(records: Iterable[dict[str, Any]]) -> dict[str, Any]:
    """Metrics by question language, and by question language x gold-article language.

    ``by_language_pair`` is nested, ``{question language: {article language: metrics}}``; the
    article language is "none" for unanswerable questions and "mixed" when gold articles differ.
    """
    records = list(records)
    by_language = {
        str(lang): summarise(group) for (lang,), group in sorted(group_by(records, ("language",)).items())
    }
    pairs: dict[str, dict[str, Any]] = {}
    for (lang, article_lang), group in sorted(group_by(records, ("language", "article_language")).items()):
        pairs.setdefault(str(lang), {})[str(article_lang)] = summarise(group)
    out: dict[str, Any] = {"by_language": by_language, "by_language_pair": pairs}
    turns = [r for r in records if r.get("conversation")]
    if turns:
        # First turns against follow-ups, and whole conversations done right (every turn).
        kinds = group_by(turns, ("turn",))
        out["by_turn"] = {
            "first": summarise(kinds.get((1,), [])),
            "follow_up": summarise([r for (t,), group in kinds.items() if t != 1 for r in group]),
        }
        by_conversation = group_by(turns, ("conversation",))
        out["conversations"] = {
            "count": len(by_conversation),
            "all_turns_right": round(
                sum(all(r["correct"] for r in group) for group in by_conversation.values())
                / len(by_conversation),
                3,
            ),
        }
    return out
