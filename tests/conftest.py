"""Shared fixtures: real components (Chroma in a temp dir, the e5 embedder, the 135M model)
plus small fakes for fast unit tests of the machinery around them."""
from __future__ import annotations

import hashlib
import re
import socket
from collections.abc import Iterator, Sequence
from pathlib import Path

import numpy as np
import pytest

from vjassistant import Assistant, Settings
from vjassistant.models import PRESETS

ROOT = Path(__file__).resolve().parents[1]
TEST_MODEL = "smollm2-135m"


class FakeEmbedder:
    """Bag-of-words hashing embedder: deterministic, instant, similar texts get similar vectors."""

    name = "fake-bow"
    dim = 64

    def _vec(self, text: str) -> np.ndarray:
        v = np.zeros(self.dim, dtype=np.float32)
        for w in re.findall(r"\w+", text.casefold()):
            v[int(hashlib.md5(w.encode()).hexdigest(), 16) % self.dim] += 1.0
        n = np.linalg.norm(v)
        return v / n if n else v + 1.0 / np.sqrt(self.dim)

    def embed_query(self, text: str) -> np.ndarray:
        return self._vec(text)

    def embed_passages(self, texts: Sequence[str]) -> np.ndarray:
        return np.stack([self._vec(t) for t in texts]) if texts else np.zeros((0, self.dim), np.float32)


class ScriptedModel:
    """A chat model that replies with fixed text, streamed a few characters at a time: ``reply`` first,
    then each of ``then`` in turn (the last one again once they run out)."""

    name = "scripted"
    n_ctx = 4096

    def __init__(self, reply: str = "", then: Sequence[str] = ()) -> None:
        self.reply = reply
        self.then = list(then)
        self.calls: list[list[dict[str, str]]] = []

    def stream(self, messages, *, max_tokens, temperature, stop=()) -> Iterator[str]:
        replies = [self.reply, *self.then]
        text = replies[min(len(self.calls), len(replies) - 1)]
        self.calls.append(list(messages))
        for i in range(0, len(text), 3):
            yield text[i:i + 3]

    def count_tokens(self, text: str) -> int:
        return len(text.split())


@pytest.fixture
def fake_assistant(tmp_path):
    """Real Chroma in a temp dir, fake embedder and scripted model."""
    def make(reply: str = "", **overrides) -> Assistant:
        overrides.setdefault("answer_mode", "retrieval")  # whole-collection mode has tests of its own
        settings = Settings.from_env(store_dir=tmp_path / "store", min_similarity=0.5, **overrides)
        return Assistant(settings, embedder=FakeEmbedder(), chat_model=ScriptedModel(reply))
    return make


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def model_file() -> Path:
    return ROOT / "models" / PRESETS[TEST_MODEL].filename


@pytest.fixture(scope="session")
def real_assistant(tmp_path_factory) -> Assistant:
    """The real thing: e5 embedder, Chroma in a temp dir, the 135M model, bundled corpus ingested."""
    if not model_file().is_file():
        pytest.fail(f"the test model is missing: run `vjassistant models pull {TEST_MODEL}` (make test does)")
    a = Assistant(store_dir=tmp_path_factory.mktemp("store"), model=TEST_MODEL)
    report = a.ingest_bundled_corpus()
    assert len(report.added) == 5 and not report.failed
    return a
