"""Speculative decoding for whole-collection answers: tokens/s against plain decoding, same output?

Answers copy many words from the documents, so drafts proposed from the prompt itself (llama-cpp-
python's LlamaPromptLookupDecoding) or by the 0.5B preset (same tokenizer family) might be
accepted often. For each of the conversational set's first --questions questions (no history),
the same greedy answer is generated three ways on the same model file, each Llama holding the
bundled corpus prompt already (its KV cache built before timing, as the saved state would be):
plain decoding, prompt lookup (--lookup tokens per draft), and the 0.5B model as draft model
(--draft tokens per draft). The outputs are compared token for token with plain decoding.

llama-cpp-python keeps every position's logits when a draft model is set (logits_all: n_ctx x
vocabulary floats), so the speculative runs use a smaller context (--n-ctx) and much more memory;
their peak RSS is reported beside.

    python benchmarks/speculative.py [--questions 8] [--lookup 10] [--draft 4] [--update-docs]
"""
from __future__ import annotations

import argparse
import os
import resource
import time

import numpy as np
from common import chat_questions, median, publish, table

from vjassistant import Assistant
from vjassistant.collection import load_collection
from vjassistant.config import Settings
from vjassistant.models import PRESETS
from vjassistant.prompts import collection_messages


class DraftModel:
    """A smaller llama.cpp model proposing ``k`` greedy tokens after the tokens so far (kept in its
    own KV cache, so each call only reads what is new)."""

    def __init__(self, llm, k: int) -> None:
        self.llm, self.k = llm, k

    def __call__(self, input_ids, /, **kwargs):
        llm, ids = self.llm, [int(t) for t in input_ids]
        shared = llm.longest_token_prefix(llm._input_ids, ids)
        shared = min(shared, len(ids) - 1)  # always read one token anew: its logits are needed
        llm._ctx.kv_cache_seq_rm(-1, shared, -1)
        llm.n_tokens = shared
        llm.eval(ids[shared:])
        out = []
        for _ in range(self.k):
            logits = np.ctypeslib.as_array(llm._ctx.get_logits_ith(-1), shape=(llm.n_vocab(),))
            token = int(np.argmax(logits))
            out.append(token)
            llm.eval([token])
        return np.array(out, dtype=np.intc)


def generate(llm, messages, max_tokens: int) -> tuple[list[str], float, float]:
    """(pieces, seconds to the first piece, tokens/s after it), greedy."""
    t0 = time.perf_counter()
    pieces, first = [], None
    for chunk in llm.create_chat_completion(messages=messages, max_tokens=max_tokens, temperature=0.0, stream=True,
                                            seed=0, top_k=1):
        piece = chunk["choices"][0]["delta"].get("content")
        if piece:
            pieces.append(piece)
            if first is None:
                first = time.perf_counter()
    end = time.perf_counter()
    first = first or end
    return pieces, first - t0, (len(pieces) - 1) / (end - first) if len(pieces) > 1 and end > first else 0.0


def load(path, n_ctx: int, **kw):
    import llama_cpp

    threads = os.cpu_count() or 1
    if "draft_model" in kw:  # llama-cpp-python 0.3.36 keeps every logit with a draft model but sizes
        kw["logits_all"] = True  # its score buffer by logits_all alone: n_batch rows, overflowing at once
    return llama_cpp.Llama(model_path=str(path), n_ctx=n_ctx, n_threads=threads, n_threads_batch=threads,
                           n_batch=512, verbose=False, **kw)


def main() -> None:
    import llama_cpp

    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--model", default="qwen2.5-coder-1.5b")
    ap.add_argument("--draft-model", default="qwen2.5-coder-0.5b")
    ap.add_argument("--questions", type=int, default=8)
    ap.add_argument("--lookup", type=int, default=10, help="tokens per prompt-lookup draft")
    ap.add_argument("--draft", type=int, default=4, help="tokens per draft of the draft model")
    ap.add_argument("--n-ctx", type=int, default=4096)
    ap.add_argument("--update-docs", action="store_true")
    args = ap.parse_args()
    settings = Settings.from_env()
    import tempfile

    with tempfile.TemporaryDirectory(prefix="vja-bench-spec-") as tmp:
        a = Assistant(settings.replace(store_dir=tmp), model=args.model)
        a.ingest_bundled_corpus()
        prefix = list(load_collection(a.store).messages)
    path = settings.models_dir / PRESETS[args.model].filename
    questions = chat_questions(args.questions)
    runs: dict[str, dict] = {}
    ways = {"plain": {}, f"prompt lookup ({args.lookup})": {"lookup": True},
            f"{args.draft_model} draft ({args.draft})": {"draft": True}}
    for name, how in ways.items():
        kw = {}
        if how.get("lookup"):
            kw["draft_model"] = llama_cpp.llama_speculative.LlamaPromptLookupDecoding(num_pred_tokens=args.lookup)
        if how.get("draft"):
            small = load(settings.models_dir / PRESETS[args.draft_model].filename, args.n_ctx)
            kw["draft_model"] = DraftModel(small, args.draft)
        llm = load(path, args.n_ctx, **kw)
        generate(llm, collection_messages(prefix, "Warm-up.", [], ""), 4)  # the documents read (untimed)
        if how.get("draft"):
            kw["draft_model"](np.array(llm.input_ids[:llm.n_tokens], dtype=np.intc))  # and by the draft model
        out = [generate(llm, collection_messages(prefix, q, [], ""), settings.max_tokens) for q in questions]
        runs[name] = {"pieces": [o[0] for o in out], "rate": [o[2] for o in out],
                      "rss": resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024}
        del llm
    plain = runs["plain"]
    rows = []
    for name, r in runs.items():
        same = sum("".join(a) == "".join(b) for a, b in zip(r["pieces"], plain["pieces"]))
        speed = median(r["rate"])
        rows.append([name, len(questions), round(speed, 1), round(speed / median(plain["rate"]), 2),
                     f"{same}/{len(questions)}", round(r["rss"])])
    out = table(["decoding", "answers", "tokens/s p50", "vs plain", "same text as plain", "peak RSS MB so far"], rows)
    out += (f"\n\n{args.model}, greedy, bundled corpus prompt already read, the first {len(questions)} questions of "
            f"datasets/chat without history, n_ctx {args.n_ctx}, 2 cores. Peak RSS is the process's so far (the "
            "runs go in the order shown). `python benchmarks/speculative.py --update-docs`")
    publish("speculative", out, args.update_docs)


if __name__ == "__main__":
    main()
