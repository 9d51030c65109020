"""The page in a real browser: Debian's Chromium driven by Playwright (never a downloaded browser).

The app runs on a free local port with the real parts: the 135M model, the e5 embedder and
Chroma in a temp dir holding the bundled corpus (it answers by retrieval there: the corpus does
not fit the 135M model's context). Each test opens a fresh page, as a person would, and does one
thing a person does: read the collection, ask, follow a citation, upload, delete, start over,
reload, choose another model, and meet an error (a missing model, an unreadable store).
"""
from __future__ import annotations

import shutil
import subprocess
import sys
from collections.abc import Iterator
from pathlib import Path

import pytest

from vjassistant import Assistant
from vjassistant.ui import build_ui, launch

from .conftest import TEST_MODEL, free_port, model_file

pytestmark = pytest.mark.e2e

CHROMIUM = shutil.which("chromium") or ("/usr/bin/chromium" if Path("/usr/bin/chromium").exists() else None)
QUESTION = "When was the cooperation agreement between NIC and JETRO signed?"  # the 135M model cites [n] here
TIMEOUT = 120_000  # ms: an answer on 2 shared cores
SPARE_MODEL = "spare-135m.gguf"

playwright = pytest.importorskip("playwright.sync_api", reason="playwright is in the test extra")
if CHROMIUM is None:  # make test installs it; a bare pytest run says how
    pytest.skip("chromium is not installed (apt-get install chromium, or make test)", allow_module_level=True)


@pytest.fixture(scope="module")
def app(real_assistant: Assistant, tmp_path_factory: pytest.TempPathFactory) -> Iterator[tuple[str, Assistant]]:
    """A page over its own store (the tests add and delete documents), sharing the session's models."""
    root = tmp_path_factory.mktemp("browser")
    models = root / "models"  # the test model, and the same file again as a second model to choose
    models.mkdir()
    (models / model_file().name).symlink_to(model_file())
    (models / SPARE_MODEL).symlink_to(model_file())
    a = Assistant(real_assistant.settings.replace(store_dir=root / "store", uploads_dir=root / "uploads",
                                                  models_dir=models),
                  embedder=real_assistant.embedder, chat_model=real_assistant.chat_model)
    assert len(a.ingest_bundled_corpus().added) == 5
    demo = build_ui(a)
    url = launch(demo, "127.0.0.1", free_port(), block=False)
    try:
        yield url, a
    finally:
        demo.close()


@pytest.fixture(scope="module")
def browser() -> Iterator[object]:
    with playwright.sync_playwright() as p:
        b = p.chromium.launch(executable_path=CHROMIUM, args=["--no-sandbox", "--disable-dev-shm-usage"])
        try:
            yield b
        finally:
            b.close()


@pytest.fixture
def page(browser, app):  # type: ignore[no-untyped-def]
    context = browser.new_context()
    pg = context.new_page()
    pg.set_default_timeout(TIMEOUT)
    pg.goto(app[0])
    pg.wait_for_selector("#vja-docs [role=grid]")
    yield pg
    context.close()


# The documents table is virtualised: its grid says how many rows it has (the header is one).
ROWS = "document.querySelector('#vja-docs [role=grid]').getAttribute('aria-rowcount') - 1"


def documents_shown(page) -> int:  # type: ignore[no-untyped-def]
    return int(page.evaluate(f"() => {ROWS}"))


def ask(page, question: str):  # type: ignore[no-untyped-def]
    """Type ``question``, send it, wait for the final (checked) reply; that reply's element."""
    box = page.locator("#vja-question textarea")
    box.fill(question)
    box.press("Enter")
    reply = page.locator("#vja-chat .message.bot").last
    page.wait_for_function(
        "() => { const m = [...document.querySelectorAll('#vja-chat .message.bot')].pop();"
        " return m && (m.querySelector('.vja-timings') || m.textContent.includes('⚠')); }")
    return reply


def test_the_page_shows_the_collection_and_examples(page, app) -> None:  # type: ignore[no-untyped-def]
    assert documents_shown(page) == 5
    table = page.locator("#vja-docs").inner_text()
    assert "000_8488b4652d8655bb.txt" in table and "VI" in table and "FR" in table
    welcome = page.locator("#vja-chat .vja-welcome").inner_text()
    assert "I can answer from 5 documents" in welcome and "JETRO được thành lập năm nào?" in welcome


