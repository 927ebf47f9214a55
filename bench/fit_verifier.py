"""Fit the checks of generated answers against their citations (:mod:`rag.verify`) on the
development questions: the cosine thresholds, and whether the name and number rules are on.

No language model is needed: answer sentences are made from the questions. For every question of
the development sets whose gold article is among the passages a generated answer would be given
(the first ``answer_passages`` of ``service.search``), one **positive** is written in the
question's language from a template and the gold answer, citing the best-ranked passage of the gold
article, and up to three **negatives** are made from it:

- *wrong citation*: the same sentence citing the best-ranked given passage of another article
  (one that does not contain the answer): a hard negative, retrieved for the same question;
- *corrupted number*: when the answer holds a number, the number changed (+1, written in the same
  digits), citing the gold passage;
- *corrupted name*: the answer replaced by the gold answer of another question of the same set and
  language, of the same kind (a number, a capitalised name, other) and absent from the gold
  passage, citing the gold passage.

Every pair goes through the verifier's own code: the claim as :func:`rag.claims.split_claims` cuts
it, its query embedding, the cited passage's stored sentences (``SentenceEvidence.by_passage``),
:func:`rag.verify.support` and the same-language / cross-lingual decision of
:meth:`ClaimVerifier.threshold`. The similarity, the missing numbers and the missing names are
recorded, so that every rule can be judged on the same pairs.

Each kind of pair (same language: Hindi questions over Hindi text, RealTimeQA over English text;
cross-lingual: English questions over Hindi text) gets the highest threshold (0.005 steps) that
keeps at least ``--min-kept`` of the positives: a dropped right sentence costs the reader one
sentence (or the generated answer, when too few are left), a kept wrong citation misleads them, so
the cost of the first is capped and the second minimised, as ``bench/abstention.py`` caps wrongly
declined answerable questions. Figures are cross-validated: 5 folds grouped by gold article (the
English and the Hindi question of one paragraph fall in the same fold), each fold judged by the
thresholds fitted on the others. The name and number rules are then chosen by the balanced
accuracy of the whole rule (positives kept, and the mean share rejected of the three negative
kinds), averaged over the two kinds of pair; a tie goes to the simpler rule.

Run from the project root after ``python bench/run_dev.py`` has built the eval indexes:
``python bench/fit_verifier.py [--sets xquad-hi-dev realtimeqa-dev=300] [--reuse-index SET=NAME …]``.
Prints a table and writes ``bench/results/verifier.json``; the defaults in ``khabar/settings.py``
are set by hand from it.
"""

from __future__ import annotations

import argparse
import datetime as dt
import json
import random
import subprocess
import sys
from pathlib import Path
from typing import Any

import numpy as np
import regex
from eval_index import (  # bench/ is the script folder, on sys.path
    DATA,
    add_index_options,
    distractors,
    parse_set,
)

ROOT = Path(__file__).resolve().parent.parent
RESULTS = ROOT / "bench" / "results" / "verifier.json"
PAIRS = ROOT / "bench" / "out" / "verifier_pairs.jsonl"  # every pair, for reading (gitignored)
FOLDS = 5
GRID = np.round(np.arange(0.600, 0.9501, 0.005), 3)
# The answer sentence: the question turned into a statement with its answer, and the answer alone
# (the shortest sentence a model writes). Thresholds are fitted on the first.
TEMPLATES = {"statement": "{question}: {answer}{end}", "bare answer": "{answer}{end}"}
NEGATIVES = ("wrong citation", "corrupted number", "corrupted name")
NAMES = ("off", "same-language", "always")
PAIR_KINDS = ("same-language", "cross-lingual")
_DIGITS = regex.compile(r"[0-9]+|[०-९]+")
_QUOTES = "“”\"'‘’«»"


