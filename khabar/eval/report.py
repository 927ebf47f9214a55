"""Write an evaluation (the ``report.json`` dict from :func:`khabar.eval.runner.run_eval`) to disk.

Three files, each for a reader: ``report.json`` (everything, for tools and ``--compare``),
``report.md`` (tables a reviewer reads in a diff or a pull request) and ``report.html``
(the same plus plots, self-contained: PNGs are embedded as base64, no external assets).
Every table is built once as rows of strings and rendered to both Markdown and HTML, so the
two never disagree. All text from questions and answers is escaped in both.
"""

from __future__ import annotations

import base64
import html
import json
from collections.abc import Iterable, Sequence
from pathlib import Path
from typing import Any

from khabar.eval.scoring import GENERATION_METRICS, METRICS

__all__ = [
    "MAX_LISTED",
    "Table",
    "format_value",
    "load_report",
    "md_escape",
    "render_html",
    "render_markdown",
    "write_reports",
]

MAX_LISTED = 50  # wrong answers listed per pipeline in md/html (all of them are in report.json)
# Metrics shown in the per-language tables (counts first, then quality, then speed).
# Run-level figures (one value per run, not per question group), shown apart.
RUN_METRICS = ["questions_per_second", "index_build_seconds", "index_chunks_per_second"]
TABLE_METRICS = [m for m in METRICS if m not in RUN_METRICS]


def format_value(name: str, value: Any) -> str:
    """A metric value as shown in tables: rates to 3 decimals, times to 1, counts whole."""
    if value is None:
        return "–"
    info = METRICS.get(name)
    kind = info.kind if info else ""
    if kind == "count":
        return str(int(value))
    if kind == "rate":
        return f"{value:.3f}"
    if isinstance(value, float):
        return f"{value:.1f}"
    return str(value)


def label(name: str) -> str:
    info = METRICS.get(name)
    return info.label if info else name


class Table:
    """Rows of plain strings, rendered to Markdown or HTML with escaping done here, once."""

    def __init__(self, headers: Sequence[str], rows: Iterable[Sequence[str]]):
        self.headers = list(headers)
        self.rows = [list(r) for r in rows]

    def markdown(self) -> str:
        def cell(text: str) -> str:
            return md_escape(" ".join(str(text).split())).replace("|", "\\|")

        lines = ["| " + " | ".join(cell(h) for h in self.headers) + " |"]
        lines.append("|" + "|".join("---" for _ in self.headers) + "|")
        lines.extend("| " + " | ".join(cell(c) for c in row) + " |" for row in self.rows)
        return "\n".join(lines)

    def html(self) -> str:
        head = "".join(f"<th>{html.escape(str(h))}</th>" for h in self.headers)
        body = "".join(
            "<tr>" + "".join(f"<td>{html.escape(str(c))}</td>" for c in row) + "</tr>" for row in self.rows
        )
        return f"<table><thead><tr>{head}</tr></thead><tbody>{body}</tbody></table>"


# --- content shared by Markdown and HTML ---------------------------------------------------------


def shown_metrics(columns: Iterable[dict[str, Any]], names: Sequence[str]) -> list[str]:
    """``names``, without the generated-answer rows when no column asked a language model."""
    if any(c.get("model_asked") for c in columns):
        return list(names)
    return [n for n in names if n not in GENERATION_METRICS]


def _metric_table(columns: dict[str, dict[str, Any]], names: Sequence[str]) -> Table:
    names = shown_metrics(columns.values(), names)
    return Table(
        ["metric", *columns],
        [[label(n), *(format_value(n, c.get(n)) for c in columns.values())] for n in names],
    )


def _pair_columns(pairs: dict[str, dict[str, Any]]) -> dict[str, dict[str, Any]]:
    return {f"q {q} → a {a}": metrics for q, by_article in pairs.items() for a, metrics in by_article.items()}


def _index_sentence(index: dict[str, Any]) -> str:
    name = index.get("index_name", "?")
    status = index.get("status")
    chunks = index.get("index_chunks")
    articles = index.get("index_articles")
    if status == "reused":
        first = index.get("first_build") or {}
        built = (
            f"first built in {first['seconds']:.1f} s ({first.get('chunks')} chunks, "
            f"{first.get('chunks_per_second') or 0:.1f} chunks/s, {first.get('finished', '')})"
            if first.get("seconds") is not None
            else "first build not recorded"
        )
        text = (
            f"Index {name} reused ({articles} articles, {chunks} chunks; {built}); "
            f"checking it took {index.get('seconds', 0):.1f} s."
        )
    else:
        rate = index.get("chunks_per_second")
        text = (
            f"Index {name} {status} in {index.get('seconds', 0):.1f} s: "
            f"{index.get('chunks_embedded')} chunks (and {index.get('sentences_embedded', '?')} of their "
            f"sentences) embedded ({rate or 0:.1f} chunks/s); "
            f"it holds {articles} articles, {chunks} chunks."
        )
    problems = index.get("problems") or []
    if problems:
        text += f" {len(problems)} problem(s) while building: " + "; ".join(problems[:5])
    return text


