"""The core: ingest documents, retrieve evidence, and answer with checked citations.

``Assistant`` takes its collaborators (embedder, store, chat model) as arguments so tests
can pass real small ones or fakes; the defaults are built lazily from ``Settings``: the
LLM is only loaded by the first question, so ingesting or listing never pays for it.
"""
from __future__ import annotations

import time
from collections.abc import Iterable, Iterator, Sequence
from dataclasses import asdict, dataclass, field
from pathlib import Path
from typing import Any

from .check import CitationReport, check_statements
from .chunking import chunk_text
from .citations import Citation, StreamFilter, drop_markers, resolve
from .config import Settings
from .documents import Document, bundled_corpus, iter_files, load_document
from .embeddings import E5Embedder, Embedder, RecentPassages
from .errors import DocumentError, InputError
from .focus import focus_passages
from .language import NO_DOCUMENTS, NOT_FOUND, detect_language, say
from .llm import ChatModel, Judge
from .names import Names, question_names
from .prompts import NOT_FOUND_SENTINEL, answer_messages, declines, fixed_messages, rewrite_messages, select_passages
from .retrieval import Passage, RelevanceRule, Retriever
from .store import ChunkStore
from .support import SUPPORTED, UNVERIFIED, SupportChecker
from .translate import needs_translation, translate_answer
from .verify import distances, judge, off_top, unnamed

History = Sequence[tuple[str, str]]


@dataclass
class Answer:
    """What ``ask`` returns: the text to show, its citations and the evidence behind it."""

    question: str
    text: str
    citations: list[Citation] = field(default_factory=list)
    passages: list[Passage] = field(default_factory=list)
    abstained: bool = False
    reason: str = ""
    raw_text: str = ""  # the model's own words, before markers were checked (empty if it never ran)
    uncited: list[str] = field(default_factory=list)  # answer sentences no passage supports
    check: CitationReport | None = None  # every statement's verdict, ALCE citation recall and precision
    # The checked answer as the model wrote it, in its passages' language, when ``text`` is its
    # translation into the question's language (translate.py); empty otherwise.
    original_text: str = ""
    language: str = "en"
    standalone_question: str = ""
    model: str = ""
    # The probability the model gave its reply's first token: low means it hesitated over what
    # to answer (on XQuAD most answers under 0.15 were wrong). None when the model does not say.
    confidence: float | None = None
    timings: dict[str, float] = field(default_factory=dict)

    def to_dict(self) -> dict[str, Any]:
        data = asdict(self)
        data["check"] = self.check.to_dict() if self.check is not None else None  # with "ok" and "unsupported"
        return data


@dataclass
class IngestReport:
    added: list[str] = field(default_factory=list)
    updated: list[str] = field(default_factory=list)
    unchanged: list[str] = field(default_factory=list)
    failed: list[tuple[str, str]] = field(default_factory=list)
    chunks: int = 0

    def to_dict(self) -> dict[str, Any]:
        return asdict(self)


def _supported(answer: Answer) -> bool:
    """Whether any statement of the answer stands supported (or unverifiable) after its check."""
    return answer.check is not None and any(st.verdict in (SUPPORTED, UNVERIFIED) for st in answer.check.statements)


