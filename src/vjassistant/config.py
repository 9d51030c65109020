"""Settings: the one place defaults live, in six groups, each overridable by a ``VJA_*`` variable.

``Settings.from_env()`` reads e.g. ``VJA_MODEL=qwen2.5-coder-0.5b`` or ``VJA_TOP_K=6``; any field
can also be passed as a keyword to ``Settings(...)`` or ``Assistant(...)``. Each field carries its
group and one sentence, from which docs/configuration.md is generated (``reference_markdown``).
Why a default has its value, with figures, is in docs/decisions.md, not here.
"""
from __future__ import annotations

import dataclasses
import os
import re
from dataclasses import MISSING, dataclass, field, fields
from pathlib import Path
from typing import Any

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


GROUPS = {
    "model": "which language model answers, and how it runs",
    "store": "where documents and models live, and how documents are cut into chunks",
    "retrieval": "how passages are found and what reaches the prompt in retrieval mode",
    "answer": "how questions are answered",
    "check": "what happens to an answer after its citations are checked",
    "server": "the browser UI",
}


def _setting(default: Any = MISSING, *, group: str, doc: str, factory: Any = MISSING) -> Any:
    """A Settings field with its group and one-sentence description (docs/configuration.md shows both)."""
    assert group in GROUPS, group
    meta = {"group": group, "doc": doc}
    if factory is not MISSING:
        return field(default_factory=factory, metadata=meta)
    return field(default=default, metadata=meta)


