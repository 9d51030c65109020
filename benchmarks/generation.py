"""Time to first token and tokens/s: whole-collection mode, retrieval mode and raw llama-cpp-python,
on the same questions, the same loaded model and the same prompts, in one run.

The bundled corpus goes into a temp store. For each question (the conversational set's first
--questions questions without history), in turn:
- ours, collection: Assistant.ask in whole-collection mode with its prompt state warm;
- raw, collection: create_chat_completion on the identical messages, its KV cache holding the
  same documents (llama-cpp-python's own prefix match): what the mode costs on top of llama.cpp;
- ours, retrieval: Assistant.ask in retrieval mode (retrieval, focus, prompt, generation, checks);
- raw, retrieval: the identical retrieval messages with the KV cache cleared first.
Which side runs first alternates per question. Medians over --repeat passes.

    python benchmarks/generation.py [--presets qwen2.5-coder-1.5b] [--repeat 2] [--questions 12] [--update-docs]
"""
from __future__ import annotations

import argparse
import tempfile
import time
from pathlib import Path

from common import chat_questions, installed_presets, median, publish, table

from vjassistant import Assistant
from vjassistant.config import Settings
from vjassistant.embeddings import E5Embedder
from vjassistant.prompts import answer_messages, collection_messages


def raw_run(llm, messages, max_tokens: int, reset: bool) -> tuple[float, float]:
    """(time to first token, tokens/s after it) for raw llama-cpp-python, greedy like ours."""
    if reset:
        llm.reset()
    t0 = time.perf_counter()
    first, n = None, 0
    for chunk in llm.create_chat_completion(messages=messages, max_tokens=max_tokens, temperature=0.0,
                                            stream=True, seed=0):
        if chunk["choices"][0]["delta"].get("content"):
            n += 1
            if first is None:
                first = time.perf_counter() - t0
    total = time.perf_counter() - t0
    first = first if first is not None else total
    return first, (n - 1) / (total - first) if n > 1 and total > first else 0.0


def ours(a: Assistant, question: str) -> tuple[float, float] | None:
    return ours_of(a.ask(question))


def ours_of(answer) -> tuple[float, float] | None:
    if "first_token_s" not in answer.timings:
        return None  # declined before the model ran
    tokens, seconds = answer.usage.get("completion_tokens", 0), answer.timings.get("decode_s", 0.0)
    return answer.timings["first_token_s"], (tokens - 1) / seconds if tokens > 1 and seconds > 0 else 0.0


def bench_preset(name: str, store: Path, embedder, repeat: int, questions: list[str]) -> list[list[object]]:
    base = Settings.from_env(store_dir=store, model=name, temperature=0.0)
    collection = Assistant(base, embedder=embedder)  # auto: the corpus may not fit a small model's context
    if collection.store.count() == 0:
        collection.ingest_bundled_corpus()
    collection.progress = None
    prepared = collection.prepare()
    model = collection.chat_model
    retrieval = Assistant(base.replace(answer_mode="retrieval"), embedder=embedder, store=collection.store,
                          chat_model=model)
    llm = model._llm
    fits = collection.collection() is not None
    prefix = list(collection.collection().messages) if fits else []
    times: dict[str, list[tuple[float, float]]] = {k: [] for k in ("ours c", "raw c", "ours r", "raw r")}
    for rep in range(repeat):
        for i, q in enumerate(questions):
            raw_first = (i + rep) % 2 == 1
            c_messages = collection_messages(prefix, q, [], "")
            order = [("raw c", lambda: raw_run(llm, c_messages, base.max_tokens, reset=False)),
                     ("ours c", lambda: ours(collection, q))]
            for key, run in (order if raw_first else order[::-1]) if fits else ():
                collection.prepare()  # the documents' state back in the KV cache (retrieval ran in between)
                got = run()
                if got:
                    times[key].append(got)
            answer = retrieval.ask(q)
            got = ours_of(answer)
            if got:
                times["ours r"].append(got)
                r_messages = answer_messages(answer.standalone_question, answer.passages, answer.language)
                times["raw r"].append(raw_run(llm, r_messages, base.max_tokens, reset=True))
    label = {"ours c": "ours, whole collection", "raw c": "raw llama-cpp-python, same collection prompt",
             "ours r": "ours, retrieval", "raw r": "raw llama-cpp-python, same retrieval prompt"}
    rows = []
    for key, runs in times.items():
        rows.append([name, label[key], len(runs), median([t for t, _ in runs]),
                     median([r for _, r in runs if r]) if any(r for _, r in runs) else "–"])
    rows[0].append(f"state {prepared.how}, {prepared.tokens} tokens" if prepared else
                   "the corpus does not fit the model's context")
    for r in rows[1:]:
        r.append("")
    return rows


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--presets", default="qwen2.5-coder-1.5b", help="comma-separated installed presets")
    ap.add_argument("--repeat", type=int, default=2)
    ap.add_argument("--questions", type=int, default=12, help="the first N questions of the set without history")
    ap.add_argument("--update-docs", action="store_true", help="write the table into docs/performance.md")
    args = ap.parse_args()
    settings = Settings.from_env()
    names = installed_presets(args.presets, settings.models_dir)
    if not names:
        raise SystemExit("no preset installed: vjassistant models pull NAME")
    embedder = E5Embedder(num_threads=settings.n_threads or None)
    questions = chat_questions(args.questions)
    rows = []
    for name in names:
        with tempfile.TemporaryDirectory(prefix="vja-bench-gen-") as tmp:
            rows += bench_preset(name, Path(tmp) / "store", embedder, args.repeat, questions)
    out = table(["preset", "run", "answers", "TTFT p50 s", "tokens/s p50", "note"], rows)
    out += (f"\n\nBundled corpus, {len(questions)} questions of datasets/chat (no history) x {args.repeat}, greedy, "
            "2 cores; raw llama-cpp-python runs the identical messages on the same loaded model, alternating "
            "with ours. `python benchmarks/generation.py --update-docs`")
    publish("generation", out, args.update_docs)


if __name__ == "__main__":
    main()
