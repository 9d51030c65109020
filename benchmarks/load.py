"""Load on the running app: N concurrent chats over HTTP through gradio_client, loopback only.

The script starts `vjassistant serve` itself (a temp store holding the bundled corpus, the model
given, a free 127.0.0.1 port), waits for it, then sends --questions questions from --clients
threads at once through the app's named `ask` endpoint, each bounded by --timeout. Questions are
the conversational set's answerable dev questions in English, French and Vietnamese, in turn.
Each question opens a new session (100 questions: 100 one-question users) unless --reuse-sessions.

Before the measured questions, a warm-up pass asks each distinct question once (--warmup, the
same clients and sessions): the caches keyed by question and sentence fill during it
(docs/decisions.md#load), and are not what "memory flat" is about.

It reports per model: throughput, p50/p95 latency, errors (an exception or an error reply),
lost answers (no reply within the timeout), and the server's RSS after the warm-up, after the
first tenth of the questions, after half and after the last. The first and last are read with
the server idle (the median of three readings a second apart), so they compare like with like:
memory flat means those two close; the two in between are read while answers are in flight.

    python benchmarks/load.py [--presets smollm2-135m,qwen2.5-coder-1.5b] [--clients 8]
                              [--questions 100] [--warmup N] [--timeout 600] [--reuse-sessions]
                              [--update-docs]
"""
from __future__ import annotations

import argparse
import os
import socket
import subprocess
import sys
import tempfile
import threading
import time
from concurrent.futures import ThreadPoolExecutor, wait
from pathlib import Path

from common import chat_questions, installed_presets, median, publish, table

from vjassistant.config import Settings


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


def rss_mb(pid: int) -> float:
    """Resident memory of the process ``pid`` (the server is one process), in MB."""
    for line in Path(f"/proc/{pid}/status").read_text().splitlines():
        if line.startswith("VmRSS:"):
            return int(line.split()[1]) / 1024
    return float("nan")


def idle_rss_mb(pid: int) -> float:
    """RSS of an idle server: the median of three readings a second apart (an answer that just
    ended may still be freeing its buffers)."""
    readings = []
    for _ in range(3):
        time.sleep(1)
        readings.append(rss_mb(pid))
    return median(readings)


def start_app(preset: str, home: Path) -> tuple[subprocess.Popen, str]:
    cli = str(Path(sys.executable).with_name("vjassistant"))
    env = {**os.environ, "VJA_HOME": str(home), "VJA_MODELS_DIR": str(Settings.from_env().models_dir),
           "VJA_MODEL": preset, "VJA_QUEUE_SIZE": "128"}
    subprocess.run([cli, "ingest", "--bundled"], env=env, check=True, capture_output=True)
    port = free_port()
    log = open(home / "serve.log", "wb")  # noqa: SIM115  # the server writes here until it is stopped
    proc = subprocess.Popen([cli, "serve", "--host", "127.0.0.1", "--port", str(port)], env=env,
                            stdout=log, stderr=subprocess.STDOUT)
    url = f"http://127.0.0.1:{port}/"
    import httpx

    deadline = time.monotonic() + 900  # reading the documents into a 1.5B model takes minutes
    while time.monotonic() < deadline:
        if proc.poll() is not None:
            raise SystemExit(f"the app exited: {(home / 'serve.log').read_text()[-2000:]}")
        try:
            if httpx.get(url, timeout=2).status_code == 200:
                return proc, url
        except httpx.HTTPError:
            time.sleep(1)
    proc.kill()
    raise SystemExit("the app did not come up within 15 minutes")


_SESSION = threading.local()


def ask(url: str, question: str, reuse: bool = False) -> tuple[float, str]:
    """One question through the named endpoint: (seconds, "" or the error). A new session (gradio
    Client) for each, or with ``reuse`` one per client thread, as a person's chat keeps its own."""
    from gradio_client import Client

    t0 = time.perf_counter()
    try:
        if not reuse or getattr(_SESSION, "client", None) is None:
            _SESSION.client = Client(url, verbose=False)
        reply = _SESSION.client.predict(question, [], "auto", api_name="/ask")
    except Exception as exc:  # noqa: BLE001  # every failure counts as an error, whatever its type
        return time.perf_counter() - t0, f"{type(exc).__name__}: {exc}"[:200]
    ok = isinstance(reply, dict) and isinstance(reply.get("text"), str) and reply["text"].strip()
    return time.perf_counter() - t0, "" if ok else f"no answer text: {str(reply)[:200]}"