@dataclass
class Settings:
    """Everything tunable, in six groups (``GROUPS``); every field is also the ``VJA_<NAME>`` variable.

    The fields stay flat so that ``Settings(top_k=4)``, ``Assistant(top_k=4)``, ``--set top_k=4`` and
    ``VJA_TOP_K=4`` all name a setting the same way; ``Settings.group("retrieval")`` reads one group.
    Figures behind the defaults are in docs/decisions.md, not here.
    """

    # --- model
    model: str = _setting(DEFAULT_MODEL, group="model",
                          doc="A preset name (`vjassistant models list`) or the path of any GGUF file.")
    models_dir: Path | None = _setting(None, group="model", doc="Where pulled models live; default `<home>/models`.")
    llm_url: str = _setting("", group="model", doc="An OpenAI-compatible server (llama.cpp server, vLLM) "
                            "that answers instead of the local model, e.g. `http://127.0.0.1:8080`.")
    llm_api_key: str = _setting("", group="model", doc="The bearer token that server wants, if any.")
    llm_timeout: float = _setting(120.0, group="model",
                                  doc="Seconds the server may take to send the next piece of a reply.")
    n_ctx: int = _setting(8192, group="model", doc="Context window in tokens (capped at the model's own): the "
                          "whole collection, the conversation and the answer must fit in it.")
    n_threads: int = _setting(0, group="model", doc="CPU threads for the model and the embedder; 0 = every core.")
    # --- store
    home: Path = _setting(group="store", factory=_default_home,
                          doc="The folder holding models/ and vectorstore/: the checkout, or `~/.local/share/"
                          "vjassistant` (`VJA_HOME`).")
    store_dir: Path | None = _setting(None, group="store",
                                      doc="The embedded Chroma store; default `<home>/vectorstore`.")
    chroma_url: str = _setting("", group="store", doc="A Chroma server (`http://host:8000`) that replaces the "
                               "embedded store.")
    collection: str = _setting("vjassistant", group="store", doc="The Chroma collection's name.")
    chunk_tokens: int = _setting(160, group="store", doc="Tokens per chunk (tiktoken cl100k); a store keeps the "
                                 "value it was built with.")
    chunk_overlap: int = _setting(32, group="store", doc="Tokens shared by neighbouring chunks.")
    max_document_mb: float = _setting(10.0, group="store", doc="The largest file ingestion reads "
                                      "(docs/decisions.md#document-size: about an hour to embed on 2 cores).")
    state_dir: Path | None = _setting(None, group="store", doc="Where the whole collection's llama.cpp state is "
                                      "saved; default `<store_dir>/collection-state`.")
    # --- retrieval
    top_k: int = _setting(3, group="retrieval", doc="Passages given to the model "
                          "(docs/decisions.md#passage-budget).")
    candidates: int = _setting(20, group="retrieval", doc="Candidates each retriever (dense, BM25) hands to fusion.")
    rrf_k: int = _setting(60, group="retrieval", doc="The reciprocal-rank-fusion constant.")
    per_document: int = _setting(2, group="retrieval", doc="At most this many passages from one document (0 = no cap), "
                                 "leaving room for the same facts told by another, often in another language.")
    lexical_cross_weight: float = _setting(0.25, group="retrieval", doc="Weight in the fusion of BM25 over chunks "
                                           "in other languages, by the question's names and numbers (0 = off; "
                                           "docs/decisions.md#lexical-cross).")
    other_language_slot: bool = _setting(True, group="retrieval", doc="When none of the top_k is in another "
                                         "language, the last place goes to the best one that is "
                                         "(docs/decisions.md#cross-retrieval).")
    min_similarity: float = _setting(0.82, group="retrieval", doc="Decline before generating unless a passage in "
                                     "the question's language is at least this similar "
                                     "(docs/decisions.md#relevance-floors).")
    min_margin: float = _setting(0.04, group="retrieval", doc="How far above the background (the "
                                 "candidates-th result) that passage must also be.")
    min_similarity_cross: float = _setting(0.76, group="retrieval", doc="The similarity floor for a passage in "
                                           "another language.")
    prompt_budget: int = _setting(1400, group="retrieval", doc="Token budget for the passages in the prompt.")
    passage_tokens: int = _setting(120, group="retrieval", doc="Each passage is cut to its best window of sentences "
                                   "of at most this many tokens (0 = whole chunks; "
                                   "docs/decisions.md#passage-budget).")
    # --- answer
    answer_mode: str = _setting("auto", group="answer", doc="`collection` puts every document in the prompt, "
                                "`retrieval` the best passages, `auto` the collection while it fits "
                                "collection_budget.")
    collection_budget: int = _setting(6000, group="answer", doc="The most tokens the whole collection may take for "
                                      "`auto` to answer from it (docs/decisions.md#collection-budget).")
    max_tokens: int = _setting(320, group="answer", doc="The longest answer, in tokens.")
    temperature: float = _setting(0.0, group="answer", doc="Sampling temperature; 0 = greedy "
                                  "(docs/decisions.md#decoding).")
    max_question_chars: int = _setting(2000, group="answer", doc="Longer questions are refused with a message.")
    history_turns: int = _setting(3, group="answer", doc="Earlier turns of a conversation kept for a follow-up.")
    # --- check
    drop_unsupported: bool = _setting(True, group="check", doc="Remove the sentences no document supports; "
                                      "decline when they are most of the answer.")
    restate: bool = _setting(True, group="check", doc="Ask once more when a checked answer is not in the "
                             "question's language, or is a bare name or number (docs/decisions.md#restate).")
    # --- server
    host: str = _setting("127.0.0.1", group="server", doc="The address the UI binds; any but the loopback one "
                         "needs `auth`.")
    port: int = _setting(7860, group="server", doc="The UI's port.")
    auth: str = _setting("", group="server", doc="`user:password`, or the path of a file with one such line per user.")
    max_upload_mb: int = _setting(20, group="server", doc="The largest file the UI accepts.")
    queue_size: int = _setting(16, group="server", doc="Questions waiting in the UI's queue before more are "
                               "turned away.")
    max_sessions: int = _setting(1000, group="server", doc="Browser or API sessions whose state the server "
                                 "keeps, the oldest dropped first (docs/decisions.md#load).")
    uploads_dir: Path | None = _setting(None, group="server", doc="Where the UI keeps uploaded files; default "
                                        "`uploads` beside the store.")

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
        if self.max_upload_mb < 1 or self.queue_size < 1 or self.max_sessions < 1:
            problems.append("max_upload_mb, queue_size and max_sessions must be >= 1")
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

    def group(self, name: str) -> dict[str, object]:
        """The values of one group: ``Settings().group("retrieval")["top_k"] == 3``."""
        if name not in GROUPS:
            raise ConfigError(f"No settings group {name!r}", f"use one of: {', '.join(GROUPS)}")
        return {f.name: getattr(self, f.name) for f in fields(self) if f.metadata["group"] == name}


def reference_markdown() -> str:
    """Every setting, by group: name, default, variable and its one sentence (docs/configuration.md)."""
    out = []
    for group, about in GROUPS.items():
        out += [f"### {group.capitalize()}", "", f"{about[0].upper()}{about[1:]}.", "",
                "| Setting | Default | Variable | What it does |", "|---|---|---|---|"]
        for f in fields(Settings):
            if f.metadata["group"] == group:
                default = ("(derived)" if f.default is MISSING or f.default is None else
                           "(empty)" if f.default == "" else f"`{f.default}`")
                doc = re.sub(r"docs/(\w+\.md)(#[\w-]+)?", r"[\1\2](\1\2)", f.metadata["doc"])
                out.append(f"| `{f.name}` | {default} | `VJA_{f.name.upper()}` | {doc} |")
        out.append("")
    return "\n".join(out)


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
