"""How often does the name and number bridge (index/bridge.py) connect an English question to its
Hindi paragraph, and to the sentence holding the answer?

For every English xquad-hi-dev question:

* paragraph level, a precision proxy: the share of questions with at least one bridged pair to
  the gold paragraph, against the mean share to any other paragraph of the set (split into the
  other paragraphs of the same Wikipedia article, which share its names rightly, and those of
  other articles); the same for shared numbers; and how often the gold paragraph has strictly
  the most pairs of all 60.
* sentence level, with the gold paragraph given (split on । . ? !): how often a sentence holding a
  gold answer has more pairs than each other sentence of the paragraph, how often picking the
  sentence with most pairs (the first on ties) finds the answer, against the lead sentence and a
  random pick.

Also the cost: microseconds per sentence for :meth:`NameBridge.pairs` and :func:`numbers`, with
cold and warm word caches. No model and no index: a few seconds of one core.

Run from the project root: ``python bench/bridge_coverage.py [--min-consonants 2 3 4]``. Prints
the figures and writes ``bench/results/bridge_coverage.json``.
"""

from __future__ import annotations

import argparse
import json
import os
import platform
import re
import subprocess
import sys
import time
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parent.parent
DATA = ROOT.parent / "shared" / "data"
XQUAD = DATA / "eval" / "xquad-hi-dev"
OUT = ROOT / "bench" / "results" / "bridge_coverage.json"

# A sentence ends at a danda, full stop, question or exclamation mark followed by a space or the
# end ("3.5" and "U.S" stay whole).
_SENTENCE_END = re.compile(r"(?<=[।.?!])\s+")


def sentences(text: str) -> list[str]:
    return [s.strip() for s in _SENTENCE_END.split(text) if s.strip()]


def share(hits: int, total: int) -> float | None:
    return round(hits / total, 3) if total else None