def test_an_answer_streams_with_a_badge_that_opens_the_whole_document_at_its_evidence(page) -> None:  # type: ignore[no-untyped-def]
    reply = ask(page, QUESTION)
    badge = reply.locator("sup.vja-cite a").first
    assert badge.is_visible() and "vja-supported" in badge.locator("xpath=..").get_attribute("class")
    timings = reply.locator(".vja-timings").inner_text()
    assert f"{TEST_MODEL} answered from retrieved passages" in timings
    assert "first token" in timings and "total" in timings
    target = badge.get_attribute("href")
    details = reply.locator(f"details:has({target})")
    assert details.get_attribute("open") is None  # closed until the badge is clicked
    badge.click()
    page.wait_for_function(f"() => document.querySelector('{target}').closest('details').open")
    mark = reply.locator(target)
    assert mark.evaluate("m => m.tagName") == "MARK" and mark.inner_text().strip() and mark.is_visible()
    assert mark.evaluate("m => getComputedStyle(m).backgroundColor") == "rgb(253, 230, 138)"
    quote = reply.locator(f"blockquote:has({target})").inner_text()
    assert quote.startswith("date 2020-10-25") and "(whole document)" in details.inner_text()


def test_the_conversation_survives_a_reload_and_new_chat_clears_it(page) -> None:  # type: ignore[no-untyped-def]
    ask(page, QUESTION)
    page.wait_for_timeout(500)  # the conversation is saved in the browser after the reply
    page.reload()
    page.wait_for_selector("#vja-chat .message.bot .vja-timings")
    assert QUESTION in page.locator("#vja-chat").inner_text()
    assert page.locator("#vja-export-md").is_visible() is False  # exports belong to a new answer only
    page.click("#vja-new-chat")
    page.wait_for_selector("#vja-chat .vja-welcome")
    assert page.locator("#vja-chat .message").count() == 0
    page.reload()
    page.wait_for_selector("#vja-chat .vja-welcome")
    assert QUESTION not in page.locator("#vja-chat").inner_text()


def test_two_sessions_keep_their_own_conversations_and_the_second_sees_its_place_in_the_queue(
        page, browser, app) -> None:  # type: ignore[no-untyped-def]
    other = browser.new_context()
    try:
        second = other.new_page()
        second.set_default_timeout(TIMEOUT)
        second.goto(app[0])
        second.wait_for_selector("#vja-chat .vja-welcome")
        page.locator("#vja-question textarea").fill(QUESTION)
        page.locator("#vja-question textarea").press("Enter")
        page.wait_for_selector("#vja-chat .message.bot")  # the first question holds the model
        ask_again = "Who is the director of NIC?"
        second.locator("#vja-question textarea").fill(ask_again)
        second.locator("#vja-question textarea").press("Enter")
        second.wait_for_function("() => /queue: \\d+\\/\\d+/.test(document.body.innerText)")  # waits, and says so
        ask(second, ask_again)  # then answered
        page.wait_for_selector("#vja-chat .message.bot .vja-timings")
        first_chat, second_chat = page.locator("#vja-chat").inner_text(), second.locator("#vja-chat").inner_text()
        assert QUESTION in first_chat and ask_again not in first_chat
        assert ask_again in second_chat and QUESTION not in second_chat
    finally:
        other.close()


def test_an_answer_can_be_exported_as_markdown_and_json(page) -> None:  # type: ignore[no-untyped-def]
    ask(page, QUESTION)
    with page.expect_download() as md:
        page.click("#vja-export-md")
    text = Path(md.value.path()).read_text(encoding="utf-8")
    assert text.startswith(f"# {QUESTION}") and "## Sources" in text and "  > " in text
    with page.expect_download() as js:
        page.click("#vja-export-json")
    import json

    data = json.loads(Path(js.value.path()).read_text(encoding="utf-8"))
    assert data["question"] == QUESTION and data["citations"] and data["mode"] == "retrieval"


FACT = ("Harbour lights of Quy Nhon\n"
        "The Quy Nhon harbour lighthouse was painted blue and white in 1911 by the engineer Tran Van Minh. "
        "It stands forty metres tall on the northern cape.\n")


def test_an_uploaded_file_is_answered_from_then_deleted(page, app, tmp_path) -> None:  # type: ignore[no-untyped-def]
    path = tmp_path / "quy nhon lighthouse.txt"
    path.write_text(FACT, encoding="utf-8")
    page.locator("#vja-upload input[type=file]").set_input_files(str(path))
    page.wait_for_selector("#vja-docs-status .vja-ok")
    assert "added quy nhon lighthouse.txt" in page.locator("#vja-docs-status").inner_text()
    page.wait_for_function(f"() => {ROWS} === 6")
    stored = app[1].settings.uploads / "quy nhon lighthouse.txt"
    assert stored.read_text(encoding="utf-8") == FACT  # kept under our folder, not Gradio's temp file
    reply = ask(page, "What colour is the Quy Nhon harbour lighthouse?")  # the 135M model answers this one
    assert "white" in reply.inner_text().split("Sources")[0] and "quy nhon lighthouse.txt" in reply.inner_text()
    page.locator("#vja-chosen input").click()
    page.get_by_role("option", name="quy nhon lighthouse.txt", exact=False).click()
    page.keyboard.press("Escape")
    page.click("#vja-delete")
    page.wait_for_function(f"() => {ROWS} === 5")
    assert "deleted quy nhon lighthouse.txt" in page.locator("#vja-docs-status").inner_text()
    assert all(d["filename"] != "quy nhon lighthouse.txt" for d in app[1].documents())
    assert not stored.exists()  # our copy goes with it


