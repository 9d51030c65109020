"""Ingestion throughput: Assistant.ingest end to end vs the raw embedder on the same chunks.

Texts: the bundled corpus plus --paragraphs XQuAD paragraphs (en and vi alternating), each
written to its own .txt file in a temp dir. Our side is ``Assistant.ingest(files)`` into a fresh
temp store (load, clean, detect language, chunk, embed, upsert). The baseline is
``E5Embedder.embed_passages`` on the very texts ingest embeds (each chunk with its document's
title, ``assistant.embedding_text``), one call per document as ingest makes. Each run of each
side is a fresh Python process (one at a time, alternating); the clock starts once the embedder
is loaded (and, for ours, the store opened), and the child reports its own peak RSS
(``ru_maxrss`` of RUSAGE_SELF) as it finishes. Medians over --repeat runs.

    python benchmarks/ingestion.py [--paragraphs 120] [--repeat 3] [--update-readme]
"""
from __future__ import annotations

import argparse
import json
import resource
import subprocess
import sys
import tempfile
import time
from pathlib import Path

from common import ROOT, median, publish, table

XQUAD = [ROOT / "datasets" / "xquad" / f"xquad.{lang}.json" for lang in ("en", "vi")]


def peak_rss_mb() -> float:
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024  # Linux reports KiB


def child_ours(files: list[str], store_dir: str) -> dict[str, object]:
    from vjassistant import Assistant, Settings

    a = Assistant(Settings.from_env(store_dir=Path(store_dir)))
    a.store  # loads the embedder and opens Chroma before the clock starts
    t0 = time.perf_counter()
    report = a.ingest(files)
    return {"seconds": time.perf_counter() - t0, "chunks": report.chunks, "failed": report.failed}


def child_raw(docs: list[list[str]]) -> dict[str, object]:
    from vjassistant.embeddings import E5Embedder

    embedder = E5Embedder()
    t0 = time.perf_counter()
    for texts in docs:
        embedder.embed_passages(texts)
    return {"seconds": time.perf_counter() - t0, "chunks": sum(len(texts) for texts in docs)}


def run_child(*args: str) -> dict[str, float]:
    out = subprocess.run([sys.executable, __file__, "--child", *args], capture_output=True, text=True)
    if out.returncode != 0:
        raise SystemExit(f"benchmark child {args[0]} failed:\n{out.stderr[-3000:]}")
    return json.loads(out.stdout.strip().splitlines()[-1])


def write_paragraphs(n: int, folder: Path) -> list[Path]:
    """The first ``n`` XQuAD paragraphs, taken from en and vi in turn, one .txt file each."""
    langs = [[p["context"] for art in json.loads(path.read_text(encoding="utf-8"))["data"]
              for p in art["paragraphs"]] for path in XQUAD]
    files = []
    for i in range(n):
        path = folder / f"xquad_{'en' if i % 2 == 0 else 'vi'}_{i:03d}.txt"
        path.write_text(langs[i % 2][i], encoding="utf-8")
        files.append(path)
    return files


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--paragraphs", type=int, default=120, help="XQuAD paragraphs added to the bundled corpus")
    ap.add_argument("--repeat", type=int, default=3)
    ap.add_argument("--update-readme", action="store_true")
    ap.add_argument("--child", nargs=2, help=argparse.SUPPRESS)  # internal: one measured run
    args = ap.parse_args()
    if args.child:
        side, arg = args.child
        data = json.loads(Path(arg).read_text(encoding="utf-8"))
        result = child_ours(data["files"], data["store"]) if side == "ours" else child_raw(data)
        print(json.dumps(result | {"rss_mb": peak_rss_mb()}))
        return

    from vjassistant import Settings
    from vjassistant.assistant import embedding_text  # what ingest embeds: title + chunk
    from vjassistant.chunking import chunk_text
    from vjassistant.documents import bundled_corpus, load_document

    s = Settings.from_env()
    ours: list[dict[str, float]] = []
    raw: list[dict[str, float]] = []
    with tempfile.TemporaryDirectory() as tmp:
        root = Path(tmp)
        files = bundled_corpus() + write_paragraphs(args.paragraphs, root)
        docs = [load_document(f) for f in files]
        chunks = [[embedding_text(d.title, c.text) for c in chunk_text(d.id, d.text, s.chunk_tokens, s.chunk_overlap)]
                  for d in docs]
        (root / "raw.json").write_text(json.dumps(chunks), encoding="utf-8")
        for i in range(args.repeat):
            job = root / f"ours{i}.json"
            job.write_text(json.dumps({"files": [str(f) for f in files], "store": str(root / f"store{i}")}))
            ours.append(run_child("ours", str(job)))
            raw.append(run_child("raw", str(root / "raw.json")))
            print(f"run {i + 1}: ours {ours[-1]}, raw {raw[-1]}", flush=True)
    n = sum(len(c) for c in chunks)
    if any(r["chunks"] != n for r in ours + raw):
        raise SystemExit(f"chunk counts differ from the expected {n}: {ours} {raw}")
    ours_s, raw_s = median([r["seconds"] for r in ours]), median([r["seconds"] for r in raw])
    row = [len(files), n, n / ours_s, n / raw_s, raw_s / ours_s, ours_s, raw_s,
           round(median([r["rss_mb"] for r in ours])), round(median([r["rss_mb"] for r in raw]))]
    out = table(["documents", "chunks", "ingest() chunks/s", "embedder alone chunks/s", "ingest / embedder throughput",
                 "ingest() s", "embedder alone s", "ingest() peak RSS MB", "embedder alone peak RSS MB"], [row])
    out += (f"\n\nMedians over {args.repeat} runs per side. Texts: the {len(bundled_corpus())} bundled-corpus files "
            f"and {args.paragraphs} XQuAD paragraphs (en and vi in turn), one .txt file each. ingest() is "
            "Assistant.ingest(files) into a fresh temp Chroma store (load, clean, language, chunk, embed, upsert); "
            "the baseline is E5Embedder.embed_passages on the same texts ingest embeds (title + chunk), one call "
            "per document as ingest makes. Every run is a fresh Python process, one at a time; timing starts after "
            "the embedder is loaded (and the store opened). Peak RSS is the child's own ru_maxrss (RUSAGE_SELF) "
            "read as it finishes, so it includes the interpreter, imports and the embedder.")
    publish("ingestion", out, args.update_readme)


if __name__ == "__main__":
    main()
