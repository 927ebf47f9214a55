"""The web app under concurrent chat sessions while another process ingests into its data dir.

Why: the web chat serves many sessions from one process (Gradio's queue, four answers at a time)
while `khabar ingest` may write the same index from another process. This drives the real app
(`khabar serve`, a child process on a free loopback port) through `gradio_client`, one `Client`
(one Gradio session) per thread, at each concurrency level, and reports per-request latency,
throughput and errors. At the start of each level a fresh `khabar ingest` child process adds its
own slice of BBC English articles to the same data dir, so every level runs against a live writer
(the JSON records whether the ingest was still running when the level's load ended).

Event-loop responsiveness: a separate thread GETs a cheap route of the app (`/config`) every
0.25 s during each level. Answers run in Gradio's worker threads; if anything ran on the event
loop itself, these probe latencies would spike to the length of an answer.

Bounded: a fixed number of questions per session, a time cap per level (sessions stop asking
once it is passed), timeouts on every child process and HTTP request; loopback only.

Run from the project root: ``python bench/load.py [--levels 1 4 16] [--questions-per-session 4]
[--time-cap 180]``. Prints the machine and a table, writes ``bench/results/load.json``.
"""

from __future__ import annotations

import argparse
import json
import os
import random
import shutil
import socket
import subprocess
import sys
import tempfile
import threading
import time
import urllib.request
from pathlib import Path
from typing import Any

from machine import machine  # bench/ is the script folder, on sys.path

ROOT = Path(__file__).resolve().parent.parent
DATA = ROOT.parent / "shared" / "data"
BBC_EN = DATA / "corpora" / "bbc-english.jsonl"
OUT = ROOT / "bench" / "results" / "load.json"
FIRST_ARTICLES = 20  # ingested before the app starts, with the shipped corpus/
LIVE_ARTICLES = 30  # ingested by other processes during the load, split across the levels
FIXED_QUESTION = "What did the US State Department warn?"  # answered by the shipped corpus
PROBE_PERIOD = 0.25
PROBE_ROUTE = "/config"
SLOW_PROBE = 0.25  # seconds: a probe slower than this is listed with the answers in flight
START_TIMEOUT = 300.0  # model load + page build on a loaded machine
INGEST_TIMEOUT = 900.0
REQUEST_TIMEOUT = 120.0


def percentile(values: list[float], q: float) -> float | None:
    if not values:
        return None
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, round(q * (len(ordered) - 1)))]


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


def child_env(data_dir: Path) -> dict[str, str]:
    env = {k: v for k, v in os.environ.items() if not k.startswith(("KHABAR_", "GRADIO_"))}
    return env | {"PYTHONPATH": str(ROOT), "KHABAR_DATA_DIR": str(data_dir), "COLUMNS": "200"}


def khabar(*args: str) -> list[str]:
    return [sys.executable, "-m", "khabar.cli", *args]


def write_jsonl(path: Path, rows: list[dict[str, Any]]) -> Path:
    with path.open("w", encoding="utf-8") as f:
        for row in rows:
            f.write(json.dumps(row, ensure_ascii=False) + "\n")
    return path


def get(url: str, timeout: float = 10.0) -> float:
    """Seconds for one GET (raises on an error status or a timeout)."""
    t0 = time.perf_counter()
    with urllib.request.urlopen(url, timeout=timeout) as response:
        response.read()
    return time.perf_counter() - t0


def wait_until_up(server: subprocess.Popen, url: str, log: Path) -> float:
    t0 = time.monotonic()
    while True:
        if server.poll() is not None:
            raise SystemExit(f"`khabar serve` exited ({server.returncode}):\n{log.read_text()[-2000:]}")
        try:
            get(url + PROBE_ROUTE, timeout=5)
            return time.monotonic() - t0
        except OSError:
            if time.monotonic() - t0 > START_TIMEOUT:
                raise SystemExit(f"`khabar serve` did not answer in {START_TIMEOUT:.0f} s") from None
            time.sleep(1)


class Probe(threading.Thread):
    """GETs the cheap route every PROBE_PERIOD until stopped; records latencies and failures."""

    def __init__(self, url: str):
        super().__init__(daemon=True)
        self.url = url + PROBE_ROUTE
        self.latencies: list[float] = []
        self.started: list[float] = []  # perf_counter at each probe's start, to place slow ones
        self.errors: list[str] = []
        self.halt = threading.Event()

    def run(self) -> None:
        while not self.halt.is_set():
            started = time.perf_counter()
            try:
                self.latencies.append(get(self.url))
                self.started.append(started)
            except Exception as err:
                self.errors.append(f"{type(err).__name__}: {err}"[:200])
            self.halt.wait(PROBE_PERIOD)