def run(preset: str, clients: int, questions: int, timeout: float, reuse: bool = False, warmup: int = -1
        ) -> list[object]:
    pool_questions = chat_questions(60)
    asked = [pool_questions[i % len(pool_questions)] for i in range(questions)]
    warm = pool_questions if warmup < 0 else [pool_questions[i % len(pool_questions)] for i in range(warmup)]
    with tempfile.TemporaryDirectory(prefix="vja-load-") as tmp:
        proc, url = start_app(preset, Path(tmp))
        try:
            ask(url, asked[0])  # the first question loads the model and the state: not part of the load
            tenth = max(1, questions // 10)
            results: list[tuple[float, str]] = []
            lost = 0
            rss_tenth = rss_half = float("nan")
            with ThreadPoolExecutor(clients) as pool:
                warm_errors = [e for _, e in pool.map(lambda q: ask(url, q, reuse), warm) if e]  # same sessions go on
                before = idle_rss_mb(proc.pid)
                t0 = time.perf_counter()
                futures = [pool.submit(ask, url, q, reuse) for q in asked]
                for i, future in enumerate(futures):
                    done, _ = wait([future], timeout=max(1.0, timeout - (time.perf_counter() - t0)))
                    if not done:
                        lost += 1
                        future.cancel()
                        continue
                    results.append(future.result())
                    if i + 1 == tenth:
                        rss_tenth = rss_mb(proc.pid)
                    if i + 1 == max(1, questions // 2):
                        rss_half = rss_mb(proc.pid)
            wall = time.perf_counter() - t0
            after = idle_rss_mb(proc.pid)
        finally:
            proc.terminate()
            proc.wait(timeout=60)
    seconds = sorted(s for s, _ in results)
    errors = [e for _, e in results if e]
    p95 = seconds[min(len(seconds) - 1, int(0.95 * len(seconds)))] if seconds else float("nan")
    for e in errors[:3]:
        print(f"  {preset} error: {e}", file=sys.stderr)
    if warm_errors:
        print(f"  {preset}: {len(warm_errors)} error(s) in the warm-up, first: {warm_errors[0]}", file=sys.stderr)
    return [preset, clients, len(warm), questions, f"{len(results) / wall:.2f}", median(seconds), p95, len(errors),
            lost, f"{before:.0f}", f"{rss_tenth:.0f}", f"{rss_half:.0f}", f"{after:.0f}"]


def main() -> None:
    p = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    p.add_argument("--presets", default="smollm2-135m,qwen2.5-coder-1.5b")
    p.add_argument("--clients", type=int, default=8)
    p.add_argument("--questions", type=int, default=100)
    p.add_argument("--warmup", type=int, default=-1,
                   help="questions asked before the measured ones (default: each distinct question once)")
    p.add_argument("--timeout", type=float, default=3600, help="seconds for the whole load, per model")
    p.add_argument("--reuse-sessions", action="store_true",
                   help="each client keeps one session for all its questions (default: a new one per question)")
    p.add_argument("--update-docs", action="store_true")
    args = p.parse_args()
    presets = installed_presets(args.presets, Settings.from_env().models_dir)
    if not presets:
        raise SystemExit("no preset of --presets is pulled: vjassistant models pull NAME")
    rows = [run(preset, args.clients, args.questions, args.timeout, args.reuse_sessions, args.warmup)
            for preset in presets]
    header = ["model", "clients", "warm-up questions", "questions", "answers/s", "p50 s", "p95 s", "errors", "lost",
              "RSS after warm-up MB", "RSS after 1/10 MB", "RSS after 1/2 MB", "RSS after MB"]
    sessions = ("each client keeps one session for all its questions, as a person's chat does" if args.reuse_sessions
                else "each question opens a new session")
    warm = "each distinct question once" if args.warmup < 0 else f"{args.warmup} questions"
    flag = f" --warmup {args.warmup}" if args.warmup >= 0 else ""
    flag += " --reuse-sessions" if args.reuse_sessions else ""
    note = (f"\n\n*{time.strftime('%Y-%m-%d')}, `python benchmarks/load.py --clients {args.clients} "
            f"--questions {args.questions}{flag}`: the app as `vjassistant serve` on 127.0.0.1 with the bundled "
            f"corpus; clients call its `ask` endpoint through gradio_client ({sessions}), first {warm} as a warm-up; "
            "the first and last RSS are read with the server idle; one model answers one "
            "question at a time "
            "(the rest wait in the queue), so latency grows with the clients while throughput is the model's.*")
    publish("load", table(header, rows) + note, args.update_docs)


if __name__ == "__main__":
    main()
