"""Time to first token and tokens/s per model preset: Assistant.stream vs raw llama-cpp-python.

For each installed preset and each question: the Assistant answers (retrieval, prompt,
streaming, citation checks included), then raw llama-cpp-python runs the identical
messages on the same loaded model. The KV cache is cleared before every run so neither
side profits from the other's prompt; a last pass asks the questions in a row without clearing
the cache, as a user would. Medians over --repeat runs.

    python benchmarks/generation.py [--presets smollm2-135m,qwen2.5-coder-0.5b] [--repeat 3] [--update-readme]
"""
from __future__ import annotations

import argparse
import tempfile
import time
from pathlib import Path

from common import QUESTIONS, installed_presets, median, publish, table

from vjassistant import Answer, Assistant
from vjassistant.config import Settings
from vjassistant.embeddings import E5Embedder
from vjassistant.language import detect_language
from vjassistant.prompts import answer_messages


def raw_run(llm, messages, max_tokens: int) -> tuple[float, float, int]:
    """(time to first token, tokens/s after it, tokens) for raw llama-cpp-python."""
    llm.reset()
    t0 = time.perf_counter()
    first, n = None, 0
    for chunk in llm.create_chat_completion(messages=messages, max_tokens=max_tokens, temperature=0.1,
                                            stream=True, seed=0):
        if chunk["choices"][0]["delta"].get("content"):
            n += 1
            if first is None:
                first = time.perf_counter() - t0
    total = time.perf_counter() - t0
    first = first if first is not None else total
    return first, (n - 1) / (total - first) if n > 1 and total > first else 0.0, n


def bench_preset(name: str, store_dir: Path, embedder, repeat: int, questions: list[str]) -> list[object]:
    t0 = time.perf_counter()
    a = Assistant(Settings.from_env(store_dir=store_dir, model=name), embedder=embedder)
    llm = a.chat_model._llm  # the same loaded model for the baseline
    load_s = time.perf_counter() - t0
    ours_ttft, ours_tps, raw_ttft, raw_tps, abstained, ptoks = [], [], [], [], 0, []
    for q in questions:
        messages = None
        for i in range(repeat):
            # Which side runs first alternates (the first run is ours: it builds the prompt), so
            # whatever running second costs or saves (caches, clock speed) falls on both sides.
            raw_first = i % 2 == 1 and messages is not None
            if raw_first:
                raw = raw_run(llm, messages, a.settings.max_tokens)
            llm.reset()
            answer = [x for x in a.stream(q) if isinstance(x, Answer)][0]
            if "first_token_s" not in answer.timings:
                abstained += 1
                continue
            ours_ttft.append(answer.timings["first_token_s"])
            ours_tps.append(answer.timings["tokens_per_s"])
            messages = answer_messages(answer.standalone_question, answer.passages, detect_language(q))
            ptoks.append(sum(a.chat_model.count_tokens(m["content"]) for m in messages))
            f, tps, _ = raw if raw_first else raw_run(llm, messages, a.settings.max_tokens)
            raw_ttft.append(f)
            raw_tps.append(tps)
    # Natural use: no reset, so the fixed system prompt's KV cache from the last question is reused.
    warm_ttft = []
    for _ in range(repeat):
        for q in questions:
            answer = [x for x in a.stream(q) if isinstance(x, Answer)][0]
            if "first_token_s" in answer.timings:
                warm_ttft.append(answer.timings["first_token_s"])
    runs = len(questions) * repeat
    ratio = median(ours_ttft) / median(raw_ttft) if raw_ttft else float("nan")
    return [name, f"{len(ours_ttft)}/{runs}", round(load_s, 1), round(median(ptoks)) if ptoks else 0,
            median(ours_ttft), median(raw_ttft), ratio, median(warm_ttft), median(ours_tps), median(raw_tps), abstained]


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--presets", default="", help="comma-separated; default: every installed preset")
    ap.add_argument("--repeat", type=int, default=3)
    ap.add_argument("--questions", type=int, default=len(QUESTIONS), help="use the first N questions")
    ap.add_argument("--update-readme", action="store_true")
    args = ap.parse_args()
    settings = Settings.from_env()
    names = installed_presets(args.presets, settings.models_dir)
    embedder = E5Embedder()
    rows = []
    with tempfile.TemporaryDirectory() as tmp:
        Assistant(Settings.from_env(store_dir=Path(tmp)), embedder=embedder).ingest_bundled_corpus()
        for name in names:
            rows.append(bench_preset(name, Path(tmp), embedder, args.repeat, QUESTIONS[:args.questions]))
            print(rows[-1], flush=True)
    out = table(["preset", "answered runs", "load s", "prompt tokens", "TTFT s (ours)", "TTFT s (raw llama.cpp)",
                 "TTFT ratio", "TTFT s (ours, warm prefix)", "tok/s (ours)", "tok/s (raw)", "abstained runs"], rows)
    out += (f"\n\nMedians over {args.questions} bundled-corpus questions × {args.repeat} runs, KV cache cleared "
            "before each run, which side runs first alternating from one run to the next. TTFT (ours) includes "
            "retrieval (query embedding, Chroma, BM25); raw llama.cpp gets the identical messages on the same "
            "loaded model. 'Warm prefix' is normal use: questions asked one after another without clearing the "
            "cache, so the fixed prefix (system rules and worked exchanges) is not read again. Abstained runs stop "
            "before generation. Target: TTFT ratio <= 1.05.")
    publish("generation", out, args.update_readme)


if __name__ == "__main__":
    main()
