"""How large a collection whole-collection mode suits, on this machine and model: the budget.

The bundled corpus, then the same corpus with English XQuAD articles added as further documents
(distractors the questions never ask about) to reach each --sizes token count. At each size:
the time to read the documents into the model and the state's size on disk, the time to first
token and tokens/s with the state warm, peak memory, and the share of correct answers to the
conversational set's first --questions dev questions without history (their answers are in the
bundled reports, so a drop is the model losing them in a longer prompt).

    python benchmarks/collection_budget.py [--sizes 3000,6000,9000,12000] [--questions 16] [--update-docs]
"""
from __future__ import annotations

import argparse
import json
import resource
import tempfile
import time
from pathlib import Path

from common import median, publish, table

from vjassistant import Assistant
from vjassistant.config import Settings
from vjassistant.documents import bundled_corpus, load_document
from vjassistant.embeddings import E5Embedder
from vjassistant.evaluation.chat import load_chat_set, score
from vjassistant.evaluation.datasets import BUNDLED


def distractors(folder: Path) -> list[Path]:
    """One text file per English XQuAD article (its paragraphs), in the set's order."""
    data = json.loads(BUNDLED["xquad-en"].read_text(encoding="utf-8"))["data"]
    out = []
    for i, article in enumerate(data):
        path = folder / f"xquad-{i:02d}.txt"
        title = article.get("title", f"Article {i}").replace("_", " ")
        path.write_text(title + "\n" + "\n\n".join(p["context"] for p in article["paragraphs"]), encoding="utf-8")
        out.append(path)
    return out


def run_size(target: int, model: str, extra: list[Path], questions, embedder, repeat_ttft: int) -> list[object]:
    with tempfile.TemporaryDirectory(prefix="vja-bench-budget-") as tmp:
        settings = Settings.from_env(store_dir=Path(tmp) / "store", model=model, temperature=0.0,
                                     answer_mode="collection", collection_budget=10**6, n_ctx=target + 2048)
        a = Assistant(settings, embedder=embedder)
        a.progress = None
        a.ingest(bundled_corpus())
        added = 0
        while a.collection().tokens(a.chat_model) < target - 400 and added < len(extra):
            a.ingest([extra[added]])
            added += 1
        tokens = a.collection().tokens(a.chat_model)
        t0 = time.perf_counter()
        status = a.prepare()
        build = time.perf_counter() - t0
        size_mb = Path(status.path).stat().st_size / 1e6 if status.path else 0.0
        languages = {load_document(f).filename: load_document(f).language for f in bundled_corpus()}
        results, ttft, rate = [], [], []
        for q in questions:
            answer = a.ask(q.question)
            results.append(score(q, answer, languages, answer.timings.get("total_s", 0.0)))
            if "first_token_s" in answer.timings:
                ttft.append(answer.timings["first_token_s"])
                n, s = answer.usage.get("completion_tokens", 0), answer.timings.get("decode_s", 0.0)
                if n > 1 and s > 0:
                    rate.append((n - 1) / s)
        correct = sum(r.correct for r in results)
        rss = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024
        return [tokens, len(a.documents()), round(build), round(size_mb), median(ttft), median(rate),
                f"{correct}/{len(results)}", round(rss)]


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--model", default="qwen2.5-coder-1.5b")
    ap.add_argument("--sizes", default="3000,6000,9000,12000")
    ap.add_argument("--questions", type=int, default=16)
    ap.add_argument("--update-docs", action="store_true")
    args = ap.parse_args()
    questions = [q for q in load_chat_set() if q.split == "dev" and not q.history][:args.questions]
    embedder = E5Embedder()
    rows = []
    with tempfile.TemporaryDirectory(prefix="vja-bench-xquad-") as tmp:
        extra = distractors(Path(tmp))
        for size in map(int, args.sizes.split(",")):
            rows.append(run_size(size, args.model, extra, questions, embedder, 1))
            print(rows[-1], flush=True)
    out = table(["prompt tokens", "documents", "read once s", "state MB", "TTFT p50 s", "tokens/s p50",
                 "correct", "peak RSS MB so far"], rows)
    out += (f"\n\n{args.model}, greedy, 2 cores; the bundled corpus plus English XQuAD articles as distractors; "
            f"correct over the first {len(questions)} dev questions of datasets/chat without history (answerable "
            "and not). Peak RSS is this process's so far (sizes run in the order shown). "
            "`python benchmarks/collection_budget.py --update-docs`")
    publish("collection-budget", out, args.update_docs)


if __name__ == "__main__":
    main()