def embedding_text(title: str, chunk: str) -> str:
    """What gets embedded for a chunk: its document's title, then the chunk.

    A chunk from the middle of a report rarely names its subject; with the title the embedding
    does. Measured on XQuAD (1190 questions, hit@5): Vietnamese questions over English
    paragraphs 0.887 -> 0.911, English over Vietnamese 0.949 -> 0.943, monolingual unchanged
    (0.995 / 0.991 -> 0.996 / 0.992). The stored text stays the chunk alone. A chunk that
    already holds the title (often the first: titles are taken from the first line, maybe cut
    short with "…") is embedded as it is: the repeat only blurred it."""
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
            self._store = ChunkStore(path=s.store_dir, url=s.chroma_url, collection=s.collection,
                                     embedder_name=self.embedder.name, dim=self.embedder.dim)
        return self._store

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
                                                         api_key=s.llm_api_key)
            else:
                path = resolve_model(s.model, s.models_dir)
                preset = PRESETS.get(s.model)
                n_ctx = min(s.n_ctx, preset.context_length) if preset else s.n_ctx
                self._chat_model = LlamaCppModel(path, n_ctx=n_ctx, n_threads=s.n_threads,
                                                 name=s.model if preset else path.name)
        return self._chat_model

    # --- documents ---------------------------------------------------------------------
    def ingest(self, paths: Iterable[str | Path], *, progress: bool = False) -> IngestReport:
        """Add or update documents; unchanged files are skipped, bad ones reported and skipped."""
        from tqdm import tqdm

        files, problems = iter_files(paths)
        report = IngestReport(failed=[(str(p), why) for p, why in problems])
        for path in tqdm(files, desc="Ingesting", unit="file", disable=not progress):
            try:
                doc = load_document(path)
            except DocumentError as exc:
                report.failed.append((str(path), exc.message))
                continue
            known = self.store.content_hash(doc.id)
            if known == doc.content_hash:
                report.unchanged.append(doc.source)
                continue
            report.chunks += self._index(doc)
            (report.updated if known else report.added).append(doc.source)
        return report

    def _index(self, doc: Document) -> int:
        s = self.settings
        chunks = chunk_text(doc.id, doc.text, s.chunk_tokens, s.chunk_overlap)
        vectors = self.embedder.embed_passages([embedding_text(doc.title, c.text) for c in chunks])
        self.store.upsert_document(doc, chunks, vectors)
        return len(chunks)

    def ingest_bundled_corpus(self, *, progress: bool = False) -> IngestReport:
        return self.ingest(bundled_corpus(), progress=progress)

    def remove(self, target: str | Path) -> int:
        """Delete a document by id, file path or file name; returns the chunks removed."""
        docs = self.store.documents()
        wanted = str(target)
        resolved = str(Path(wanted).expanduser().resolve())
        matches = [d for d in docs if wanted == d["doc_id"] or d["source"] == resolved]
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
        return self.retriever.search(question, k or self.settings.top_k, self.settings.per_document,
                                     language=detect_language(question))

    def ask(self, question: str, history: History | None = None) -> Answer:
        answer = None
        for item in self.stream(question, history):
            if isinstance(item, Answer):
                answer = item
        assert answer is not None
        return answer

    def stream(self, question: str, history: History | None = None) -> Iterator[str | Answer]:
        """Yield the answer text piece by piece, then the final Answer (always last)."""
        t0 = time.perf_counter()
        question = self._check_question(question)
        language = detect_language(question)
        answer = Answer(question=question, text="", language=language, standalone_question=question)
        if self.store.count() == 0:
            yield from self._abstain(answer, say(NO_DOCUMENTS, language), "the store holds no documents", t0)
            return
        if history:
            answer.standalone_question = self._standalone(question, history)
            answer.timings["rewrite_s"] = time.perf_counter() - t0
        s = self.settings
        query_vector = self.embedder.embed_query(answer.standalone_question)  # for retrieval and focus
        candidates = self.retriever.search(answer.standalone_question, s.top_k, s.per_document, query_vector,
                                           language=language)
        answer.timings["retrieve_s"] = time.perf_counter() - t0
        relevant, why = self.relevance.judge(candidates, language)
        if not relevant:  # decided before the model is even loaded
            answer.passages = candidates
            yield from self._abstain(answer, say(NOT_FOUND, language), why, t0)
            return
        model = self.chat_model
        answer.model = model.name
        budget = self._passage_budget(answer.standalone_question)
        focused = focus_passages(answer.standalone_question, candidates, self.sentence_embedder, s.passage_tokens,
                                 query_vector)
        answer.passages = select_passages(focused, budget, model.count_tokens)
        filt = StreamFilter({p.number for p in answer.passages}, NOT_FOUND_SENTINEL)
        raw, pieces = [], 0
        messages = answer_messages(answer.standalone_question, answer.passages, language)
        answer.timings["prompt_tokens"] = sum(model.count_tokens(m["content"]) for m in messages)
        for piece in model.stream(messages, max_tokens=s.max_tokens, temperature=s.temperature):
            if not pieces:
                answer.timings["first_token_s"] = time.perf_counter() - t0
            pieces += 1
            raw.append(piece)
            shown = filt.feed(piece)
            if shown:
                yield shown
        tail = filt.flush()
        if tail:
            yield tail
        gen_time = time.perf_counter() - t0 - answer.timings.get("first_token_s", 0.0)
        answer.timings["tokens"] = pieces
        answer.timings["tokens_per_s"] = (pieces - 1) / gen_time if pieces > 1 and gen_time > 0 else 0.0
        text = answer.raw_text = "".join(raw).strip()
        answer.confidence = getattr(model, "confidence", None)
        if filt.sentinel_seen or declines(text):
            yield from self._abstain(answer, say(NOT_FOUND, language), "the model found no answer in the passages", t0)
            return
        if answer.confidence is not None and answer.confidence < s.min_confidence:
            yield from self._abstain(answer, say(NOT_FOUND, language),
                                     f"the model was unsure of its answer (confidence {answer.confidence:.2f}, "
                                     f"under VJA_MIN_CONFIDENCE {s.min_confidence})", t0)
            return
        checked = time.perf_counter()
        answer.text, answer.citations = resolve(text.replace(NOT_FOUND_SENTINEL, "").strip(), answer.passages,
                                                self.checker, (language,))
        answer.check = check_statements(answer.text, answer.passages, self.checker, (language,))
        answer.timings["check_s"] = time.perf_counter() - checked
        supported = _supported(answer)
        self._drop_off_top(answer)
        names = self._drop_unnamed(answer)
        refuted = self._verify(answer, query_vector)
        if not _supported(answer):
            why = self._decline_reason(answer, supported, names, refuted)
            yield from self._abstain(answer, say(NOT_FOUND, language), why, t0)
            return
        if s.translate_answers and needs_translation(answer.text, language, [p.language for p in answer.passages]):
            self._translate(answer, model, language)
        answer.uncited = [st.text for st in answer.check.unsupported]
        answer.timings["total_s"] = time.perf_counter() - t0
        yield answer

    def _decline_reason(self, answer: Answer, supported: bool, names: Names, refuted: int) -> str:
        """Why an answer was left with no supported statement: the check, or each rule that removed
        a citation, in the order they ran (a supported answer is only declined through them)."""
        if not supported:
            return "no statement of the answer is supported by a passage"
        s, why = self.settings, []
        if answer.timings.get("off_top_removed"):
            why.append(f"the model was unsure of its answer (confidence {answer.confidence:.2f}, under "
                       f"VJA_MIN_CONFIDENCE_OFF_TOP {s.min_confidence_off_top}) and the passages that supported "
                       "it are further from the question than the closest one")
        if answer.timings.get("unnamed_removed"):
            why.append(f"the passages that supported it name none of the question's names ({', '.join(names.shown)}) "
                       "while another passage given does (VJA_QUESTION_NAMES)")
        if refuted:
            why.append("the model judged that the passage it cited does not answer the question")
        return "; ".join(why) or "no statement of the answer is left supported by a passage"

    def _drop_off_top(self, answer: Answer) -> None:
        """Remove, from an answer the model was unsure of, the citations of passages further from the
        question than the closest one given (verify.off_top); ``timings["off_top_removed"]`` counts them."""
        floor = self.settings.min_confidence_off_top
        if answer.confidence is None or answer.confidence >= floor or not answer.citations:
            return
        removed = off_top(answer.citations, answer.passages)
        self._remove_citations(answer, removed)
        answer.timings["off_top_removed"] = len(removed)

    def _drop_unnamed(self, answer: Answer) -> Names:
        """Remove the citations of passages in the question's language whose document names none
        of the question's names while another document given does (verify.unnamed); returns the
        names when it removed any. ``timings["unnamed_removed"]`` counts them."""
        if not self.settings.question_names or not answer.citations:
            return Names()
        question = answer.standalone_question
        if question != answer.question and detect_language(question, answer.language) != answer.language:
            question = answer.question  # a rewrite in another language would name things otherwise
        names = question_names(question)
        answer.timings["unnamed_removed"] = 0
        if not names:
            return names
        documents = {p.doc_id: self.store.document_text(p.doc_id) for p in answer.passages
                     if p.language == answer.language}
        removed = unnamed(names, answer.citations, answer.passages, documents, answer.language)
        self._remove_citations(answer, removed)
        answer.timings["unnamed_removed"] = len(removed)
        return names if removed else Names()

    def _remove_citations(self, answer: Answer, removed: Sequence[Citation]) -> None:
        if removed:
            answer.text = drop_markers(answer.text, {(c.statement, c.marker) for c in removed})
            answer.citations = [c for c in answer.citations if all(c is not r for r in removed)]
            answer.check = check_statements(answer.text, answer.passages, self.checker, (answer.language,))

    def _verify(self, answer: Answer, query_vector: Any) -> int:
        """Remove the citations the model, asked again, judges not to answer the question (verify.py);
        returns how many it removed."""
        s, model = self.settings, self.chat_model
        if not s.verify_min_yes or not answer.citations or not isinstance(model, Judge):
            return 0
        t0 = time.perf_counter()
        gaps = distances(answer.standalone_question, answer.citations, answer.passages, self.sentence_embedder,
                         query_vector)
        verdicts = judge(model, answer.standalone_question, answer.citations, answer.passages, gaps, s.verify_gap)
        refuted = [v.citation for v in verdicts if v.refutes(s.verify_min_yes)]
        self._remove_citations(answer, refuted)
        answer.timings["verify_s"] = time.perf_counter() - t0
        answer.timings["verified"] = len(verdicts)
        return len(refuted)

    def _translate(self, answer: Answer, model: ChatModel, language: str) -> None:
        """Put the checked answer into the question's language when the passages still bear it out."""
        assert answer.check is not None  # only a checked answer is translated
        t0 = time.perf_counter()
        done = translate_answer(model, answer.text, language, answer.check, answer.passages, self.checker,
                                max_tokens=self.settings.max_tokens)
        answer.timings["translate_s"] = time.perf_counter() - t0
        if done is not None:
            answer.original_text, (answer.text, answer.check) = answer.text, done
            answer.citations = [c for st in answer.check.statements for c in st.citations]

    def check(self, answer: Answer | str, passages: Sequence[Passage | str | Path] | None = None) -> CitationReport:
        """Check the citations of an Answer (against its own passages), or of any text with [n]
        markers against ``passages`` (Passages, file paths or strings; marker n = the n-th)."""
        from .check import as_passages, check_citations

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

    def _abstain(self, answer: Answer, text: str, reason: str, t0: float) -> Iterator[str | Answer]:
        answer.text, answer.abstained, answer.reason, answer.citations = text, True, reason, []
        answer.check = None
        answer.timings["total_s"] = time.perf_counter() - t0
        yield answer

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

    def _check_question(self, question: str) -> str:
        q = (question or "").strip()
        if not q:
            raise InputError("The question is empty", "type a question about your documents")
        if len(q) > self.settings.max_question_chars:
            raise InputError(f"The question is {len(q)} characters long; the limit is "
                             f"{self.settings.max_question_chars}",
                             "shorten it, or raise VJA_MAX_QUESTION_CHARS")
        return q
