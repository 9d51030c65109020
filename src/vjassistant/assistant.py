"""The core: ingest documents, retrieve evidence, and answer with checked citations.

``Assistant`` takes its collaborators (embedder, store, chat model) as arguments so tests
can pass real small ones or fakes; the defaults are built lazily from ``Settings``: the
LLM is only loaded by the first question, so ingesting or listing never pays for it.
"""
from __future__ import annotations

import re
import time
from collections.abc import Callable, Generator, Iterable, Sequence
from dataclasses import asdict, dataclass, field, replace
from pathlib import Path
from typing import Any

from .answer import COLLECTION, RETRIEVAL, Answer, Passage, Response, TraceEntry
from .chunking import chunk_text
from .collection import Collection, fits, load_collection
from .config import Settings
from .documents import Document, bundled_corpus, iter_files, load_document
from .embeddings import E5Embedder, Embedder, RecentPassages
from .errors import DocumentError, InputError
from .focus import focus_passages
from .grounding.check import CitationReport, check_statements
from .grounding.citations import StreamFilter
from .grounding.support import SupportChecker
from .language import LANGUAGE_NAMES, NO_DOCUMENTS, NOT_FOUND, detect_language, language_name, say
from .llm import ChatModel, Message, PrefixCaching, PrefixStatus
from .memory import release_freed_memory
from .prompts import (
    NOT_FOUND_SENTINEL,
    answer_messages,
    collection_messages,
    fixed_messages,
    restate_messages,
    rewrite_messages,
    select_passages,
)
from .retrieval import RelevanceRule, Retriever
from .steps import StepContext, check_steps, in_its_language, run_steps
from .store import ChunkStore

History = Sequence[tuple[str, str]]
Progress = Callable[[str, int, int], None]  # (what, done, total)


@dataclass
class IngestReport:
    added: list[str] = field(default_factory=list)
    updated: list[str] = field(default_factory=list)
    unchanged: list[str] = field(default_factory=list)
    failed: list[tuple[str, str]] = field(default_factory=list)
    duplicates: list[tuple[str, str]] = field(default_factory=list)  # (path, already stored as)
    moved: list[tuple[str, str]] = field(default_factory=list)  # (new path, old path): a renamed file
    chunks: int = 0

    def to_dict(self) -> dict[str, Any]:
        return asdict(self)


_BARS: dict[str, Any] = {}
_EMBED_BATCH = 64  # chunks embedded at a time: a long document's bar moves, its memory stays flat


def _bar(what: str, done: int, total: int) -> None:
    """The default progress report: a tqdm bar on stderr (silent when stderr is not a terminal)."""
    from tqdm import tqdm

    bar = _BARS.get(what)
    if bar is None:
        bar = _BARS[what] = tqdm(total=total, desc=what, unit="tok", disable=None, leave=False)
    bar.update(done - bar.n)
    if done >= total:
        bar.close()
        del _BARS[what]


def _releasing(answering: Generator[str, None, Answer]) -> Generator[str, None, Answer]:
    """``answering``, then the heap it freed handed back to the OS, however it ends (memory.py)."""
    try:
        return (yield from answering)
    finally:
        release_freed_memory()


def _pairs(history: History | None) -> list[tuple[str, str]]:
    """``history`` as (question, answer) pairs of strings; anything else is refused with the form it needs."""
    pairs = []
    for turn in history or []:
        if not (isinstance(turn, (list, tuple)) and len(turn) == 2 and all(isinstance(t, str) for t in turn)):
            raise InputError(f"A history turn must be a (question, answer) pair of strings, not {turn!r:.80}",
                             "pass history as [(question, answer), ...]")
        pairs.append((_plain(turn[0]), _plain(turn[1])))
    return pairs


_CONTROL = re.compile(r"[\x00-\x08\x0b\x0c\x0e-\x1f\x7f]")
_SURROGATE = re.compile("[\ud800-\udfff]")


