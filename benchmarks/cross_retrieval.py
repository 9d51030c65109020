"""Cross-lingual retrieval: does a French or Vietnamese question reach English evidence?

Retrieval mode only (no answers). Variants of Retriever.search, on the same questions:
- today: dense + BM25 in the question's language + BM25 on names and numbers across languages;
- other-language slot: the last of the top_k places goes to the best passage in another
  language when none of the top_k is (other_language);
- translated query: the question translated into English by the chat model (its own short
  prompt, greedy) joins the fusion, its dense ranking and its BM25 ranking over English chunks.
Measured on the conversational set (the bundled corpus in one store: every answerable question,
and the cross-lingual ones alone, a gold file among the top_k) and on XQuAD (Vietnamese questions
over the English paragraphs, and over both languages in one store: hit@1 and hit@5), dev split.

    python benchmarks/cross_retrieval.py [--limit 150] [--update-docs]
"""
from __future__ import annotations

import argparse
import tempfile
from pathlib import Path

from common import publish, table

from vjassistant import Assistant
from vjassistant.config import Settings
from vjassistant.documents import bundled_corpus, load_document
from vjassistant.embeddings import E5Embedder
from vjassistant.evaluation.chat import is_cross, load_chat_set
from vjassistant.evaluation.datasets import load_eval_set
from vjassistant.evaluation.runner import EvalConfig, Evaluator, plan_runs
from vjassistant.language import detect_language
from vjassistant.prompts import query_translation_messages


def translate(model, question: str, language: str = "en") -> str:
    said = "".join(model.stream(query_translation_messages(question, language), max_tokens=60, temperature=0.0))
    line = said.strip().strip('"').splitlines()
    return line[0].strip() if line else question


VARIANTS = ("today", "other-language slot", "translated query", "both")


def search(a: Assistant, question: str, variant: str, translated: str, k: int):
    s = a.settings
    language = detect_language(question)
    extra = [(translated, "en")] if variant in ("translated query", "both") and language != "en" else []
    return a.retriever.search(question, k, s.per_document, language=language, translations=extra,
                              other_language=variant in ("other-language slot", "both"))


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--limit", type=int, default=150, help="XQuAD questions per run (dev split)")
    ap.add_argument("--model", default="qwen2.5-coder-1.5b")
    ap.add_argument("--sets", default="xquad-en,xquad-vi", help="the parallel SQuAD files (English first)")
    ap.add_argument("--chat-limit", type=int, default=0, help="conversational set questions (0: all answerable)")
    ap.add_argument("--update-docs", action="store_true")
    args = ap.parse_args()
    embedder = E5Embedder()
    settings = Settings.from_env(model=args.model, answer_mode="retrieval")
    rows = []
    with tempfile.TemporaryDirectory(prefix="vja-bench-xret-") as tmp:
        a = Assistant(settings.replace(store_dir=Path(tmp) / "store"), embedder=embedder)
        a.ingest(bundled_corpus())
        model = a.chat_model
        languages = {load_document(f).filename: load_document(f).language for f in bundled_corpus()}
        questions = [q for q in load_chat_set() if q.answerable][:args.chat_limit or None]
        translated = {q.id: translate(model, q.question) if q.language != "en" else q.question for q in questions}
        for split in ("dev", "test"):
            chosen = [q for q in questions if q.split == split]
            cross = [q for q in chosen if is_cross(q, languages)]
            if not chosen or not cross:
                continue
            for variant in VARIANTS:
                def hit(q) -> bool:
                    found = search(a, q.question, variant, translated[q.id], settings.top_k)
                    return any(p.filename in q.sources for p in found)
                share = lambda qs: f"{sum(map(hit, qs)) / len(qs):.3f} ({len(qs)})"  # noqa: E731
                rows.append([f"chat set, {split}", variant, share(chosen), share(cross), "", ""])
    xrows = []
    evalset = load_eval_set(args.sets.split(","))
    with Evaluator(settings, embedder=embedder, chat_model=model) as ev:
        for plan in plan_runs(evalset, EvalConfig(modes=["cross", "mixed"], split="dev", limit=args.limit)):
            plan.questions = [q for q in plan.questions if q.language == "vi"]
            if not plan.questions:
                continue
            assistant = ev.assistant_for(plan, retrieval_only=True)
            translated = {q.id: translate(model, q.question) for q in plan.questions}
            for variant in VARIANTS:
                ranks = []
                for q in plan.questions:
                    found = search(assistant, q.question, variant, translated[q.id], 10)
                    keys = [ev._key_of.get(p.source, p.source) for p in found]
                    ranks.append(next((i for i, key in enumerate(keys, 1) if key in q.gold), None))
                n = len(ranks)
                xrows.append([f"XQuAD {plan.name}", variant, "", "", f"{sum(1 for r in ranks if r == 1) / n:.3f} ({n})",
                              f"{sum(1 for r in ranks if r and r <= 5) / n:.3f} ({n})"])
    out = table(["questions", "retrieval", f"gold file in top {settings.top_k}", "cross-lingual only",
                 "hit@1", "hit@5"], rows + xrows)
    out += (f"\n\nTranslations by {args.model} (greedy, a prompt of its own) into English; the conversational set's "
            f"bundled corpus in one store; XQuAD dev split, {args.limit} questions per run, Vietnamese questions only. "
            "`python benchmarks/cross_retrieval.py --update-docs`")
    publish("cross-retrieval", out, args.update_docs)


if __name__ == "__main__":
    main()