def last_reply(result: Any) -> str:
    """The assistant's last message from the chat endpoint's outputs (textbox, chatbot, ...)."""
    chat = result[1] if isinstance(result, (list, tuple)) and len(result) > 1 else None
    if not chat:
        return ""
    message = chat[-1]
    content = message.get("content") if isinstance(message, dict) else message
    if isinstance(content, list):  # Gradio 6 messages: a list of {"type": "text", "text": ...}
        content = " ".join(
            str(part.get("text", "")) if isinstance(part, dict) else str(part) for part in content
        )
    return str(content or "")


def session(
    url: str,
    api_name: str,
    questions: list[str],
    clock: dict[str, float],
    out: list[dict[str, Any]],
    lock: threading.Lock,
    ready: threading.Barrier | None = None,
) -> None:
    """One Gradio session (its own Client) asking its questions in turn until the deadline
    (``clock["deadline"]``, set once every session is connected and waiting on ``ready``)."""
    from gradio_client import Client

    try:
        client = Client(url, verbose=False)
    except Exception as err:
        with lock:
            out.append(
                {"question": None, "seconds": None, "error": f"connect: {type(err).__name__}: {err}"[:300]}
            )
        if ready is not None:
            ready.abort()
        return
    if ready is not None:
        ready.wait(timeout=120)
    try:
        for question in questions:
            if time.monotonic() > clock["deadline"]:
                break
            t0 = time.perf_counter()
            row: dict[str, Any] = {"question": question, "start": t0}
            try:
                # A fresh chat each question, no filters, the default answerer: what a visitor
                # typing into an empty chat sends (the session's turns stay on the server).
                job = client.submit(
                    message=question,
                    chat=[],
                    languages=[],
                    sources=[],
                    date_from="",
                    date_to="",
                    answerer=None,
                    api_name=api_name,
                )
                reply = last_reply(job.result(timeout=REQUEST_TIMEOUT))
                row["seconds"] = time.perf_counter() - t0
                row["reply_chars"] = len(reply)
                row["error"] = None if reply.strip() else "empty reply"
            except Exception as err:
                row["seconds"] = time.perf_counter() - t0
                row["error"] = f"{type(err).__name__}: {err}"[:300]
            with lock:
                out.append(row)
    finally:
        client.close()


def chat_endpoint(url: str) -> str:
    """The api_name of the chat (the textbox's submit: it takes the question as a string)."""
    from gradio_client import Client

    client = Client(url, verbose=False)
    try:
        info = client.view_api(print_info=False, return_format="dict")
    finally:
        client.close()
    named = info.get("named_endpoints", {})
    print(
        "endpoints:",
        {name: [p.get("parameter_name") for p in e.get("parameters", [])] for name, e in named.items()},
    )
    for name, endpoint in named.items():
        params = endpoint.get("parameters", [])
        if params and params[0].get("parameter_name") == "message":
            return name
    raise SystemExit(f"no chat endpoint taking a message among {list(named)}")


def latest_write(data_dir: Path) -> float:
    """The newest modification time of the index's files (lock files aside)."""
    return max(
        (f.stat().st_mtime for f in data_dir.rglob("*") if f.is_file() and not f.name.endswith(".lock")),
        default=0.0,
    )


def wait_for_first_write(
    ingest: subprocess.Popen, data_dir: Path, before: float, limit: float = 300.0
) -> float:
    """Seconds until the ingest process writes into the data dir (its model loaded, its first
    article stored), so the load meets a writer at work rather than one still starting up."""
    t0 = time.monotonic()
    while ingest.poll() is None and time.monotonic() - t0 < limit:
        if latest_write(data_dir) > before:
            break
        time.sleep(0.2)
    return time.monotonic() - t0


