"""The browser UI with the real parts: the 135M model, the e5 embedder, Chroma in a temp dir.

The chat function is called directly (as Gradio would), the Blocks app is served on a free
port and fetched over HTTP, and when Chromium is installed the page is rendered headless to
check that the JavaScript front-end really draws the title and the example questions.
"""
from __future__ import annotations

import html
import shutil
import subprocess
from collections.abc import Iterator
from pathlib import Path

import pytest

from vjassistant import Answer, Assistant, Citation, Passage
from vjassistant.documents import bundled_corpus
from vjassistant.ui import EXAMPLES, SEARCHING, build_ui, chat_fn, format_answer, history_pairs, launch

from .conftest import TEST_MODEL, free_port

pytestmark = pytest.mark.e2e

CORPUS_FILES = {Path(p).name for p in bundled_corpus()}
CHROMIUM = shutil.which("chromium") or ("/usr/bin/chromium" if Path("/usr/bin/chromium").exists() else None)


@pytest.fixture(scope="module")
def assistant(real_assistant: Assistant) -> Assistant:
    """The session's real assistant (135M model, e5, Chroma in a temp dir, corpus ingested)."""
    return real_assistant


@pytest.fixture(scope="module")
def app_url(assistant: Assistant) -> Iterator[str]:
    """The Blocks app served in a background thread on a free port; closed afterwards."""
    demo = build_ui(assistant)
    url = launch(demo, "127.0.0.1", free_port(), block=False)
    try:
        yield url
    finally:
        demo.close()


def run_chat(assistant: Assistant, message: str, history: list | None = None) -> list[str]:
    return list(chat_fn(assistant)(message, history or []))


def check_final(final: str) -> bool:
    """True when ``final`` is a cited answer, False when it is an abstention; fails otherwise."""
    if "<h4>Sources</h4>" in final:
        assert any(name in final for name in CORPUS_FILES), final
        assert "<details>" in final and "<blockquote>" in final and "chars " in final
        return True
    assert "don't contain the answer" in html.unescape(final) or "No documents" in final, final
    assert "why:" in final
    return False


def test_chat_answers_and_follows_up(assistant: Assistant) -> None:
    question = "When was the NIC–JETRO cooperation agreement signed?"
    updates = run_chat(assistant, question)
    assert updates[0] == SEARCHING
    cited = check_final(updates[-1])
    if cited:  # streamed: at least one growing text update before the final message
        assert len(updates[1:]) > 1, updates
    history = [{"role": "user", "content": [{"type": "text", "text": question}]},
               {"role": "assistant", "content": [{"type": "text", "text": updates[-1]}]}]
    assert history_pairs(history)[0][0] == question
    assert "<" not in history_pairs(history)[0][1]  # the model never sees our HTML
    follow_up = run_chat(assistant, "Who witnessed it?", history)
    check_final(follow_up[-1])


@pytest.mark.parametrize("message,expected", [("", "The question is empty"), ("   ", "The question is empty"),
                                              ("x" * 5000, "characters long")])
def test_bad_questions_give_a_friendly_message(assistant: Assistant, message: str, expected: str) -> None:
    final = run_chat(assistant, message)[-1]
    assert expected in final and "fix:" in final


def test_empty_store_says_there_are_no_documents(tmp_path: Path) -> None:
    empty = Assistant(store_dir=tmp_path / "empty", model=TEST_MODEL)
    final = run_chat(empty, "Who signed the MoU?")[-1]
    assert "No documents have been ingested yet." in final
    from vjassistant.ui import documents_html
    assert "No documents yet" in documents_html(empty)


def test_format_answer_escapes_document_text() -> None:
    p = Passage(chunk_id="c1", doc_id="d1", source="/x/a.txt", filename="a<b>.txt", title="<script>x</script>",
                date="2020-10-25", language="en", start=10, end=60, text="JETRO & NIC signed on 19 Oct 2020.",
                number=1)
    c = Citation(marker=1, doc_id="d1", filename=p.filename, source=p.source, title=p.title, chunk_id="c1",
                 start=10, end=44, quote="JETRO & NIC signed on 19 Oct 2020.", statement="s",
                 verdict="supported", score=1.0)
    shown = format_answer(Answer(question="q", text="They signed on 19 Oct 2020 [1].", citations=[c, c],
                                 passages=[p]))
    assert "<script>" not in shown and "&lt;script&gt;" in shown and "a&lt;b&gt;.txt" in shown
    assert '<sup class="vja-cite">1</sup>' in shown and shown.count("<details>") == 1
    assert "JETRO &amp; NIC" in shown and "2020-10-25" in shown and "chars 10–44" in shown
    abstained = format_answer(Answer(question="q", text="No <b>answer</b>.", abstained=True, reason="low score"))
    assert "&lt;b&gt;" in abstained and "why: low score" in abstained and "Sources" not in abstained


def test_page_is_served_over_http(app_url: str) -> None:
    import httpx

    r = httpx.get(app_url, timeout=30)
    assert r.status_code == 200
    assert "vjassistant" in r.text


@pytest.mark.skipif(CHROMIUM is None, reason="chromium is not installed (apt-get install chromium)")
def test_page_renders_in_a_browser(app_url: str, tmp_path: Path) -> None:
    cmd = [CHROMIUM, "--headless", "--no-sandbox", "--disable-gpu", "--disable-quic", "--no-first-run",
           "--disable-background-networking", "--disable-component-update", "--disable-sync",
           "--disable-dev-shm-usage", f"--user-data-dir={tmp_path / 'profile'}", "--virtual-time-budget=15000",
           "--dump-dom", app_url]
    out = subprocess.run(cmd, check=False, capture_output=True, text=True, timeout=120).stdout
    assert "vjassistant" in out
    assert EXAMPLES[0] in out, out[-2000:]