def _misses(records: list[dict[str, Any]]) -> tuple[Table, int]:
    wrong = [r for r in records if r.get("correct") is False]
    rows = []
    for r in wrong[:MAX_LISTED]:
        if r["answerable"]:
            expected = " / ".join(r["answers"])
        else:
            expected = "(decline)"
        answer = "(declined) " + r.get("decline_reason", "") if r["declined"] else r["answer"]
        rank = "–" if r.get("gold_rank") is None else str(r["gold_rank"])
        rows.append([r["id"], r["language"], rank, r["question"], expected, _clip(answer, 300)])
    table = Table(["id", "lang", "gold rank", "question", "expected", "answer"], rows)
    return table, len(wrong)


def _clip(text: str, limit: int) -> str:
    text = " ".join(text.split())
    return text if len(text) <= limit else text[: limit - 1] + "…"


def _sections(report: dict[str, Any]) -> list[tuple[str, str, Any]]:
    """The report as (kind, title-or-text, payload) blocks, rendered by both formats."""
    blocks: list[tuple[str, str, Any]] = []
    inputs = report["inputs"]
    q = inputs["questions"]
    articles = inputs["articles"]
    langs = ", ".join(f"{k}: {v}" for k, v in sorted(inputs["article_languages"].items()))
    qlangs = ", ".join(f"{k}: {v}" for k, v in sorted(inputs["question_languages"].items()))
    limited = f" (first {report['limit']} by --limit)" if report.get("limit") else ""
    blocks.append(("h1", f"Evaluation report: {report['name']}", None))
    blocks.append(
        (
            "list",
            "",
            [
                f"Created {report['created']}; command: {' '.join(report.get('command') or []) or '–'}",
                f"Questions: {q['path']} — {q['evaluated']} of {q['records']} evaluated{limited} ({qlangs})",
                f"Articles: {inputs['article_count']} from {len(articles)} file(s) ({langs}): "
                + ", ".join(Path(a["path"]).name for a in articles),
                f"Retrieval depth (top_k): {report['top_k']}; "
                f"rank cut-off for MRR/nDCG: {report['rank_cutoff']}",
            ],
        )
    )
    blocks.append(("h2", "Definitions", None))
    blocks.append(("list", "", [f"{k}: {v}" for k, v in report["definitions"].items()]))
    pipelines = report["pipelines"]
    if len(pipelines) > 1:
        blocks.append(("h2", "Pipelines side by side", None))
        columns = {name: p["metrics"]["overall"] for name, p in pipelines.items()}
        blocks.append(("table", "", _metric_table(columns, TABLE_METRICS + RUN_METRICS)))
    for name, result in pipelines.items():
        metrics = result["metrics"]
        overall = metrics["overall"]
        blocks.append(("h2", f"Pipeline: {name}", None))
        blocks.append(("p", _index_sentence(result["index"]), None))
        blocks.append(
            (
                "p",
                f"Asked {overall['questions']} questions in {result['ask_seconds']:.1f} s "
                f"({format_value('questions_per_second', overall.get('questions_per_second'))} questions/s).",
                None,
            )
        )
        blocks.append(("h3", "Metrics, overall and by question language", None))
        blocks.append(
            ("table", "", _metric_table({"overall": overall, **metrics["by_language"]}, TABLE_METRICS))
        )
        blocks.append(("plots", name, result))
        blocks.append(("h3", "By question language × gold-article language", None))
        blocks.append(("table", "", _metric_table(_pair_columns(metrics["by_language_pair"]), TABLE_METRICS)))
        if "by_turn" in metrics:
            conversations = metrics["conversations"]
            blocks.append(("h3", "Conversations: first turns and follow-ups", None))
            blocks.append(
                (
                    "p",
                    f"{conversations['count']} conversations; every turn handled right in "
                    f"{format_value('answer_accuracy', conversations['all_turns_right'])} of them. "
                    "A follow-up is asked with the earlier turns' questions as the chat's history.",
                    None,
                )
            )
            blocks.append(("table", "", _metric_table(metrics["by_turn"], TABLE_METRICS)))
        reasons = metrics.get("fallback_reasons") or {}
        if reasons:
            blocks.append(("h3", "Why the quoted answer was shown instead of the generated one", None))
            blocks.append(
                ("table", "", Table(["reason", "answers"], [[k, str(n)] for k, n in reasons.items()]))
            )
        table, n_wrong = _misses(result["questions"])
        shown = f" (first {MAX_LISTED}; all are in report.json)" if n_wrong > MAX_LISTED else ""
        blocks.append(("h3", f"Questions not handled right: {n_wrong}{shown}", None))
        blocks.append(
            (
                "p",
                "Answerable questions whose answer lacks every gold string, and unanswerable ones "
                "that were answered instead of declined.",
                None,
            )
        )
        if table.rows:
            blocks.append(("table", "", table))
    return blocks