def test_a_rejected_file_and_a_bad_question_show_their_reason(page, app, tmp_path) -> None:  # type: ignore[no-untyped-def]
    bad = tmp_path / "scan.pdf"  # a type the page takes, but not a PDF inside
    bad.write_bytes(b"%PDF-1.4 cut short")
    page.locator("#vja-upload input[type=file]").set_input_files(str(bad))
    page.wait_for_selector("#vja-docs-status .vja-error")
    status = page.locator("#vja-docs-status").inner_text()
    assert "scan.pdf" in status and "Traceback" not in status, status
    assert documents_shown(page) == 5  # nothing stored was touched
    reply = ask(page, "x" * 2500)
    text = reply.inner_text()
    assert "⚠" in text and "2500 characters long" in text and "fix:" in text and "Traceback" not in text


def test_serving_beyond_this_machine_without_a_password_is_refused(tmp_path) -> None:
    env = {"VJA_HOME": str(tmp_path), "PATH": "/usr/bin:/bin"}
    cli = str(Path(sys.executable).parent / "vjassistant")
    out = subprocess.run([cli, "serve", "--host", "0.0.0.0"], env=env,
                         capture_output=True, text=True, timeout=120)
    assert out.returncode == 2 and "Refusing to serve on 0.0.0.0 without authentication" in out.stderr
    assert "VJA_AUTH" in out.stderr


def test_a_model_chosen_in_settings_answers_the_next_question(page) -> None:  # type: ignore[no-untyped-def]
    page.get_by_role("tab", name="Settings").click()
    page.locator("#vja-model input").click()
    page.get_by_role("option", name=SPARE_MODEL).click()
    reply = ask(page, QUESTION)
    # not a preset, it gets the configured context, which holds the whole collection: no retrieval
    assert f"{SPARE_MODEL} answered from the whole collection" in reply.locator(".vja-timings").inner_text()


@pytest.fixture
def open_page(browser):  # type: ignore[no-untyped-def]
    """Serve ``assistant``'s page and open it in a fresh browser context; everything closed after."""
    opened = []

    def open_(assistant: Assistant):  # type: ignore[no-untyped-def]
        demo = build_ui(assistant)
        url = launch(demo, "127.0.0.1", free_port(), block=False)
        context = browser.new_context()
        opened.append((demo, context))
        pg = context.new_page()
        pg.set_default_timeout(TIMEOUT)
        pg.goto(url)
        pg.wait_for_selector("#vja-chat .vja-welcome")
        return pg

    yield open_
    for demo, context in opened:
        context.close()
        demo.close()


def test_a_missing_model_is_reported_with_the_command_that_pulls_it(open_page, real_assistant, tmp_path
                                                                     ) -> None:  # type: ignore[no-untyped-def]
    doc = tmp_path / "lighthouse.txt"
    doc.write_text(FACT, encoding="utf-8")
    a = Assistant(store_dir=tmp_path / "store", models_dir=tmp_path / "no-models", model=TEST_MODEL,
                  embedder=real_assistant.embedder)
    assert a.ingest([doc]).added
    page = open_page(a)
    assert "I can answer from 1 document" in page.locator("#vja-chat .vja-welcome").inner_text()
    text = ask(page, "What colour is the Quy Nhon harbour lighthouse?").inner_text()
    assert "⚠" in text and f"Model '{TEST_MODEL}' is not downloaded yet" in text, text
    assert f"fix: vjassistant models pull {TEST_MODEL}" in text and "Traceback" not in text


def test_an_unreadable_store_is_reported_on_the_page_with_its_fix(open_page, real_assistant, tmp_path
                                                                  ) -> None:  # type: ignore[no-untyped-def]
    store = tmp_path / "store"
    store.mkdir()
    (store / "chroma.sqlite3").write_bytes(b"not a database" * 1000)  # damaged, as after a bad copy
    page = open_page(Assistant(store_dir=store, model=TEST_MODEL, embedder=real_assistant.embedder,
                               chat_model=real_assistant.chat_model))
    for where in ("#vja-chat .vja-welcome", "#vja-docs-status"):
        text = page.locator(where).inner_text()
        assert "Cannot open the vector store" in text and "fix: " in text and "Traceback" not in text, text
    assert documents_shown(page) == 0
    text = ask(page, QUESTION).inner_text()
    assert "⚠" in text and "Cannot open the vector store" in text and "Traceback" not in text