def eval_index(settings: Any, name: str, n: int | None, reuse: dict[str, str]) -> str:
    """The existing eval index of a set (never built here: a build takes half an hour)."""
    from khabar.eval.data import load_articles
    from khabar.eval.khabar_pipeline import check_reusable, eval_index_name

    if name in reuse:
        index = reuse[name]
    else:
        articles = load_articles([DATA / "eval" / name / "articles.jsonl", distractors(name, n)])
        index = eval_index_name([f.sha256 for f in articles.files], settings)
    try:
        check_reusable(settings, index)
    except ValueError as err:
        raise SystemExit(f"{name}: {err} (build it with `python bench/run_dev.py`)") from err
    return index


def pick_answer(answers: list[str], language: str) -> str:
    """The first gold answer written in the question's script (English questions of xquad have
    the Hindi answer first)."""
    for a in answers:
        a = a.strip().strip(_QUOTES).strip()
        devanagari = bool(regex.search(r"\p{Devanagari}", a))
        if a and devanagari == (language == "hi"):
            return a
    return ""


def answer_kind(answer: str) -> str:
    if regex.search(r"[0-9०-९]", answer):
        return "number"
    if any(w[:1].isupper() for w in answer.split()):
        return "name"
    return "other"


def corrupt_number(answer: str) -> str:
    """The answer with its first number one higher, in the same digits ("1946" -> "1947")."""
    match = _DIGITS.search(answer)
    if not match:
        return ""
    digits = match.group()
    devanagari = not digits.isascii()
    value = int(digits.translate(str.maketrans("०१२३४५६७८९", "0123456789"))) + 1
    text = str(value)
    if devanagari:
        text = text.translate(str.maketrans("0123456789", "०१२३४५६७८९"))
    return answer[: match.start()] + text + answer[match.end() :]


def sentence(template: str, question: str, answer: str, language: str) -> str:
    q = question.strip().rstrip("?？ ").strip()
    return TEMPLATES[template].format(question=q, answer=answer, end="।" if language == "hi" else ".")


