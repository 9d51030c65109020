"""Settings: the one place defaults live, overridable by ``VJA_*`` environment variables.

``Settings.from_env()`` reads e.g. ``VJA_MODEL=qwen2.5-coder-0.5b`` or ``VJA_TOP_K=6``; any
field can also be passed as a keyword to ``Settings(...)`` or ``Assistant(...)``.
"""
from __future__ import annotations

import dataclasses
import os
from dataclasses import dataclass, field, fields
from pathlib import Path

from .errors import ConfigError

DEFAULT_MODEL = "qwen2.5-coder-1.5b"


def _default_home() -> Path:
    """Where models/ and vectorstore/ live.

    In a checkout (the editable install ``make`` does) that is the repository root, as the
    design card lays out; an installed copy uses a per-user data folder instead.
    """
    if os.environ.get("VJA_HOME"):
        return Path(os.environ["VJA_HOME"]).expanduser()
    repo = Path(__file__).resolve().parents[2]
    if (repo / "pyproject.toml").is_file() and (repo / "src" / "vjassistant").is_dir():
        return repo
    return Path.home() / ".local" / "share" / "vjassistant"


@dataclass
class Settings:
    """Everything tunable. Paths default under ``home``; see ``_default_home``."""

    home: Path = field(default_factory=_default_home)
    models_dir: Path | None = None
    store_dir: Path | None = None
    # A Chroma server ("http://host:8000") replaces the embedded store when set.
    chroma_url: str = ""
    collection: str = "vjassistant"
    # Preset name (see models.py) or a path to any GGUF file.
    model: str = DEFAULT_MODEL
    # An OpenAI-compatible server (llama.cpp server, vLLM) replaces the local model when set.
    llm_url: str = ""
    llm_api_key: str = ""
    llm_timeout: float = 120.0  # seconds a server may take to send the next piece of a reply
    # Context window in tokens (capped at the model's own): holds the whole collection, the
    # conversation and the answer in whole-collection mode.
    n_ctx: int = 8192
    n_threads: int = 0  # 0 = all cores
    max_tokens: int = 320
    temperature: float = 0.0
    # Chunking: tokens per chunk and overlap, counted with tiktoken's offline cl100k.
    chunk_tokens: int = 160
    chunk_overlap: int = 32
    # Retrieval: passages given to the model, candidates per retriever, RRF constant.
    # top_k 3 rather than 4: the same F1 on XQuAD English dev (57.8, 30 questions) with a
    # quarter less prompt to read (TTFT 4.5 s vs 6.0 s, qwen2.5-coder-1.5b); monolingual hit@3 is
    # already 0.99 (benchmarks/prompt_cost.py shows each setting's trade).
    top_k: int = 3
    candidates: int = 20
    rrf_k: int = 60
    # At most this many passages from one document (0 = no cap): leaves room for the same
    # facts told by another document, often in another language.
    per_document: int = 2
    # BM25 ranks the chunks in the question's language; its ranking of the chunks in other
    # languages, by the question's names and numbers alone, joins the fusion at this weight (0 = not
    # at all). Chosen on XQuAD dev (612 questions per run, retrieval only), hit@1 / hit@5 at weights
    # 0, 0.25, 0.5, 1: English questions over Vietnamese paragraphs 0.779/0.967, 0.775/0.964,
    # 0.765/0.967, 0.750/0.964; Vietnamese over English 0.725/0.922, 0.732/0.928, 0.727/0.928,
    # 0.706/0.930 (MRR summed over both: 1.666, 1.670, 1.662, 1.637); mixed store 0.936/0.991 at
    # 0 and 0.937/0.991 at 0.25. Every word of the question, as before, did worse at each weight
    # (0.25: 0.742/0.962 and 0.722/0.926).
    lexical_cross_weight: float = 0.25
    # When none of the top_k is in another language, the last place goes to the best passage that
    # is: the evidence for a French or Vietnamese question is often only in English (docs/decisions.md#cross-retrieval).
    other_language_slot: bool = True
    # Abstain before generating unless a passage is close enough (retrieval.RelevanceRule): in the
    # question's language, dense similarity >= min_similarity and >= min_margin above the
    # background (the candidates-th result); in another language >= min_similarity_cross; or it
    # holds 60% of the question's words. Tuned on XQuAD (1190 questions per language pair,
    # answerable vs. the same questions with their article removed, benchmarks in the README):
    # en->en 2.9% of answerable questions stopped, 92% of unanswerable; vi->vi 3.5% / 85%;
    # cross-lingual 1.3-3.0% / 29% (the model and the citation check decline most of the rest).
    # The earlier single 0.80 threshold stopped 55% of answerable Vietnamese questions over
    # English documents, and let 98% of unanswerable Vietnamese ones through.
    min_similarity: float = 0.82
    min_margin: float = 0.04
    min_similarity_cross: float = 0.76
    # Token budget for the passages in the prompt (the rest of n_ctx is for the answer).
    prompt_budget: int = 1400
    # Each passage is cut to its best window of sentences of at most this many tokens before
    # it goes into the prompt (0 = whole chunks): every prompt token costs prefill time. On XQuAD
    # dev (50 questions per language, qwen2.5-coder-1.5b, top_k 3): 120 gave F1 68.8 en / 53.7 vi
    # at TTFT 4.3 s; 80 gave 64.0 / 43.6 at 3.2 s (the window more often loses the answer).
    # The cut loses the answer's text for a few questions: with the gold answer's words searched
    # in the prompt (no generation; XQuAD English, top_k 3), it is there for 95.8% of dev questions
    # at 120 tokens, 97.7% with whole chunks (97.5% at 140), for 303 vs 394 passage tokens p50
    # (test: 97.6% vs 99.3%, 304 vs 388). Asked with the 1.5B model (the same 100 English dev
    # questions, seed 0, 2026-12-02), whole chunks did not win that back: F1 63.6 vs 65.2 at 120
    # (paired difference 1.6, standard error 2.9; 6 questions better at 120, 7 worse), EM 51 vs
    # 54, answered 0.89 vs 0.92, citation precision 0.978 (90) vs 0.967 (92), TTFT p50 13.0 vs 11.4 s.
    passage_tokens: int = 120
    # Remove the sentences no document supports; decline when they are most of the answer (steps.py).
    drop_unsupported: bool = True
    # Ask the model once more when a checked answer is not in the question's language, or is a bare
    # name or number: "write that again as full sentences in French" (docs/decisions.md#restate).
    restate: bool = True
    # How questions are answered: "collection" puts every stored document in the prompt (its
    # llama.cpp state saved under state_dir), "retrieval" the best passages; "auto" takes the
    # collection while it fits collection_budget tokens, and retrieval above it.
    answer_mode: str = "auto"
    collection_budget: int = 6000
    state_dir: Path | None = None  # default: <store_dir>/collection-state
    max_question_chars: int = 2000
    history_turns: int = 3
    host: str = "127.0.0.1"
    port: int = 7860
    # Who may use the browser UI: "user:password", or the path of a file with one user:password per
    # line. Required to serve on any address but the loopback one.
    auth: str = ""
    max_upload_mb: int = 20     # the largest file the browser UI accepts
    # The largest file ingestion reads: 1 MB of text took 6 minutes to embed on 2 cores, so this
    # is about an hour (docs/decisions.md#document-size).
    max_document_mb: float = 10.0
    queue_size: int = 16        # questions waiting in the UI's queue before more are turned away
    uploads_dir: Path | None = None  # where the UI keeps uploaded files; default: "uploads" beside the store

    def __post_init__(self) -> None:
        self.home = Path(self.home).expanduser()
        self.models_dir = Path(self.models_dir or self.home / "models").expanduser()
        self.store_dir = Path(self.store_dir or self.home / "vectorstore").expanduser()
        self.state_dir = Path(self.state_dir).expanduser() if self.state_dir else None
        # left unset until used, so that replace(store_dir=...) moves the uploads with the store
        self.uploads_dir = Path(self.uploads_dir).expanduser() if self.uploads_dir else None
        self.validate()

    def validate(self) -> None:
        problems = []
        if self.chunk_tokens < 16:
            problems.append("chunk_tokens must be at least 16")
        if not 0 <= self.chunk_overlap < self.chunk_tokens // 2:
            problems.append("chunk_overlap must be >= 0 and under half of chunk_tokens")
        if self.top_k < 1 or self.candidates < self.top_k:
            problems.append("top_k must be >= 1 and candidates >= top_k")
        if not 3 <= len(self.collection) <= 512:
            problems.append("collection names need 3-512 characters (a Chroma rule)")
        if not 0.0 <= self.temperature <= 2.0:
            problems.append("temperature must be within 0..2")
        if self.n_ctx < self.prompt_budget + self.max_tokens + 256:
            problems.append("n_ctx must exceed prompt_budget + max_tokens + 256")
        if not 0.0 <= self.lexical_cross_weight <= 1.0:
            problems.append("lexical_cross_weight must be within 0..1")
        if self.answer_mode not in ("auto", "collection", "retrieval"):
            problems.append("answer_mode must be auto, collection or retrieval")
        if self.collection_budget < 0:
            problems.append("collection_budget must be >= 0 (0: always retrieval)")
        if self.max_upload_mb < 1 or self.queue_size < 1:
            problems.append("max_upload_mb and queue_size must be >= 1")
        if not 0 < self.port < 65536:
            problems.append("port must be within 1..65535")
        if problems:
            raise ConfigError("Invalid settings: " + "; ".join(problems),
                              "change the VJA_* variable or keyword argument named above")

    @classmethod
    def from_env(cls, **overrides: object) -> "Settings":
        """Defaults, then ``VJA_<FIELD>`` variables, then explicit keyword overrides."""
        values: dict[str, object] = {}
        for f in fields(cls):
            raw = os.environ.get(f"VJA_{f.name.upper()}")
            if raw is not None and f.name != "home":
                values[f.name] = _convert(f.name, f.type, raw)
        unknown = set(overrides) - {f.name for f in fields(cls)}
        if unknown:
            raise ConfigError(f"Unknown setting(s): {', '.join(sorted(unknown))}",
                              "see vjassistant.config.Settings for the valid names")
        values.update({k: v for k, v in overrides.items() if v is not None})
        return cls(**values)  # type: ignore[arg-type]

    @property
    def uploads(self) -> Path:
        """Where the browser UI keeps uploaded files: ``uploads_dir``, or "uploads" beside the store."""
        return self.uploads_dir or self.store_dir.parent / "uploads"

    def replace(self, **changes: object) -> "Settings":
        return dataclasses.replace(self, **changes)  # type: ignore[arg-type]


