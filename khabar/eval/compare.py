"""Compare two evaluation reports: metric deltas and the questions that flipped.

A change in a mean hides as much as it shows: +0.02 accuracy can be 10 questions fixed and 8
broken. So besides the deltas, the comparison lists the questions (matched by id) that went
right -> wrong and wrong -> right, by answer ("did the right thing": answered right, or
declined an unanswerable question) and by hit@5.

Runs are only comparable on the same questions and articles; differences in the question file,
the index, or top_k are reported as warnings rather than refused, since comparing e.g. two
top_k values is a legitimate experiment.
"""

from __future__ import annotations

from typing import Any

from khabar.eval.report import RUN_METRICS, Table, format_value, label
from khabar.eval.report import md_escape as _md_text
from khabar.eval.scoring import METRICS

__all__ = ["FLAGS", "compare_reports", "pair_pipelines", "render_compare_markdown"]

# (record field, what the list is called)
FLAGS = (("correct", "answer"), ("hit@5", "hit@5"))
DELTA_METRICS = [m for m in METRICS if METRICS[m].kind not in ("count",)]


def pair_pipelines(a: dict[str, Any], b: dict[str, Any]) -> list[tuple[str, str]]:
    """Pipelines to compare: those present in both by name, else the only one of each.

    The second rule lets "khabar" in one report be compared with "stock" in another.
    """
    common = [name for name in a["pipelines"] if name in b["pipelines"]]
    if common:
        return [(name, name) for name in common]
    if len(a["pipelines"]) == 1 and len(b["pipelines"]) == 1:
        return [(next(iter(a["pipelines"])), next(iter(b["pipelines"])))]
    raise ValueError(
        f"the reports share no pipeline: {', '.join(a['pipelines'])} vs {', '.join(b['pipelines'])}"
    )


def _delta(name: str, x: Any, y: Any) -> dict[str, Any]:
    info = METRICS.get(name)
    delta = None if x is None or y is None else y - x
    better = None
    if delta and info and info.higher_is_better is not None:
        better = (delta > 0) == info.higher_is_better
    return {"a": x, "b": y, "delta": delta, "better": better}


def _warnings(a: dict[str, Any], b: dict[str, Any], pa: dict[str, Any], pb: dict[str, Any]) -> list[str]:
    warnings = []
    qa, qb = a["inputs"]["questions"], b["inputs"]["questions"]
    if qa.get("sha256") != qb.get("sha256"):
        warnings.append("the question files differ")
    if a.get("limit") != b.get("limit"):
        warnings.append(f"--limit differs ({a.get('limit')} vs {b.get('limit')})")
    if sorted(f["sha256"] for f in a["inputs"]["articles"]) != sorted(
        f["sha256"] for f in b["inputs"]["articles"]
    ):
        warnings.append("the article files differ")
    if a.get("top_k") != b.get("top_k"):
        warnings.append(f"top_k differs ({a.get('top_k')} vs {b.get('top_k')})")
    ia, ib = pa["index"].get("index_name"), pb["index"].get("index_name")
    if ia != ib:
        warnings.append(f"the indexes differ ({ia} vs {ib}): articles or index settings changed")
    return warnings


def _flips(
    ra: dict[str, dict[str, Any]], rb: dict[str, dict[str, Any]], field: str
) -> dict[str, list[dict[str, Any]]]:
    out: dict[str, list[dict[str, Any]]] = {"right_to_wrong": [], "wrong_to_right": []}
    for qid, x in ra.items():
        y = rb.get(qid)
        if y is None or x.get(field) is None or y.get(field) is None or bool(x[field]) == bool(y[field]):
            continue
        entry = {
            "id": qid,
            "language": x["language"],
            "question": x["question"],
            "answers": x["answers"],
            "answer_a": x["answer"],
            "answer_b": y["answer"],
            "gold_rank_a": x.get("gold_rank"),
            "gold_rank_b": y.get("gold_rank"),
        }
        out["right_to_wrong" if x[field] else "wrong_to_right"].append(entry)
    return out