def run_level(
    n: int,
    url: str,
    api_name: str,
    pool: list[str],
    per_session: int,
    time_cap: float,
    ingest_file: Path,
    env: dict[str, str],
    workdir: Path,
) -> dict[str, Any]:
    data_dir = Path(env["KHABAR_DATA_DIR"])
    before = latest_write(data_dir)
    ingest_log = (workdir / f"ingest-{n}.log").open("w")
    t_ingest = time.perf_counter()
    ingest = subprocess.Popen(
        khabar("ingest", str(ingest_file)), env=env, cwd=workdir, stdout=ingest_log, stderr=subprocess.STDOUT
    )
    head_start = wait_for_first_write(ingest, data_dir, before)
    rows: list[dict[str, Any]] = []
    lock = threading.Lock()
    rng = random.Random(n)
    # Every session connects (its own Client, one Gradio session) before the clock starts.
    clock: dict[str, float] = {}
    ready = threading.Barrier(n + 1, action=lambda: clock.update(deadline=time.monotonic() + time_cap))
    threads = [
        threading.Thread(
            target=session,
            args=(url, api_name, rng.sample(pool, per_session), clock, rows, lock, ready),
            daemon=True,
        )
        for _ in range(n)
    ]
    for t in threads:
        t.start()
    probe = Probe(url)
    probe.start()
    ready.wait(timeout=120)
    t0 = time.perf_counter()
    for t in threads:
        t.join(timeout=time_cap + REQUEST_TIMEOUT + 30)
    wall = time.perf_counter() - t0
    ingest_running_at_end = ingest.poll() is None
    probe.halt.set()
    probe.join(timeout=15)
    try:
        ingest_rc = ingest.wait(timeout=INGEST_TIMEOUT)
    except subprocess.TimeoutExpired:
        ingest.kill()
        ingest_rc = None
    ingest_log.close()
    ingest_seconds = time.perf_counter() - t_ingest
    ok = [r["seconds"] for r in rows if r["error"] is None]
    # Slow probes, placed against the answers in flight when they started: a stall with no answer
    # running would point at something else (the ingest's writes seen by the app, the probe itself).
    slow = [
        {
            "at_s": round(start - t0, 2),
            "ms": round(latency * 1000, 1),
            "answers_in_flight": sum(
                1
                for r in rows
                if r.get("start") is not None and r["start"] <= start <= r["start"] + (r["seconds"] or 0)
            ),
        }
        for start, latency in zip(probe.started, probe.latencies, strict=True)
        if latency > SLOW_PROBE
    ]
    errors = [r for r in rows if r["error"] is not None]
    return {
        "sessions": n,
        "requests": len(rows),
        "planned": n * per_session,
        "errors": len(errors),
        "error_samples": [r["error"] for r in errors[:5]],
        "wall_s": round(wall, 2),
        "throughput_rps": round(len(ok) / wall, 3) if wall else None,
        "p50_s": _r(percentile(ok, 0.5)),
        "p95_s": _r(percentile(ok, 0.95)),
        "max_s": _r(max(ok) if ok else None),
        "probe": {
            "route": PROBE_ROUTE,
            "count": len(probe.latencies),
            "errors": len(probe.errors),
            "error_samples": probe.errors[:3],
            "p50_ms": _ms(percentile(probe.latencies, 0.5)),
            "p95_ms": _ms(percentile(probe.latencies, 0.95)),
            "max_ms": _ms(max(probe.latencies) if probe.latencies else None),
            f"slower_than_{int(SLOW_PROBE * 1000)}_ms": slow,
        },
        "ingest": {
            "articles": sum(1 for _ in ingest_file.open(encoding="utf-8")),
            "returncode": ingest_rc,
            "running_when_load_ended": ingest_running_at_end,
            "seconds": round(ingest_seconds, 1),
            "first_write_after_s": round(head_start, 1),
        },
        "load_average_after": [round(x, 2) for x in os.getloadavg()],
    }


def _r(x: float | None) -> float | None:
    return None if x is None else round(x, 3)