def parse_assignments(items: list[str]) -> dict[str, object]:
    """``["top_k=3", "min_similarity=0.82"]`` -> typed keyword overrides for ``Settings``."""
    types = {f.name: f.type for f in fields(Settings)}
    out: dict[str, object] = {}
    for item in items:
        name, sep, raw = item.partition("=")
        name = name.strip().lower().replace("-", "_")
        if not sep or name not in types:
            raise ConfigError(f"Cannot use setting {item!r}",
                              "write NAME=VALUE with a field of vjassistant.config.Settings, e.g. top_k=3")
        out[name] = _convert(name, types[name], raw.strip())
    return out


def _convert(name: str, type_: object, raw: str) -> object:
    kind = str(type_)
    if kind == "bool":
        word = raw.strip().lower()
        if word in ("1", "true", "yes", "on"):
            return True
        if word in ("0", "false", "no", "off", ""):
            return False
        raise ConfigError(f"VJA_{name.upper()}={raw!r} is not true or false",
                          f"set VJA_{name.upper()} to 1 or 0, or unset it")
    try:
        if kind == "int":
            return int(raw)
        if kind == "float":
            return float(raw)
    except ValueError:
        raise ConfigError(f"VJA_{name.upper()}={raw!r} is not a number",
                          f"set VJA_{name.upper()} to a number or unset it") from None
    return raw