def compare_reports(a: dict[str, Any], b: dict[str, Any]) -> dict[str, Any]:
    """Deltas (b - a) of every metric, overall and per question language, and flipped questions."""
    comparisons = []
    for name_a, name_b in pair_pipelines(a, b):
        pa, pb = a["pipelines"][name_a], b["pipelines"][name_b]
        ma, mb = pa["metrics"], pb["metrics"]
        overall = {m: _delta(m, ma["overall"].get(m), mb["overall"].get(m)) for m in DELTA_METRICS}
        languages = sorted(set(ma["by_language"]) | set(mb["by_language"]))
        by_language = {
            lang: {
                m: _delta(m, ma["by_language"].get(lang, {}).get(m), mb["by_language"].get(lang, {}).get(m))
                for m in DELTA_METRICS
                if m not in RUN_METRICS
            }
            for lang in languages
        }
        ra = {r["id"]: r for r in pa["questions"]}
        rb = {r["id"]: r for r in pb["questions"]}
        comparisons.append(
            {
                "a": name_a,
                "b": name_b,
                "warnings": _warnings(a, b, pa, pb),
                "overall": overall,
                "by_language": by_language,
                "flips": {what: _flips(ra, rb, field) for field, what in FLAGS},
                "only_in_a": sorted(set(ra) - set(rb)),
                "only_in_b": sorted(set(rb) - set(ra)),
            }
        )
    return {
        "a": {"name": a.get("name"), "created": a.get("created")},
        "b": {"name": b.get("name"), "created": b.get("created")},
        "pipelines": comparisons,
    }


def format_delta(name: str, delta: float | None) -> str:
    if delta is None:
        return "–"
    info = METRICS.get(name)
    if info and info.kind == "rate":
        return f"{delta:+.3f}"
    return f"{delta:+.1f}"


def delta_table(deltas: dict[str, dict[str, Any]]) -> Table:
    rows = []
    for name, d in deltas.items():
        if d["a"] is None and d["b"] is None:
            continue
        mark = {True: "better", False: "worse", None: ""}[d["better"]]
        rows.append(
            [
                label(name),
                format_value(name, d["a"]),
                format_value(name, d["b"]),
                format_delta(name, d["delta"]),
                mark,
            ]
        )
    return Table(["metric", "A", "B", "B − A", ""], rows)


def flip_table(entries: list[dict[str, Any]]) -> Table:
    return Table(
        ["id", "lang", "question", "gold", "rank A→B", "answer A", "answer B"],
        [
            [
                e["id"],
                e["language"],
                e["question"],
                " / ".join(e["answers"]) or "(decline)",
                f"{e['gold_rank_a'] or '–'}→{e['gold_rank_b'] or '–'}",
                _clip(e["answer_a"]),
                _clip(e["answer_b"]),
            ]
            for e in entries
        ],
    )


def _clip(text: str, limit: int = 200) -> str:
    text = " ".join(text.split())
    return text if len(text) <= limit else text[: limit - 1] + "…"


def render_compare_markdown(comparison: dict[str, Any]) -> str:
    a, b = comparison["a"], comparison["b"]
    out = [
        f"# Comparison: A = {_md_text(str(a['name']))} ({a['created']}), "
        f"B = {_md_text(str(b['name']))} ({b['created']})"
    ]
    for c in comparison["pipelines"]:
        out.append(f"## {_md_text(c['a'])} (A) vs {_md_text(c['b'])} (B)")
        for w in c["warnings"]:
            out.append(f"- Warning: {_md_text(w)}")
        out.append("### Overall")
        out.append(delta_table(c["overall"]).markdown())
        for lang, deltas in c["by_language"].items():
            out.append(f"### Question language {_md_text(lang)}")
            out.append(delta_table(deltas).markdown())
        for what, flips in c["flips"].items():
            for direction in ("right_to_wrong", "wrong_to_right"):
                entries = flips[direction]
                out.append(f"### By {what}: {direction.replace('_', ' ')} ({len(entries)})")
                if entries:
                    out.append(flip_table(entries).markdown())
        if c["only_in_a"] or c["only_in_b"]:
            out.append(f"{len(c['only_in_a'])} question(s) only in A, {len(c['only_in_b'])} only in B.")
    return "\n\n".join(out) + "\n"