# --- Markdown ------------------------------------------------------------------------------------


def md_escape(text: str) -> str:
    """Escape what Markdown would otherwise read as markup or raw HTML (question text is data)."""
    text = html.escape(text.replace("\\", "\\\\"), quote=False)
    return text.replace("*", "\\*").replace("_", "\\_").replace("`", "\\`")


def render_markdown(report: dict[str, Any]) -> str:
    out: list[str] = []
    for kind, text, payload in _sections(report):
        if kind in ("h1", "h2", "h3"):
            out.append("#" * int(kind[1]) + " " + md_escape(text))
        elif kind == "p":
            out.append(md_escape(text))
        elif kind == "list":
            out.append("\n".join(f"- {md_escape(item)}" for item in payload))
        elif kind == "table":
            out.append(payload.markdown())
        elif kind == "plots":
            out.append("_Plots are in report.html._")
    return "\n\n".join(out) + "\n"


# --- HTML ----------------------------------------------------------------------------------------

_STYLE = """
body { font-family: system-ui, "Noto Sans", "Noto Sans Devanagari", sans-serif; margin: 2rem; }
body { max-width: 80rem; }
table { border-collapse: collapse; margin: 0.5rem 0 1.5rem; font-size: 0.9rem; }
th, td { border: 1px solid #ccc; padding: 0.25rem 0.5rem; text-align: left; vertical-align: top; }
th { background: #f3f3f3; }
td:not(:first-child) { max-width: 30rem; }
img { max-width: 100%; display: block; margin: 0.5rem 0 1rem; }
code { background: #f3f3f3; padding: 0 0.2rem; }
"""


def _img(png: bytes, alt: str) -> str:
    data = base64.b64encode(png).decode("ascii")
    return f'<img alt="{html.escape(alt)}" src="data:image/png;base64,{data}">'


def _plots_html(result: dict[str, Any], top_k: int) -> str:
    from khabar.eval.plots import latency_histogram, metric_bars, rank_histogram

    records = result["questions"]
    ranks = [r["gold_rank"] for r in records if r["answerable"] and r["gold_ids"]]
    retrieval = [
        r["latency_ms"]["retrieval"] for r in records if r["latency_ms"].get("retrieval") is not None
    ]
    answering = [r["latency_ms"]["answer"] for r in records if r["latency_ms"].get("answer") is not None]
    parts = [_img(metric_bars(result["metrics"]["by_language"]), "metrics by question language")]
    if ranks:
        parts.append(_img(rank_histogram(ranks, top_k), "rank of the gold article"))
    parts.append(_img(latency_histogram(retrieval, answering), "latency distribution"))
    return "\n".join(parts)


def render_html(report: dict[str, Any]) -> str:
    body: list[str] = []
    for kind, text, payload in _sections(report):
        if kind in ("h1", "h2", "h3"):
            body.append(f"<{kind}>{html.escape(text)}</{kind}>")
        elif kind == "p":
            body.append(f"<p>{html.escape(text)}</p>")
        elif kind == "list":
            body.append("<ul>" + "".join(f"<li>{html.escape(item)}</li>" for item in payload) + "</ul>")
        elif kind == "table":
            body.append(payload.html())
        elif kind == "plots":
            body.append(_plots_html(payload, report["top_k"]))
    title = html.escape(f"Khabar evaluation: {report['name']}")
    return (
        '<!DOCTYPE html>\n<html lang="en"><head><meta charset="utf-8">'
        f"<title>{title}</title><style>{_STYLE}</style></head><body>\n"
        + "\n".join(body)
        + "\n</body></html>\n"
    )


# --- files ---------------------------------------------------------------------------------------


def write_reports(report: dict[str, Any], out_dir: Path) -> dict[str, Path]:
    """Write report.json, report.md and report.html into ``out_dir`` (created if needed)."""
    out_dir = Path(out_dir)
    out_dir.mkdir(parents=True, exist_ok=True)
    paths = {kind: out_dir / f"report.{kind}" for kind in ("json", "md", "html")}
    paths["json"].write_text(json.dumps(report, ensure_ascii=False, indent=1) + "\n", encoding="utf-8")
    paths["md"].write_text(render_markdown(report), encoding="utf-8")
    paths["html"].write_text(render_html(report), encoding="utf-8")
    return paths


def load_report(path: Path) -> dict[str, Any]:
    """A report.json from a report folder (or the file itself); ValueError when it is not one."""
    path = Path(path)
    file = path / "report.json" if path.is_dir() else path
    if not file.is_file():
        raise ValueError(f"{file} does not exist; give a folder written by `khabar eval --out`")
    try:
        report = json.loads(file.read_text(encoding="utf-8"))
    except json.JSONDecodeError as exc:
        raise ValueError(f"{file} is not valid JSON ({exc.msg}, line {exc.lineno})") from exc
    if not isinstance(report, dict) or not isinstance(report.get("pipelines"), dict):
        raise ValueError(f"{file} is not a khabar eval report (no 'pipelines')")
    return report