def _plain(text: str) -> str:
    """``text`` without control characters (NUL, bells) and with any lone surrogate (from an API
    caller: no browser sends one) as U+FFFD: the model's tokenizer takes neither."""
    return _SURROGATE.sub("\ufffd", _CONTROL.sub("", text))


def embedding_text(title: str, chunk: str) -> str:
    """What gets embedded for a chunk: its document's title, then the chunk.

    A chunk from the middle of a report rarely names its subject; with the title the embedding
    does (docs/decisions.md#title-in-embedding). The stored text stays the chunk alone. A chunk
    that already holds the title (often the first: titles are taken from the first line, maybe
    cut short with "…") is embedded as it is: the repeat only blurred it."""
    core = title.rstrip("…").strip()
    return chunk if not core or core in chunk else f"{title}\n{chunk}"


class Assistant:
    """Grounded, cited question answering over a Chroma store of your documents."""

    def __init__(self, settings: Settings | None = None, *, store_dir: str | Path | None = None,
                 model: str | None = None, embedder: Embedder | None = None,
                 store: ChunkStore | None = None, chat_model: ChatModel | None = None,
                 **overrides: Any) -> None:
        base = settings or Settings.from_env()
        changes = {k: v for k, v in {"store_dir": store_dir, "model": model, **overrides}.items() if v is not None}
        if store_dir is not None:
            changes["chroma_url"] = ""  # an explicit folder means the embedded store
        self.settings = base.replace(**changes) if changes else base
        self._embedder = embedder
        self._store = store
        self._chat_model = chat_model
        self._retriever: Retriever | None = None
        self._checker: SupportChecker | None = None
        self._sentences: RecentPassages | None = None
        self._collection: Collection | None = None
        self.progress: Progress | None = _bar  # told how a long rebuild goes; None: silent

    # --- collaborators, built on first use ------------------------------------------
    @property
    def embedder(self) -> Embedder:
        if self._embedder is None:
            self._embedder = E5Embedder(num_threads=self.settings.n_threads or None)
        return self._embedder

    @property
    def store(self) -> ChunkStore:
        if self._store is None:
            s = self.settings
            self._store = self.open_store(s.chroma_url or s.store_dir, s.collection)
        return self._store

    def open_store(self, where: str | Path | None, collection: str) -> ChunkStore:
        """A store (a folder, or a Chroma server's http(s) URL) checked against this assistant's
        embedder and chunking, as its own store is."""
        s, remote = self.settings, str(where).startswith(("http://", "https://"))
        return ChunkStore(path=None if remote or where is None else Path(where).expanduser(),
                          url=str(where) if remote else "", collection=collection,
                          embedder_name=self.embedder.name, dim=self.embedder.dim,
                          chunking=f"{s.chunk_tokens}/{s.chunk_overlap}")

    @property
    def retriever(self) -> Retriever:
        if self._retriever is None:
            self._retriever = Retriever(self.store, self.embedder, candidates=self.settings.candidates,
                                        rrf_k=self.settings.rrf_k,
                                        lexical_cross_weight=self.settings.lexical_cross_weight)
        return self._retriever

    @property
    def sentence_embedder(self) -> RecentPassages:
        """The embedder for focus and the citation check: both embed the same passage sentences."""
        if self._sentences is None:
            self._sentences = RecentPassages(self.embedder)
        return self._sentences

    @property
    def checker(self) -> SupportChecker:
        """The citation checker, with this assistant's embedder for meaning across languages."""
        if self._checker is None:
            self._checker = SupportChecker(self.sentence_embedder)
        return self._checker

    @property
    def state_dir(self) -> Path:
        """Where the whole-collection prompt state is saved: beside the store it was built from."""
        s = self.settings
        if s.state_dir is not None:
            return Path(s.state_dir)
        if s.chroma_url:
            import re

            return s.home / "collection-state" / re.sub(r"[^A-Za-z0-9._-]+", "_", f"{s.chroma_url}_{s.collection}")
        assert s.store_dir is not None
        return s.store_dir / "collection-state"

    @property
    def relevance(self) -> RelevanceRule:
        s = self.settings
        return RelevanceRule(s.min_similarity, s.min_margin, s.min_similarity_cross)

    @property
    def chat_model(self) -> ChatModel:
        if self._chat_model is None:
            from .llm import LlamaCppModel, OpenAICompatibleModel
            from .models import PRESETS, resolve_model

            s = self.settings
            if s.llm_url:
                self._chat_model = OpenAICompatibleModel(s.llm_url, model=s.model if s.model not in PRESETS else "",
                                                         api_key=s.llm_api_key, n_ctx=s.n_ctx, timeout=s.llm_timeout)
            else:
                from .models import model_identity

                path = resolve_model(s.model, s.models_dir)
                preset = PRESETS.get(s.model)
                n_ctx = min(s.n_ctx, preset.context_length) if preset else s.n_ctx
                self._chat_model = LlamaCppModel(path, n_ctx=n_ctx, n_threads=s.n_threads,
                                                 name=s.model if preset else path.name,
                                                 identity=model_identity(path, self.state_dir))
        return self._chat_model

    # --- documents ---------------------------------------------------------------------
    def ingest(self, paths: str | Path | Iterable[str | Path], *, progress: bool = False) -> IngestReport:
        """Add or update documents (a file, a folder, or several of either); unchanged files are
        skipped, bad ones reported and skipped."""
        from tqdm import tqdm

        files, problems = iter_files(paths)
        report = IngestReport(failed=[(str(p), why) for p, why in problems])
        limit = int(self.settings.max_document_mb * 1_000_000)
        for path in tqdm(files, desc="Ingesting", unit="file", disable=not progress):
            try:
                doc = load_document(path, limit)
            except DocumentError as exc:
                report.failed.append((str(path), exc.message))
                continue
            doc, known = self._identified(doc)
            if known == doc.content_hash:
                report.unchanged.append(doc.source)
            elif not self._known_text(doc, known, report):
                report.chunks += self._index(doc, progress)
                (report.updated if known else report.added).append(doc.source)
        return report

    def _identified(self, doc: Document) -> tuple[Document, str | None]:
        """``doc`` with the id of the stored document that lives at its path, and the content hash
        stored for it (None: not stored, or an update that never finished: the record holding the
        hash is written after the chunks). A renamed file keeps the id of its old path; a new file
        at that old path then gets an id of its own."""
        record = self.store.find_document(source=doc.source)
        if record is not None:
            return replace(doc, id=record["doc_id"]), record.get("content_hash") or None
        if self.store.find_document(doc_id=doc.id) is not None:  # this path's id went with a moved file
            import hashlib

            doc = replace(doc, id=hashlib.sha256(f"{doc.source}\n{doc.content_hash}".encode()).hexdigest()[:16])
        return doc, None

    def _known_text(self, doc: Document, known: str | None, report: IngestReport) -> bool:
        """Whether ``doc``'s text is stored already under another document: then its path is added
        to that one (which moves there when its own file is gone: a rename) instead of storing the
        text twice, where every answer would get the same passage twice."""
        twin = self.store.find_document(content_hash=doc.content_hash)
        if twin is None or twin["doc_id"] == doc.id:
            return False
        if known is not None:  # this file held other text before: that version goes
            self.store.delete_document(doc.id)
        moved = not Path(twin["source"]).exists()
        self.store.add_path(twin["doc_id"], doc.source, moved=moved)
        (report.moved if moved else report.duplicates).append((doc.source, twin["source"]))
        return True

    def _index(self, doc: Document, progress: bool = False) -> int:
        """Chunk, embed and store ``doc``; a long one shows its own bar (minutes per MB on 2 cores)."""
        import numpy as np
        from tqdm import tqdm

        s = self.settings
        chunks = chunk_text(doc.id, doc.text, s.chunk_tokens, s.chunk_overlap)
        texts = [embedding_text(doc.title, c.text) for c in chunks]
        batches = range(0, len(texts), _EMBED_BATCH)
        bar = tqdm(batches, desc=f"Embedding {doc.filename}", unit="batch", leave=False,
                   disable=not progress or len(batches) < 4)
        parts = [self.embedder.embed_passages(texts[i:i + _EMBED_BATCH]) for i in bar]
        vectors = np.concatenate(parts) if parts else self.embedder.embed_passages([])
        self.store.upsert_document(doc, chunks, vectors)
        return len(chunks)

    def ingest_bundled_corpus(self, *, progress: bool = False) -> IngestReport:
        return self.ingest(bundled_corpus(), progress=progress)

    def remove(self, target: str | Path) -> int:
        """Delete a document by id, file path (any path it was seen at) or file name; returns the
        chunks removed."""
        docs = self.store.documents()
        wanted = str(target)
        resolved = str(Path(wanted).expanduser().resolve())
        matches = [d for d in docs if wanted == d["doc_id"] or resolved in d["paths"]]
        if not matches:  # a bare file name is fine when it names one document only
            matches = [d for d in docs if wanted == d["filename"]]
            if len(matches) > 1:
                ids = ", ".join(f"{d['doc_id']} ({d['source']})" for d in matches)
                raise InputError(f"{len(matches)} documents are named {wanted!r}: {ids}",
                                 "pass the document id or the full path")
        if not matches:
            raise InputError(f"No stored document matches {wanted!r}",
                             "run `vjassistant list` to see document ids and files")
        return sum(self.store.delete_document(d["doc_id"]) for d in matches)

    def documents(self) -> list[dict[str, Any]]:
        return self.store.documents()

    def info(self) -> dict[str, Any]:
        s = self.settings
        return {"store": s.chroma_url or str(s.store_dir), "collection": s.collection,
                "documents": len(self.store.documents()), "chunks": self.store.count(),
                "embedder": self.embedder.name, "model": s.llm_url or s.model, "models_dir": str(s.models_dir)}

    # --- answering ---------------------------------------------------------------------
    def retrieve(self, question: str, k: int | None = None) -> list[Passage]:
        question = self._check_question(question)
        s = self.settings
        return self.retriever.search(question, k or s.top_k, s.per_document, language=detect_language(question),
                                     other_language=s.other_language_slot)

    def ask(self, question: str, history: History | None = None, *, language: str | None = None) -> Answer:
        """The checked answer to ``question`` (``history``: earlier (question, answer) turns; ``language``:
        the answer's language as an ISO code, by default the question's)."""
        return self.stream(question, history, language=language).answer

    def stream(self, question: str, history: History | None = None, *, language: str | None = None) -> Response:
        """Start answering: iterate the Response for text as it is written; ``.answer`` is the final Answer."""
        if language is not None and language not in LANGUAGE_NAMES:
            raise InputError(f"Unknown answer language {language!r}",
                             f"pass one of {', '.join(sorted(LANGUAGE_NAMES))}, or None for the question's")
        return Response(_releasing(self._answer(self._check_question(question), _pairs(history), language)))

    def with_settings(self, **changes: Any) -> Assistant:
        """This assistant with some settings changed (``top_k=5``, ``temperature=0.3``, another
        ``model``), sharing its embedder, store, checker and, unless the model changes, its model
        (loaded now, so that every assistant made this way holds the same one)."""
        settings = self.settings.replace(**changes)
        retrieval = ("candidates", "rrf_k", "lexical_cross_weight")
        same_model = (settings.model, settings.llm_url) == (self.settings.model, self.settings.llm_url)
        other = Assistant(settings, embedder=self.embedder, store=self.store,
                          chat_model=self.chat_model if same_model else None)
        other._checker, other._sentences, other._collection = self.checker, self.sentence_embedder, self._collection
        if not any(k in changes for k in retrieval):
            other._retriever = self.retriever
        other.progress = self.progress
        return other

    def collection(self) -> Collection | None:
        """The whole-collection prompt when this store's documents are answered that way (they fit
        ``collection_budget``, or ``answer_mode`` says so); None when questions go by retrieval."""
        s = self.settings
        if s.answer_mode == RETRIEVAL or self.store.count() == 0:
            return None
        revision = self.store.revision  # read fresh: another process may have ingested since
        if self._collection is None or self._collection.revision != revision:
            self._collection = load_collection(self.store)
        if s.answer_mode == COLLECTION or fits(self._collection, self.chat_model, s.collection_budget, s.max_tokens):
            return self._collection
        return None

    def prepare(self, progress: Progress | None = None) -> PrefixStatus | None:
        """Make the whole-collection prompt ready before the first question: restore its saved
        state, or build it (minutes for a large collection; ``progress``, else ``self.progress``, is
        told how it goes). None in retrieval mode."""
        collection = self.collection()
        return None if collection is None else self._prepare(collection, progress)

    def _prepare(self, collection: Collection, progress: Progress | None = None) -> PrefixStatus:
        model = self.chat_model
        if not isinstance(model, PrefixCaching):
            return PrefixStatus("unsupported")
        report = progress or self.progress
        status = model.prepare(list(collection.messages), self.state_dir,
                               (lambda done, total: report("Reading the documents", done, total)) if report else None)
        if status.how in ("built", "restored", "server"):
            self._prepare_sentences(collection)
        return status

    def _prepare_sentences(self, collection: Collection) -> None:
        """Embed every document sentence the citation check compares answers with, once: kept beside
        the prompt state, so a restart reads them instead of embedding the collection again."""
        sentences = [s for p in collection.documents for s in self.checker.sentences(p.text)]
        path = self.state_dir / f"sentences-{collection.digest[:16]}.npz"
        if self.sentence_embedder.load(path, sentences) == len(sentences):
            return
        self.sentence_embedder.embed_passages(sentences)
        try:
            for old in self.state_dir.glob("sentences-*.npz"):
                old.unlink(missing_ok=True)
            self.sentence_embedder.save(path, sentences)
        except OSError:
            pass  # a read-only folder only costs the next start the embedding

    def _answer(self, question: str, history: list[tuple[str, str]], language: str | None = None
                ) -> Generator[str, None, Answer]:
        t0 = time.perf_counter()
        language = language or detect_language(question)
        answer = Answer(question=question, text="", language=language, standalone_question=question)
        if self.store.count() == 0:
            return self._abstain(answer, say(NO_DOCUMENTS, language), "the store holds no documents", t0)
        self._check_model_file()
        collection = self.collection()
        if collection is not None:
            messages = self._collection_context(answer, collection, history)
        else:
            messages = self._retrieval_context(answer, history, t0)
            if answer.abstained:
                return answer
        answer.model = self.chat_model.name
        ctx = StepContext(self.settings, self.checker)
        streamed = yield from self._generate(answer, messages, ctx, t0)
        declined = run_steps(check_steps(self.settings), answer, ctx)
        if declined is not None:
            return self._abstain(answer, say(NOT_FOUND, language), declined.declined, t0, streamed)
        if self.settings.restate and not in_its_language(answer):
            self._restate(answer, messages)
        assert answer.check is not None  # the Citations step always leaves one
        answer.uncited = [st.text for st in answer.check.unsupported]
        answer.revised = answer.text != streamed.strip()
        answer.timings["total_s"] = time.perf_counter() - t0
        return answer

    def _collection_context(self, answer: Answer, collection: Collection, history: list[tuple[str, str]]
                            ) -> list[Message]:
        """The documents themselves as the prompt; their state restored or built if the model lacks it."""
        t0 = time.perf_counter()
        answer.mode = COLLECTION
        answer.passages = list(collection.documents)
        status = self._prepare(collection)  # "warm" at once when the model still holds the documents
        turns = [(q, a) for q, a in history][-self.settings.history_turns:]
        messages = collection_messages(collection.messages, answer.question, turns, answer.language)
        note = f"{len(collection.documents)} documents, state {status.how}"
        answer.trace.append(TraceEntry("context", time.perf_counter() - t0,
                                       note + (f"; {status.warning}" if status.warning else "")))
        answer.timings["prepare_s"] = time.perf_counter() - t0
        return messages

    def _retrieval_context(self, answer: Answer, history: list[tuple[str, str]], t0: float) -> list[Message]:
        """The best passages for the question (a follow-up rewritten first); declines when none is relevant."""
        s = self.settings
        answer.mode = RETRIEVAL
        if history:
            answer.standalone_question = self._standalone(answer.question, history)
            answer.timings["rewrite_s"] = time.perf_counter() - t0
            answer.trace.append(TraceEntry("rewrite", answer.timings["rewrite_s"], answer.standalone_question))
        t1 = time.perf_counter()
        query = answer.standalone_question
        query_vector = self.embedder.embed_query(query)  # for retrieval and focus
        candidates = self.retriever.search(query, s.top_k, s.per_document, query_vector, language=answer.language,
                                            other_language=s.other_language_slot)
        answer.timings["retrieve_s"] = time.perf_counter() - t0
        relevant, why = self.relevance.judge(candidates, answer.language)
        answer.trace.append(TraceEntry("retrieve", time.perf_counter() - t1, f"{len(candidates)} passages",
                                       declined="" if relevant else why))
        if not relevant:  # decided before the model is even loaded
            answer.passages = candidates
            self._abstain(answer, say(NOT_FOUND, answer.language), why, t0)
            return []
        model = self.chat_model
        budget = self._passage_budget(query)
        focused = focus_passages(query, candidates, self.sentence_embedder, s.passage_tokens, query_vector)
        answer.passages = select_passages(focused, budget, model.count_tokens)
        return answer_messages(query, answer.passages, answer.language)

    def _generate(self, answer: Answer, messages: list[Message], ctx: StepContext, t0: float
                  ) -> Generator[str, None, str]:
        """Stream the model's reply, invalid markers and a leading NOT_FOUND held back; returns what streamed."""
        s, model = self.settings, self.chat_model
        filt = StreamFilter({p.number for p in answer.passages}, NOT_FOUND_SENTINEL)
        raw, shown, pieces = [], [], 0
        answer.usage["prompt_tokens"] = sum(model.count_tokens(m["content"]) for m in messages)
        started = first = time.perf_counter()
        for piece in model.stream(messages, max_tokens=s.max_tokens, temperature=s.temperature):
            if not pieces:
                first = time.perf_counter()
                answer.timings["first_token_s"] = first - t0
            pieces += 1
            raw.append(piece)
            out = filt.feed(piece)
            if out:
                shown.append(out)
                yield out
        tail = filt.flush()
        if tail:
            shown.append(tail)
            yield tail
        answer.timings["generate_s"] = time.perf_counter() - started
        answer.timings["decode_s"] = time.perf_counter() - first  # after the first token: tokens/s
        answer.usage["completion_tokens"] = pieces
        answer.raw_text = "".join(raw).strip()
        answer.confidence = getattr(model, "confidence", None)
        ctx.sentinel_seen = filt.sentinel_seen
        answer.trace.append(TraceEntry("generate", answer.timings["generate_s"], f"{pieces} pieces"))
        return "".join(shown)

    def _restate(self, answer: Answer, messages: list[Message]) -> None:
        """Ask once more, in a further turn, for the answer as full sentences in the question's
        language; the new reply replaces the old one only when it passes every check and is in that
        language. The turn follows the same prompt, so the model's cache still holds all before it."""
        t0, s = time.perf_counter(), self.settings
        again = restate_messages(messages, answer.text, answer.language, answer.mode == COLLECTION)
        raw = "".join(self.chat_model.stream(again, max_tokens=s.max_tokens, temperature=s.temperature)).strip()
        other = Answer(question=answer.question, text="", language=answer.language, mode=answer.mode,
                       standalone_question=answer.standalone_question, passages=answer.passages, raw_text=raw)
        declined = run_steps(check_steps(s), other, StepContext(s, self.checker))
        kept = declined is None and in_its_language(other)
        if kept:
            answer.raw_text, answer.text, answer.citations, answer.check = raw, other.text, other.citations, other.check
            answer.trace += [replace(e, step=f"restate/{e.step}") for e in other.trace]
        why = "kept" if kept else ("not kept: " + (declined.declined if declined else "still not in that language"))
        answer.timings["restate_s"] = time.perf_counter() - t0
        answer.trace.append(TraceEntry("restate", answer.timings["restate_s"],
                                       f"asked again in {language_name(answer.language)}: {why}"))

    def check(self, answer: Answer | str, passages: Sequence[Passage | str | Path] | None = None) -> CitationReport:
        """Check the citations of an Answer (against its own passages), or of any text with [n]
        markers against ``passages`` (Passages, file paths or strings; marker n = the n-th)."""
        from .grounding.check import as_passages, check_citations

        if isinstance(answer, Answer):
            text, sources = answer.text, list(answer.passages) if passages is None else passages
        else:
            text, sources = answer, passages
        if not text or not text.strip():
            raise InputError("The answer to check is empty", "pass an Answer or text with [n] markers")
        if sources is None:
            raise InputError("No passages to check the text against", "pass passages=[files or texts]")
        if isinstance(answer, Answer):  # its statements are in its question's language or its passages'
            return check_statements(text, as_passages(sources), self.checker, (answer.language,))
        return check_citations(text, sources, checker=self.checker)

    def _abstain(self, answer: Answer, text: str, reason: str, t0: float, streamed: str = "") -> Answer:
        answer.text, answer.abstained, answer.reason, answer.citations = text, True, reason, []
        answer.check = None
        answer.revised = bool(streamed.strip())  # streamed words are withdrawn: the decline replaces them
        answer.timings["total_s"] = time.perf_counter() - t0
        return answer

    def _passage_budget(self, question: str) -> int:
        """Tokens left for passages: the configured budget, or less when the model's context
        minus the answer, the system prompt and the question leaves less."""
        s, model = self.settings, self.chat_model
        if not model.n_ctx:
            return s.prompt_budget
        framing = 24 * (len(fixed_messages()) + 1)  # chat-template tokens around each message, generously
        fixed = sum(model.count_tokens(m["content"]) for m in fixed_messages()) + model.count_tokens(question) + framing
        return max(0, min(s.prompt_budget, model.n_ctx - s.max_tokens - fixed))

    def _standalone(self, question: str, history: History) -> str:
        """Rewrite a follow-up into a standalone question; fall back to joining it with the last one."""
        turns = list(history)[-self.settings.history_turns:]
        pieces = self.chat_model.stream(rewrite_messages(question, turns), max_tokens=80, temperature=0.0)
        rewritten = "".join(pieces).strip().strip('"').splitlines()[0:1]
        candidate = rewritten[0].strip() if rewritten else ""
        if 3 <= len(candidate) <= 3 * len(question) + 200:
            return candidate
        return f"{turns[-1][0]} {question}" if turns else question

    def _check_model_file(self) -> None:
        """Fail with the fix when the configured model file is missing or broken (a short or
        headerless file), even for a question retrieval declines before the model would load:
        otherwise such a model goes unnoticed until the first question that reaches it."""
        s = self.settings
        if self._chat_model is None and not s.llm_url:
            from .models import resolve_model

            resolve_model(s.model, s.models_dir)

    def _check_question(self, question: str) -> str:
        if question is not None and not isinstance(question, str):
            raise InputError(f"The question must be text, not {type(question).__name__}", "pass the question as a str")
        q = _plain(question or "").strip()
        if not q:
            raise InputError("The question is empty", "type a question about your documents")
        if len(q) > self.settings.max_question_chars:
            raise InputError(f"The question is {len(q)} characters long; the limit is "
                             f"{self.settings.max_question_chars}",
                             "shorten it, or raise VJA_MAX_QUESTION_CHARS")
        return q
