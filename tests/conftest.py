"""Shared fixtures: real components (Chroma in a temp dir, the e5 embedder, the 135M model)
plus the small fakes of vjassistant.testing for fast unit tests of the machinery around them."""
from __future__ import annotations

import socket
from pathlib import Path

import pytest

from vjassistant import Assistant, Settings
from vjassistant.models import PRESETS
from vjassistant.testing import FakeEmbedder, ScriptedModel

ROOT = Path(__file__).resolve().parents[1]
TEST_MODEL = "smollm2-135m"


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