def collect(
    sets: list[tuple[str, int | None]], data_dir: Path, reuse: dict[str, str], limit: int | None = None
) -> dict[str, Any]:
    """Every labelled (claim, cited passage) pair, checked through the verifier's code."""
    from khabar import components
    from khabar.eval.data import load_questions
    from khabar.eval.metrics import answer_contains
    from khabar.settings import Settings
    from rag.claims import split_claims
    from rag.generated import answer_language
    from rag.verify import ClaimVerifier, VerifyRules, support

    settings = Settings(data_dir=data_dir, top_k=10)
    model = components.embedder(settings)
    # Thresholds that keep everything and differ, so that threshold() tells the kind of pair.
    rules = VerifyRules(-1.0, -2.0, names="always", numbers=True)
    pairs: list[dict[str, Any]] = []
    counts: dict[str, dict[str, int]] = {}
    indexes: dict[str, str] = {}
    for name, n in sets:
        index = eval_index(settings, name, n, reuse)
        indexes[name] = index
        service = components.service(settings, index)
        verifier = ClaimVerifier(service.evidence, model.embed_query, rules)
        asked_all = load_questions(DATA / "eval" / name / "questions.jsonl")
        questions = [q for q in asked_all if q.answerable][:limit]
        answers = {q.id: pick_answer(list(q.answers), q.language) for q in questions}
        count = counts[name] = {
            "questions": len(questions),
            "no answer in the question's script": 0,
            "gold article not among the given passages": 0,
            "used": 0,
        }
        rng = random.Random(0)
        for q in questions:
            answer = answers[q.id]
            if not answer:
                count["no answer in the question's script"] += 1
                continue
            found = service.search(q.question)
            given = found.passages[: settings.answer_passages]
            gold = next((p for p in given if p.article_id in q.gold_ids), None)
            if gold is None:
                count["gold article not among the given passages"] += 1
                continue
            count["used"] += 1
            language = answer_language(found.query, given)
            # The question proper: RealTimeQA's open with a sentence of context.
            asked = split_claims(q.question)[-1].text
            other = next(
                (
                    p
                    for p in given
                    if p.article_id not in q.gold_ids and not answer_contains(p.text, [answer])
                ),
                None,
            )
            kind = answer_kind(answer)
            same_kind = [
                answers[o.id]
                for o in questions
                if o.language == q.language
                and answers[o.id]
                and o.gold_ids[0] != q.gold_ids[0]
                and answer_kind(answers[o.id]) == kind
                and not answer_contains(gold.text, [answers[o.id]])
                and not answer_contains(answers[o.id], [answer])
            ]
            replacement = rng.choice(sorted(set(same_kind))) if same_kind else ""
            cases = [("positive", answer, gold)]
            if other is not None:
                cases.append(("wrong citation", answer, other))
            if kind == "number" and (changed := corrupt_number(answer)):
                cases.append(("corrupted number", changed, gold))
            if replacement:
                cases.append(("corrupted name", replacement, gold))
            for template in TEMPLATES:
                for label, text, cited in cases:
                    marker = given.index(cited) + 1
                    # A model cites every sentence it writes: an answer that the splitter cuts in
                    # two (a long answer, "Roe v. Wade") is supported when every piece is.
                    written = sentence(template, asked, text, q.language)
                    claims = split_claims(" ".join(f"{c.text} [{marker}]" for c in split_claims(written)))
                    passages = {marker: cited}
                    similarity, missing_numbers, missing_names = 1.0, [], []
                    for claim in claims:  # as ClaimVerifier.check does, one claim at a time
                        vector = np.asarray(verifier.embed(claim.text), dtype=np.float32)
                        sentences = verifier.evidence.by_passage(vector.tolist(), list(passages.values()))
                        found_support = support(claim.text, found.query.text, passages, sentences)
                        similarity = min(similarity, found_support.similarity)
                        missing_numbers += [x for x in found_support.numbers if x not in missing_numbers]
                        missing_names += [x for x in found_support.names if x not in missing_names]
                    cross = (
                        verifier.threshold(language, list(passages.values()))
                        == rules.min_similarity_cross_lingual
                    )
                    pairs.append(
                        {
                            "set": name,
                            "id": q.id,
                            "language": q.language,
                            "group": f"{name}:{q.gold_ids[0]}",
                            "template": template,
                            "label": label,
                            "cross": cross,
                            "similarity": round(float(similarity), 5),
                            "numbers": missing_numbers,
                            "names": missing_names,
                            "claim": written,
                            "sentences": len(claims),
                        }
                    )
    return {"pairs": pairs, "counts": counts, "indexes": indexes}


def fit_threshold(similarities: np.ndarray, min_kept: float) -> float:
    """The highest grid threshold that keeps at least ``min_kept`` of the positives."""
    ok = [t for t in GRID if similarities.size and (similarities >= t).mean() >= min_kept]
    return float(max(ok)) if ok else float(GRID[0])


def auc(pos: np.ndarray, neg: np.ndarray) -> float:
    if not pos.size or not neg.size:
        return float("nan")
    return float((pos[:, None] > neg[None, :]).mean() + 0.5 * (pos[:, None] == neg[None, :]).mean())


def cross_validated_thresholds(pairs: list[dict[str, Any]], min_kept: float) -> tuple[np.ndarray, list]:
    """Per pair, the threshold of its kind fitted on the other folds (statement template)."""
    from sklearn.model_selection import GroupKFold

    groups = np.asarray([p["group"] for p in pairs])
    unique = np.unique(groups)
    fold_of = {}
    for f, (_, test) in enumerate(GroupKFold(n_splits=FOLDS).split(unique, groups=unique)):
        for g in unique[test]:
            fold_of[g] = f
    fold = np.asarray([fold_of[g] for g in groups])
    sims = np.asarray([p["similarity"] for p in pairs])
    cross = np.asarray([p["cross"] for p in pairs])
    fit_rows = np.asarray([p["template"] == "statement" and p["label"] == "positive" for p in pairs])
    out = np.zeros(len(pairs))
    per_fold = []
    for f in range(FOLDS):
        fitted = {}
        for kind, is_cross in zip(PAIR_KINDS, (False, True), strict=True):
            train = fit_rows & (fold != f) & (cross == is_cross)
            fitted[kind] = fit_threshold(sims[train], min_kept)
            out[(fold == f) & (cross == is_cross)] = fitted[kind]
        per_fold.append(fitted)
    return out, per_fold