def _ms(x: float | None) -> float | None:
    return None if x is None else round(x * 1000, 1)


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument(
        "--levels", type=int, nargs="+", default=[1, 4, 16], help="Concurrent sessions per level."
    )
    parser.add_argument("--questions-per-session", type=int, default=4)
    parser.add_argument(
        "--time-cap", type=float, default=180.0, help="Seconds per level after which sessions stop."
    )
    parser.add_argument(
        "--first-articles", type=int, default=FIRST_ARTICLES, help="BBC English ingested first."
    )
    parser.add_argument(
        "--live-articles", type=int, default=LIVE_ARTICLES, help="BBC English ingested during the load."
    )
    args = parser.parse_args(argv)
    if not BBC_EN.exists():
        print(f"{BBC_EN} is absent: nothing to measure.")
        return 0

    articles = [json.loads(line) for line in BBC_EN.open(encoding="utf-8")]
    sample = random.Random(0).sample(articles, args.first_articles + args.live_articles)
    first, live = sample[: args.first_articles], sample[args.first_articles :]
    # Each level's ingest gets a share of the live articles in proportion to its sessions, so the
    # longer levels meet a writer for longer.
    bounds = [
        round(len(live) * sum(args.levels[: i + 1]) / sum(args.levels)) for i in range(len(args.levels))
    ]
    slices = [live[a:b] or live[-1:] for a, b in zip([0, *bounds[:-1]], bounds, strict=True)]
    pool = [FIXED_QUESTION] + [f"What is reported about this: {a['title']}?" for a in first]

    info = machine()
    print("machine:", json.dumps(info))
    workdir = Path(tempfile.mkdtemp(prefix="khabar-load-"))
    data_dir = workdir / "data"
    env = child_env(data_dir)
    server = None
    result: dict[str, Any] = {"machine": info}
    try:
        t0 = time.perf_counter()
        first_file = write_jsonl(workdir / "first.jsonl", first)
        run = subprocess.run(
            khabar("ingest", str(ROOT / "corpus"), str(first_file)),
            env=env,
            cwd=workdir,
            capture_output=True,
            text=True,
            timeout=INGEST_TIMEOUT,
        )
        if run.returncode != 0:
            raise SystemExit(f"first ingest failed:\n{run.stdout[-2000:]}\n{run.stderr[-2000:]}")
        first_ingest_s = time.perf_counter() - t0
        print(f"first ingest (corpus/ + {len(first)} BBC English articles): {first_ingest_s:.1f} s")

        port = free_port()
        url = f"http://127.0.0.1:{port}"
        log = workdir / "serve.log"
        with log.open("w") as serve_log:
            server = subprocess.Popen(
                khabar("serve", "--host", "127.0.0.1", "--port", str(port)),
                env=env,
                cwd=workdir,
                stdout=serve_log,
                stderr=subprocess.STDOUT,
            )
        start_s = wait_until_up(server, url, log)
        print(f"app up in {start_s:.1f} s")
        api_name = chat_endpoint(url)
        print("chat endpoint:", api_name)
        # One warm-up answer (the model's first call) so level 1 does not time the lazy loads.
        warm: list[dict[str, Any]] = []
        session(
            url,
            api_name,
            [FIXED_QUESTION],
            {"deadline": time.monotonic() + REQUEST_TIMEOUT},
            warm,
            threading.Lock(),
        )
        print("warm-up:", warm[0])
        idle = Probe(url)  # the same probe with no load and no ingest: the baseline
        idle.start()
        time.sleep(5)
        idle.halt.set()
        idle.join(timeout=15)
        probe_idle = {
            "count": len(idle.latencies),
            "p50_ms": _ms(percentile(idle.latencies, 0.5)),
            "max_ms": _ms(max(idle.latencies) if idle.latencies else None),
        }
        print("probe, idle:", probe_idle)

        levels = []
        for i, n in enumerate(args.levels):
            ingest_file = write_jsonl(workdir / f"live-{i}-{n}.jsonl", slices[i])
            level = run_level(
                n, url, api_name, pool, args.questions_per_session, args.time_cap, ingest_file, env, workdir
            )
            levels.append(level)
            print(json.dumps(level))
        result |= {
            "date": time.strftime("%Y-%m-%d"),
            "command": ["python", "bench/load.py", *(argv if argv is not None else sys.argv[1:])],
            "first_ingest": {
                "articles": f"corpus/ + {len(first)} BBC English",
                "seconds": round(first_ingest_s, 1),
            },
            "app_start_s": round(start_s, 1),
            "chat_api_name": api_name,
            "questions_per_session": args.questions_per_session,
            "time_cap_s": args.time_cap,
            "live_ingest": "a new `khabar ingest` process per level (its own slice of BBC English); "
            "the load starts once it has written into the data dir",
            "warm_up": {k: v for k, v in warm[0].items() if k != "start"},
            "probe_idle": probe_idle,
            "levels": levels,
        }
        result["machine"]["load_average_after"] = [round(x, 2) for x in os.getloadavg()]
    finally:
        if server is not None:
            server.terminate()
            try:
                server.wait(timeout=30)
            except subprocess.TimeoutExpired:
                server.kill()
        shutil.rmtree(workdir, ignore_errors=True)

    print()
    print(
        "| sessions | requests | errors | wall s | req/s | p50 s | p95 s | "
        "probe p50 / p95 / max ms | ingest running |"
    )
    print("|---:|---:|---:|---:|---:|---:|---:|---|---|")
    for lv in result["levels"]:
        p = lv["probe"]
        print(
            f"| {lv['sessions']} | {lv['requests']}/{lv['planned']} | {lv['errors']} | {lv['wall_s']} | "
            f"{lv['throughput_rps']} | {lv['p50_s']} | {lv['p95_s']} | "
            f"{p['p50_ms']} / {p['p95_ms']} / {p['max_ms']} | "
            f"{'yes' if lv['ingest']['running_when_load_ended'] else 'no'} |"
        )
    OUT.parent.mkdir(parents=True, exist_ok=True)
    OUT.write_text(json.dumps(result, indent=2, ensure_ascii=False) + "\n", encoding="utf-8")
    print(f"wrote {OUT.relative_to(ROOT)}")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