def measure(
    questions: list[dict], articles: dict[str, str], titles: dict[str, str], min_consonants: int
) -> dict[str, Any]:
    from index.bridge import NameBridge, numbers
    from khabar.eval.metrics import answer_contains

    ids = list(articles)
    article_numbers = {aid: numbers(text) for aid, text in articles.items()}
    para: dict[str, float] = dict.fromkeys(
        (
            "any_gold",
            "any_other",
            "any_same_title",
            "any_other_title",
            "cross_gold",
            "cross_other",
            "latin_gold",
            "latin_other",
            "gold_most",
        ),
        0.0,
    )
    pairs_gold = pairs_other = 0.0
    with_numbers = number_gold = number_other = 0.0
    sent = dict.fromkeys(
        ("questions", "answer_most", "answer_tied_most", "pick", "pick_numbers", "lead", "random"), 0.0
    )
    examples: list[dict[str, Any]] = []
    for q in questions:
        gold = q["gold_ids"][0]
        bridge = NameBridge(q["question"], min_consonants=min_consonants)
        counts: dict[str, tuple[int, int]] = {}
        for aid in ids:
            found = bridge.pairs(articles[aid])
            cross = sum(not text.isascii() for _, text in found)
            counts[aid] = (cross, len(found) - cross)
        others = [aid for aid in ids if aid != gold]
        cross, latin = counts[gold]
        para["any_gold"] += cross + latin > 0
        para["cross_gold"] += cross > 0
        para["latin_gold"] += latin > 0
        para["any_other"] += sum(sum(counts[a]) > 0 for a in others) / len(others)
        # Paragraphs of the same Wikipedia article share its names rightly; those of other
        # articles are the cleaner proxy for false friends.
        same = [a for a in others if titles[a] == titles[gold]]
        apart = [a for a in others if titles[a] != titles[gold]]
        para["any_same_title"] += sum(sum(counts[a]) > 0 for a in same) / len(same)
        para["any_other_title"] += sum(sum(counts[a]) > 0 for a in apart) / len(apart)
        para["cross_other"] += sum(counts[a][0] > 0 for a in others) / len(others)
        para["latin_other"] += sum(counts[a][1] > 0 for a in others) / len(others)
        para["gold_most"] += all(sum(counts[gold]) > sum(counts[a]) for a in others)
        pairs_gold += cross + latin
        pairs_other += sum(sum(counts[a]) for a in others) / len(others)
        q_numbers = numbers(q["question"])
        if q_numbers:
            with_numbers += 1
            number_gold += bool(q_numbers & article_numbers[gold])
            number_other += sum(bool(q_numbers & article_numbers[a]) for a in others) / len(others)

        parts = sentences(articles[gold])
        holds = [answer_contains(s, q["answers"]) for s in parts]
        if len(parts) < 2 or not any(holds) or all(holds):
            continue
        per_sentence = [len(bridge.pairs(s)) for s in parts]
        best_other = max(n for n, h in zip(per_sentence, holds, strict=True) if not h)
        best_answer = max(n for n, h in zip(per_sentence, holds, strict=True) if h)
        sent["questions"] += 1
        sent["answer_most"] += best_answer > best_other
        sent["answer_tied_most"] += best_answer == best_other and best_answer > 0
        sent["pick"] += holds[per_sentence.index(max(per_sentence))]
        with_numbers_too = [n + len(q_numbers & numbers(s)) for n, s in zip(per_sentence, parts, strict=True)]
        sent["pick_numbers"] += holds[with_numbers_too.index(max(with_numbers_too))]
        sent["lead"] += holds[0]
        sent["random"] += sum(holds) / len(holds)
        if len(examples) < 8 and best_answer > best_other:
            answer_index = next(i for i, n in enumerate(per_sentence) if holds[i] and n == best_answer)
            examples.append({"question": q["question"], "pairs": bridge.pairs(parts[answer_index])[:6]})

    n = len(questions)
    return {
        "min_consonants": min_consonants,
        "paragraph": {
            "questions": n,
            "share_with_a_pair": {
                "gold": share(para["any_gold"], n),
                "other (mean)": share(para["any_other"], n),
                "other paragraph of the same article (mean)": share(para["any_same_title"], n),
                "paragraph of another article (mean)": share(para["any_other_title"], n),
            },
            "share_with_a_cross_script_pair": {
                "gold": share(para["cross_gold"], n),
                "other (mean)": share(para["cross_other"], n),
            },
            "share_with_a_latin_pair": {
                "gold": share(para["latin_gold"], n),
                "other (mean)": share(para["latin_other"], n),
            },
            "mean_pairs": {"gold": round(pairs_gold / n, 2), "other (mean)": round(pairs_other / n, 3)},
            "gold_has_strictly_most_pairs": share(para["gold_most"], n),
            "questions_with_numbers": int(with_numbers),
            "share_sharing_a_number": {
                "gold": share(number_gold, int(with_numbers)),
                "other (mean)": share(number_other, int(with_numbers)),
            },
        },
        "sentence": {
            "questions": int(sent["questions"]),
            "answer_sentence_has_strictly_most_pairs": share(sent["answer_most"], int(sent["questions"])),
            "answer_sentence_tied_for_most_pairs": share(sent["answer_tied_most"], int(sent["questions"])),
            "pick_most_pairs_first_on_ties_holds_answer": share(sent["pick"], int(sent["questions"])),
            "pick_most_pairs_plus_shared_numbers_holds_answer": share(
                sent["pick_numbers"], int(sent["questions"])
            ),
            "lead_sentence_holds_answer": share(sent["lead"], int(sent["questions"])),
            "random_sentence_holds_answer": share(sent["random"], int(sent["questions"])),
        },
        "examples": examples,
    }