def rejected(pair: dict[str, Any], threshold: float, names: str, numbers: bool) -> bool:
    """Would the verifier with these rules call the claim unsupported?"""
    if pair["similarity"] < threshold:
        return True
    if numbers and pair["numbers"]:
        return True
    check_names = names == "always" or (names == "same-language" and not pair["cross"])
    return bool(check_names and pair["names"])


def rates(pairs: list[dict[str, Any]], thresholds: np.ndarray, names: str, numbers: bool) -> dict[str, Any]:
    """Share of positives kept and of each negative kind rejected, per kind of pair and for all."""
    out: dict[str, Any] = {}
    for kind in (*PAIR_KINDS, "all"):
        row: dict[str, Any] = {}
        for label in ("positive", *NEGATIVES):
            idx = [
                i
                for i, p in enumerate(pairs)
                if p["label"] == label and (kind == "all" or p["cross"] == (kind == "cross-lingual"))
            ]
            if not idx:
                row[label] = None
                continue
            r = np.asarray([rejected(pairs[i], thresholds[i], names, numbers) for i in idx])
            share = 1 - r.mean() if label == "positive" else r.mean()
            row[label] = {"share": round(float(share), 4), "n": len(idx)}
        negs = [row[label]["share"] for label in NEGATIVES if row[label]]
        row["balanced accuracy"] = round((row["positive"]["share"] + float(np.mean(negs))) / 2, 4)
        out[kind] = row
    return out


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument(
        "--sets",
        nargs="+",
        type=parse_set,
        default=[parse_set("xquad-hi-dev"), parse_set("realtimeqa-dev=300")],
    )
    parser.add_argument(
        "--min-kept", type=float, default=0.90, help="Share of positives a threshold must keep (0.90)."
    )
    parser.add_argument("--limit", type=int, default=None, help="The first N questions of a set (smoke run).")
    add_index_options(parser, per_set=True)
    args = parser.parse_args(argv)
    if not DATA.is_dir():
        print(f"{DATA} is absent: nothing to fit.", file=sys.stderr)
        return 0
    sys.path.insert(0, str(ROOT))
    reuse = dict(value.split("=", 1) for value in args.reuse_index)
    data = collect(args.sets, args.data_dir, reuse, args.limit)
    pairs = data["pairs"]
    statement = [p for p in pairs if p["template"] == "statement"]
    bare = [p for p in pairs if p["template"] == "bare answer"]

    # Thresholds fitted on all statement positives (the shipped values), and cross-validated.
    fitted = {}
    separation = {}
    for kind, is_cross in zip(PAIR_KINDS, (False, True), strict=True):
        for template, chosen in (("statement", statement), ("bare answer", bare)):
            sims = {
                label: np.asarray(
                    [p["similarity"] for p in chosen if p["label"] == label and p["cross"] == is_cross]
                )
                for label in ("positive", *NEGATIVES)
            }
            separation.setdefault(kind, {})[template] = {
                "positives": int(sims["positive"].size),
                "positive similarity p10/p50": [
                    round(float(np.quantile(sims["positive"], q)), 4) for q in (0.1, 0.5)
                ]
                if sims["positive"].size
                else None,
                **{
                    f"AUC positive vs {label}": round(auc(sims["positive"], sims[label]), 4)
                    for label in NEGATIVES
                },
            }
            if template == "statement":
                fitted[kind] = fit_threshold(sims["positive"], args.min_kept)
    cv_thresholds, per_fold = cross_validated_thresholds(statement, args.min_kept)
    bare_thresholds = np.asarray([fitted["cross-lingual" if p["cross"] else "same-language"] for p in bare])

    rules: dict[str, Any] = {}
    for names in NAMES:
        for numbers in (True, False):
            key = f"names {names}, numbers {'on' if numbers else 'off'}"
            rules[key] = {
                "names": names,
                "numbers": numbers,
                "statement, cross-validated": rates(statement, cv_thresholds, names, numbers),
                "bare answer, fitted thresholds": rates(bare, bare_thresholds, names, numbers),
            }

    def score(key: str) -> float:
        row = rules[key]["statement, cross-validated"]
        return float(np.mean([row[kind]["balanced accuracy"] for kind in PAIR_KINDS]))

    simplicity = {"off": 0, "same-language": 1, "always": 2}
    chosen = max(
        rules,
        key=lambda k: (round(score(k), 4), -simplicity[rules[k]["names"]], not rules[k]["numbers"]),
    )
    sims_only = rates(statement, cv_thresholds, "off", False)
    commit = subprocess.run(
        ["git", "rev-parse", "--short", "HEAD"], cwd=ROOT, capture_output=True, text=True
    ).stdout.strip()
    result = {
        "date": dt.date.today().isoformat(),
        "commit": commit,
        "command": " ".join(["python bench/fit_verifier.py", *(argv if argv is not None else sys.argv[1:])]),
        "sets": [f"{n}={k}" if k is not None else n for n, k in args.sets],
        "indexes": data["indexes"],
        "questions": data["counts"],
        "templates": {k: v.replace("{end}", ". (Hindi: ।)") for k, v in TEMPLATES.items()},
        "criterion": (
            f"per kind of pair, the highest threshold (0.005 steps) keeping >= {args.min_kept:.0%} of the "
            "statement positives; name/number rules by balanced accuracy (positives kept, mean share "
            "rejected of the negative kinds) averaged over the two kinds of pair, cross-validated"
        ),
        "folds": f"{FOLDS}-fold, grouped by gold article",
        "separation": separation,
        "thresholds": {"fitted on all": fitted, "per fold": per_fold},
        "similarity only, cross-validated": sims_only,
        "rules": rules,
        "chosen": {
            "verify_min_similarity": fitted["same-language"],
            "verify_min_similarity_cross_lingual": fitted["cross-lingual"],
            "verify_names": rules[chosen]["names"],
            "verify_numbers": rules[chosen]["numbers"],
            "statement, fitted thresholds (in-sample)": rates(
                statement,
                np.asarray([fitted["cross-lingual" if p["cross"] else "same-language"] for p in statement]),
                rules[chosen]["names"],
                rules[chosen]["numbers"],
            ),
        },
    }
    print(json.dumps(data["counts"], indent=1))
    print(f"thresholds (>= {args.min_kept:.0%} of positives kept): {fitted}")
    for kind in PAIR_KINDS:
        print(f"{kind}: {json.dumps(separation[kind])}")
    header = f"{'rule (statement, cross-validated)':34s} {'kind':14s} {'kept':>6s} " + " ".join(
        f"{label:>17s}" for label in NEGATIVES
    )
    print(header)
    for key, entry in rules.items():
        for kind in (*PAIR_KINDS, "all"):
            row = entry["statement, cross-validated"][kind]
            cells = " ".join(
                f"{row[label]['share']:>11.3f} n={row[label]['n']:<3d}" if row[label] else f"{'-':>17s}"
                for label in NEGATIVES
            )
            print(f"{key:34s} {kind:14s} {row['positive']['share']:6.3f} {cells}")
    print(f"chosen: {json.dumps({k: v for k, v in result['chosen'].items() if k.startswith('verify')})}")
    PAIRS.parent.mkdir(parents=True, exist_ok=True)
    PAIRS.write_text("".join(json.dumps(p, ensure_ascii=False) + "\n" for p in pairs), encoding="utf-8")
    if args.limit is not None:  # a smoke run's figures are not the recorded ones
        print(f"--limit given: {RESULTS.relative_to(ROOT)} left as it was")
        return 0
    RESULTS.write_text(json.dumps(result, indent=1, ensure_ascii=False) + "\n", encoding="utf-8")
    print(f"wrote {RESULTS.relative_to(ROOT)}")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