def speed(questions: list[dict], articles: dict[str, str], repeats: int = 3) -> dict[str, Any]:
    """Microseconds of CPU per sentence (the best of ``repeats``, since the machine may be shared),
    each of the first 50 questions against every sentence of the set: with every cache empty,
    with the word caches warm but each sentence new to the question, and warm. A calibration
    figure (a fixed Python loop) lets figures from different machines be compared."""
    from index import bridge as bridge_mod
    from index.bridge import NameBridge, numbers

    caches = (bridge_mod.skeleton, bridge_mod._text_word, bridge_mod._text_words)
    all_sentences = [s for text in articles.values() for s in sentences(text)]
    bridges = [NameBridge(q["question"]) for q in questions[:50]]
    calls = len(bridges) * len(all_sentences)

    def best(run: Any, per: int) -> float:
        times = []
        for _ in range(repeats):
            t0 = time.process_time()
            run()
            times.append(time.process_time() - t0)
        return round(min(times) / per * 1e6, 1)

    def cold() -> None:
        for cache in caches:
            cache.cache_clear()
        for s in all_sentences:
            bridges[0].pairs(s)

    def new_sentences() -> None:
        for bridge in bridges:
            bridge_mod._text_words.cache_clear()
            for s in all_sentences:
                bridge.pairs(s)

    def warm() -> None:
        for bridge in bridges:
            for s in all_sentences:
                bridge.pairs(s)

    return {
        "sentences": len(all_sentences),
        "questions": len(bridges),
        "calibration_ms_sum_range_1e6": best(lambda: sum(range(10**6)), 1000),
        "pairs_us_per_sentence_cold": best(cold, len(all_sentences)),
        "pairs_us_per_sentence_new_sentence": best(new_sentences, calls),
        "pairs_us_per_sentence_warm": best(warm, calls),
        "bridge_build_us_per_question": best(
            lambda: [NameBridge(q["question"]) for q in questions], len(questions)
        ),
        "numbers_us_per_sentence_new_sentence": best(
            lambda: [numbers.__wrapped__(s) for s in all_sentences], len(all_sentences)
        ),
    }


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--min-consonants", type=int, nargs="+", default=[2, 3, 4])
    parser.add_argument("--out", type=Path, default=OUT)
    args = parser.parse_args(argv)
    if not XQUAD.is_dir():
        print(f"{XQUAD} is absent: nothing to measure.", file=sys.stderr)
        return 0
    sys.path.insert(0, str(ROOT))
    with (XQUAD / "articles.jsonl").open(encoding="utf-8") as f:
        rows = [json.loads(line) for line in f]
    articles = {a["id"]: a["text"] for a in rows}
    titles = {a["id"]: a["title"] for a in rows}
    with (XQUAD / "questions.jsonl").open(encoding="utf-8") as f:
        questions = [q for q in map(json.loads, f) if q["language"] == "en" and q.get("gold_ids")]

    runs = [measure(questions, articles, titles, m) for m in args.min_consonants]
    timing = speed(questions, articles)
    for run in runs:
        print(f"\nmin_consonants={run['min_consonants']}")
        for level in ("paragraph", "sentence"):
            for key, value in run[level].items():
                print(f"  {level:9} {key:50} {value}")
    print("\nspeed")
    for key, value in timing.items():
        print(f"  {key:50} {value}")

    commit = subprocess.run(
        ["git", "rev-parse", "--short", "HEAD"], cwd=ROOT, capture_output=True, text=True, check=False
    ).stdout.strip()
    summary = {
        "command": " ".join(
            ["python bench/bridge_coverage.py", *(argv if argv is not None else sys.argv[1:])]
        ),
        "commit": commit,
        "set": "xquad-hi-dev, English questions",
        "machine": platform.machine(),
        "load_average_1min": round(os.getloadavg()[0], 2),
        "python": platform.python_version(),
        "runs": runs,
        "speed": timing,
    }
    args.out.parent.mkdir(parents=True, exist_ok=True)
    args.out.write_text(json.dumps(summary, ensure_ascii=False, indent=2) + "\n", encoding="utf-8")
    print(f"\nwrote {args.out}")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
