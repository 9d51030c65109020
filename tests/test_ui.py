"""The browser UI with the real parts: the 135M model, the e5 embedder, Chroma in a temp dir.

The chat function is called directly (as Gradio would), the Blocks app is served on a free
port and fetched over HTTP, and when Chromium is installed the page is rendered headless to
check that the JavaScript front-end really draws the title and the example questions, and
that a checked answer keeps its verdict badges, links and <mark>s through Gradio's sanitiser
(a badge click opens its own answer's passage). The rendering of verdicts is unit-tested on
a hand-built checked Answer.
"""
from __future__ import annotations

import html
import json
import re
import shutil
import subprocess
from collections.abc import Iterator
from pathlib import Path

import pytest

from vjassistant import Answer, Assistant, Citation, Passage, Settings
from vjassistant.documents import bundled_corpus
from vjassistant.grounding.check import CitationReport, StatementCheck
from vjassistant.grounding.citations import statements
from vjassistant.ui import CSS, EXAMPLES, SEARCHING, build_ui, chat_fn, format_answer, history_pairs, launch

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
        assert "<details>" in final and '<blockquote class="vja-passage"' in final and "chars " in final
        assert "Citations checked:" in final and re.search(r'<sup class="vja-cite vja-\w+" title=', final)
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
    from vjassistant.ui_actions import documents_view, welcome
    shown = welcome(empty, EXAMPLES)
    assert "No documents yet" in shown and "Documents</b> panel" in shown and documents_view(empty) == ([], [], "")


def test_the_first_screen_lists_what_the_assistant_knows(assistant: Assistant) -> None:
    from vjassistant.ui_actions import documents_view, welcome
    shown = welcome(assistant, EXAMPLES)
    assert "I can answer from 5 documents" in shown and all(html.escape(q) in shown for q in EXAMPLES)
    assert shown.count("<li><b>") == 5 and "Hanoi" in shown  # a line of each document under its title
    rows, choices, error = documents_view(assistant)
    assert [r[1] for r in rows] == sorted(CORPUS_FILES) and {r[2] for r in rows} == {"EN", "FR", "VI"}
    assert all(r[3] > 0 and len(r[5]) == 10 for r in rows)  # chunks, and the day added (UTC): one line
    assert len(choices) == 5 and not error


def test_an_unreadable_store_shows_its_error_and_fix_instead_of_the_collection(tmp_path: Path) -> None:
    from vjassistant.ui_actions import documents_view, welcome
    store = tmp_path / "store"
    store.mkdir()
    (store / "chroma.sqlite3").write_bytes(b"not a database" * 1000)
    broken = Assistant(store_dir=store, model=TEST_MODEL)
    rows, choices, error = documents_view(broken)
    assert rows == [] and choices == [] and "Cannot open the vector store" in error and "fix: " in error
    assert "Cannot open the vector store" in welcome(broken, EXAMPLES)


def test_format_answer_escapes_document_text() -> None:
    p = Passage(chunk_id="c1", doc_id="d1", source="/x/a.txt", filename="a<b>.txt", title="<script>x</script>",
                date="2020-10-25", language="en", start=10, end=60, text="JETRO & NIC signed on 19 Oct 2020.",
                number=1)
    c = Citation(marker=1, doc_id="d1", filename=p.filename, source=p.source, title=p.title, chunk_id="c1",
                 start=10, end=44, quote="JETRO & NIC signed on 19 Oct 2020.", statement="They signed on 19 Oct 2020.",
                 verdict="supported", score=1.0)
    shown = format_answer(Answer(question="q", text="They signed on 19 Oct 2020 [1].", citations=[c, c],
                                 passages=[p]))
    assert "<script>" not in shown and "&lt;script&gt;" in shown and "a&lt;b&gt;.txt" in shown
    assert shown.count("<details>") == 1 and '<sup class="vja-cite vja-supported"' in shown
    assert re.search(r'<mark id="vja-\w+-1-at">JETRO &amp; NIC signed on 19 Oct 2020.</mark>', shown)
    assert "2020-10-25 · English" in shown and "chars 10–44" in shown
    assert "Citations checked" not in shown  # no check, no figures
    revised = format_answer(Answer(question="q", text="They signed on 19 Oct 2020 [1].", citations=[c], passages=[p],
                                   mode="collection", revised=True, timings={"first_token_s": 0.6, "total_s": 3.1},
                                   model="qwen2.5-coder-1.5b"))
    assert ("qwen2.5-coder-1.5b answered from the whole collection; first token 0.6 s; total 3.1 s; "
            "the check revised the streamed text") in revised
    abstained = format_answer(Answer(question="q", text="No <b>answer</b>.", abstained=True, reason="low score"))
    assert "&lt;b&gt;" in abstained and "why: low score" in abstained and "Sources" not in abstained


DOC = 'Intro.\nJETRO & NIC signed the <MoU> on 19 Oct 2020 in Hanoi.\n\n# Kishida spoke of *cooperation*.'
TEXT = "JETRO and NIC signed the MoU on 19 Oct 2020 [1]. Kishida spoke in 1994 [1, 2]. The sky is green."


def cite(p: Passage, statement: str, evidence: str, verdict: str, score: float, missing=()) -> Citation:
    start = DOC.index(evidence) if p.number == 1 else p.start + p.text.index(evidence)
    return Citation(marker=p.number, doc_id=p.doc_id, filename=p.filename, source=p.source, title=p.title,
                    chunk_id=p.chunk_id, start=start, end=start + len(evidence), quote=evidence, statement=statement,
                    verdict=verdict, score=score, missing=list(missing))


def checked_answer(question: str = "q") -> Answer:
    """A hand-built checked answer: one supported, one partly supported (two citations), one uncited sentence."""
    p1 = Passage(chunk_id="c1", doc_id="d1", source="/x/a.txt", filename="a.txt", title="A & <b>", date="2020-10-25",
                 language="en", start=7, end=len(DOC), text=DOC[7:], number=1)
    p2 = Passage(chunk_id="c2", doc_id="d2", source="/x/b.txt", filename="b.txt", title="B", date="", language="vi",
                 start=100, end=120, text="Kishida phát biểu.", number=2)
    s1, s2, s3 = statements(TEXT)
    c1 = cite(p1, s1.text, "JETRO & NIC signed the <MoU> on 19 Oct 2020", "supported", 0.93)
    c3 = cite(p1, s2.text, "19 Oct 2020 in Hanoi", "partial", 0.5, ["1994"])  # overlaps c1: one <mark>
    c4 = cite(p2, s2.text, "Kishida phát biểu", "unverified", 0.0)
    check = CitationReport([StatementCheck(s1.text, s1.start, s1.end, [1], "supported", 0.93, [c1], precise=[1]),
                            StatementCheck(s2.text, s2.start, s2.end, [1, 2], "partial", 0.5, [c3, c4]),
                            StatementCheck(s3.text, s3.start, s3.end, [], "uncited", 0.0)],
                           citation_recall=0.3333, citation_precision=0.3333, citations=3)
    return Answer(question=question, text=TEXT, citations=[c1, c3, c4], passages=[p1, p2], check=check)


def badges(shown: str) -> list[tuple[str, str, str]]:
    """(classes, title, number) of each inline badge of the answer part."""
    body = shown.split('<div class="vja-sources">')[0]
    return re.findall(r'<sup class="([^"]*)" title="([^"]*)"><a href="#[^"]+">(\d+)</a></sup>', body)


def test_badges_take_the_verdict_of_their_citation_for_their_sentence() -> None:
    found = badges(format_answer(checked_answer()))
    assert [(cls, n) for cls, _, n in found] == [("vja-cite vja-supported", "1"), ("vja-cite vja-partial", "1"),
                                                 ("vja-cite vja-unverified", "2")]
    assert "supported · score 0.93" in found[0][1]
    assert "partial · score 0.50 · not in the passage: 1994" in html.unescape(found[1][1])


def test_each_badge_links_to_its_evidence_in_this_answer() -> None:
    shown = format_answer(checked_answer())
    ids = re.findall(r'<details><summary>.*?</summary><blockquote class="vja-passage" id="([^"]+)"><mark id="([^"]+)">',
                     shown)
    links = re.findall(r'<a href="#([^"]+)">(\d)</a>', shown)
    assert len(ids) == 2 and all(at == f"{quote}-at" for quote, at in ids)
    assert {target for target, _ in links} == {at for _, at in ids}
    assert all(target == ids[int(n) - 1][1] for target, n in links)  # the first evidence span of its source
    other = format_answer(checked_answer("another question"))
    assert not {i for pair in ids for i in pair} & set(re.findall(r'id="([^"]+)"', other))  # ids never shared


def test_evidence_is_marked_exactly_and_escaped() -> None:
    shown = format_answer(checked_answer())
    marks = re.findall(r"<mark[^>]*>(.*?)</mark>", shown, flags=re.S)
    # the two spans in passage 1 overlap: one mark over both; passage 2 has its own
    assert [html.unescape(m) for m in marks] == ["JETRO & NIC signed the <MoU> on 19 Oct 2020 in Hanoi",
                                                 "Kishida phát biểu"]
    assert "<MoU>" not in shown and "&lt;MoU&gt;" in shown and "A &amp; &lt;b&gt;" in shown
    # the passage around the evidence is shown too, and no blank line ends Gradio's HTML block
    assert "</mark>.<br><br># Kishida spoke of *cooperation*." in shown
    assert "\n\n" not in shown.split('<div class="vja-sources">')[1]
    assert "not in the passage: 1994" in shown and "partial</b> · score 0.50" in shown


def test_the_whole_document_is_shown_around_the_evidence_and_uncited_passages_behind_a_toggle() -> None:
    answer = checked_answer()
    p3 = Passage(chunk_id="c3", doc_id="d3", source="/x/c.txt", filename="c.txt", title="C", date="", language="fr",
                 start=0, end=20, text="Un passage non cité, assez long pour être coupé.", number=3)
    answer.passages.append(p3)
    shown = format_answer(answer, documents={"d1": DOC})
    first = shown.split('<blockquote class="vja-passage"')[1]
    assert first.split(">", 1)[1].startswith("Intro.<br>") and "chars 0–" in shown and "(whole document)" in shown
    assert re.search(r'<mark id="[^"]+">JETRO &amp; NIC signed the &lt;MoU&gt; on 19 Oct 2020 in Hanoi</mark>', first)
    # passage 2's document was not given: its passage is shown as the model read it
    assert "Kishida phát biểu" in shown.split('<blockquote class="vja-passage"')[2]
    toggle = re.search(r'<details class="vja-uncited"><summary[^>]*>1 more source given to the model, not cited'
                       r'</summary>(.*?)</details>', shown)
    assert toggle and "[3] <b>C</b>" in toggle.group(1) and "Un passage non cité" in toggle.group(1)


def test_unsupported_and_partial_sentences_are_marked() -> None:
    shown = format_answer(checked_answer())
    assert re.search(r'<span class="vja-unsupported" title="no citation: not supported by the sources">'
                     r'The sky is green\.</span><span class="vja-flag"> \(not supported by the sources\)</span>', shown)
    assert re.search(r'<span class="vja-partly" title="partly supported \(score 0.50\)">Kishida spoke in 1994'
                     r'.*?</span><span class="vja-flag vja-partly-flag"> \(partly supported\)</span>', shown)
    assert shown.index("JETRO and NIC") < shown.index('class="vja-partly"')  # the supported sentence is not marked
    assert "Citations checked: 1/3 statements supported · recall 0.33 · precision 0.33" in shown
    # the model never sees badges or labels in the history
    plain = history_pairs([["q", shown]])[0][1]
    assert plain == "JETRO and NIC signed the MoU on 19 Oct 2020. Kishida spoke in 1994. The sky is green."


def test_without_a_check_uncited_sentences_are_still_marked() -> None:
    answer = checked_answer()
    answer.check = None
    shown = format_answer(answer)
    assert '<span class="vja-unsupported" title="no citation: not supported by the sources">The sky is green.' in shown
    assert "vja-partly" not in shown and "Citations checked" not in shown
    assert [cls for cls, _, _ in badges(shown)] == ["vja-cite vja-supported", "vja-cite vja-partial",
                                                   "vja-cite vja-unverified"]


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


# Runs in the page after Gradio drew the chat: clicks the badge of the second answer and records what happened.
PROBE = """<script>
function vjaProbe() {
  const links = document.querySelectorAll('#vja-chat sup.vja-cite a[href^="#vja-"]');
  if (links.length < 6) { setTimeout(vjaProbe, 200); return; }
  const link = links[3], target = document.getElementById(link.getAttribute('href').slice(1));
  const before = target.closest('details').open;
  link.click();
  setTimeout(() => document.body.setAttribute('data-vja-probe', JSON.stringify({
    before, after: target.closest('details').open, path: location.pathname,
    details: Array.from(document.querySelectorAll('#vja-chat details')).map(d => d.open),
    badge: getComputedStyle(link.closest('sup')).backgroundColor, title: link.closest('sup').title,
    marks: Array.from(target.closest('blockquote').querySelectorAll('mark')).map(m => m.textContent),
    passage: target.closest('details').textContent, flag: document.querySelector('#vja-chat .vja-flag').textContent,
    footer: document.querySelector('#vja-chat .vja-check').textContent})), 500);
}
setTimeout(vjaProbe, 300);
</script>"""


@pytest.mark.skipif(CHROMIUM is None, reason="chromium is not installed (apt-get install chromium)")
def test_checked_answer_renders_and_badges_open_their_passage_in_a_browser(tmp_path: Path) -> None:
    """Gradio's chat sanitiser keeps the badges' classes, titles and links, the ids, <details> and <mark>;
    clicking a badge of the second answer opens that answer's passage (the browser opens a closed
    <details> holding the link's target), not the first answer's."""
    import gradio as gr

    messages = []
    for question in ("first", "second"):
        messages += [{"role": "user", "content": question},
                     {"role": "assistant", "content": format_answer(checked_answer(question))}]
    with gr.Blocks() as demo:
        gr.Chatbot(value=messages, elem_id="vja-chat", height=500)
    port = free_port()
    demo.launch(server_name="127.0.0.1", server_port=port, prevent_thread_lock=True, quiet=True, ssr_mode=False,
                css=CSS, head=PROBE)
    try:
        cmd = [CHROMIUM, "--headless", "--no-sandbox", "--disable-gpu", "--no-first-run", "--disable-sync",
               "--disable-background-networking", "--disable-component-update", "--disable-dev-shm-usage",
               f"--user-data-dir={tmp_path / 'profile'}", "--virtual-time-budget=20000", "--dump-dom",
               f"http://127.0.0.1:{port}/"]
        out = subprocess.run(cmd, check=False, capture_output=True, text=True, timeout=120).stdout
    finally:
        demo.close()
    found = re.search(r'data-vja-probe="([^"]*)"', out)
    assert found, out[-2000:]
    probe = json.loads(html.unescape(found.group(1)))
    # badges: [1] [1] [2] in each answer; links[3] is the second answer's first badge, passage 1
    assert probe["before"] is False and probe["after"] is True and probe["path"] == "/"
    assert probe["details"] == [False, False, True, False]  # only the second answer's passage 1 opened
    assert probe["badge"] == "rgb(220, 252, 231)" and probe["title"].startswith("[1] supported · score 0.93")
    assert probe["marks"] == ["JETRO & NIC signed the <MoU> on 19 Oct 2020 in Hanoi"]
    assert "# Kishida spoke of *cooperation*." in probe["passage"]  # no Markdown inside the passage
    assert probe["flag"] == " (partly supported)"
    assert probe["footer"].startswith("Citations checked: 1/3 statements supported")


# --- documents, exports and serving: plain functions of the page (ui_actions.py, ui.py) -------------
@pytest.mark.parametrize("name,safe", [
    ("report.txt", "report.txt"),
    ("../../etc/passwd.txt", "passwd.txt"),
    ("..\\..\\windows\\win.ini.md", "win.ini.md"),
    ("/abs/path/notes.md", "notes.md"),
    ("..txt", "upload.txt"),
    (".hidden.html", "hidden.html"),
    ("a<b>|c?.pdf", "a_b__c_.pdf"),
    ("báo cáo 2022.txt", "báo cáo 2022.txt"),
    ("", "upload"),
    ("x" * 300 + ".txt", "x" * 116 + ".txt"),
])
def test_uploaded_file_names_are_never_paths(name: str, safe: str) -> None:
    from vjassistant.ui_actions import safe_name

    assert safe_name(name) == safe
    assert "/" not in safe_name(name) and "\\" not in safe_name(name) and not safe_name(name).startswith(".")


def test_uploads_are_copied_under_safe_names_and_bounded(tmp_path: Path) -> None:
    from vjassistant.ui_actions import store_uploads

    incoming = tmp_path / "in"
    (incoming / "a").mkdir(parents=True)
    (incoming / "b").mkdir()
    first, second = incoming / "a" / "notes.txt", incoming / "b" / "notes.txt"
    first.write_text("one", encoding="utf-8")
    second.write_text("two", encoding="utf-8")
    big = incoming / "big.txt"
    big.write_bytes(b"x" * 2001)
    odd = incoming / "sheet.xlsx"
    odd.write_bytes(b"PK")
    folder = tmp_path / "uploads"
    kept, refused = store_uploads([first, second, first, big, odd, incoming / "gone.txt"], folder, 2000)
    assert [p.name for p in kept] == ["notes.txt", "notes-2.txt", "notes.txt"]  # same bytes: the same file
    assert [p.read_text(encoding="utf-8") for p in kept] == ["one", "two", "one"]
    assert all(p.parent == folder for p in kept)
    reasons = dict(refused)
    assert "over the 0 MB limit" in reasons["big.txt"] or "limit" in reasons["big.txt"]
    assert "unsupported type" in reasons["sheet.xlsx"] and "did not arrive" in reasons["gone.txt"]
    assert sorted(p.name for p in folder.iterdir()) == ["notes-2.txt", "notes.txt"]


def test_an_upload_of_a_stored_text_under_another_name_says_so_and_keeps_no_copy(tmp_path: Path) -> None:
    from vjassistant.testing import FakeEmbedder
    from vjassistant.ui_actions import ingest_uploads

    # A preset never pulled into this models folder: the upload still lands, and says how to get the model.
    a = Assistant(store_dir=tmp_path / "store", uploads_dir=tmp_path / "uploads", embedder=FakeEmbedder(),
                  model="smollm2-135m", models_dir=tmp_path / "models")
    one, two = tmp_path / "ferry.txt", tmp_path / "ferry copy.txt"
    for path in (one, two):
        path.write_text("Ferry timetable\nThe ferry leaves at seven from the old pier.\n", encoding="utf-8")
    added = ingest_uploads(a, [one])
    assert "added ferry.txt" in added and "vjassistant models pull smollm2-135m" in added
    status = ingest_uploads(a, [two])
    assert "ferry copy.txt (already stored as ferry.txt)" in status and len(a.documents()) == 1
    assert sorted(p.name for p in (tmp_path / "uploads").iterdir()) == ["ferry.txt"]


def test_a_file_that_fails_to_ingest_says_why_and_leaves_the_store_intact(assistant: Assistant, tmp_path: Path
                                                                          ) -> None:
    from vjassistant.ui_actions import ingest_paths

    before = assistant.documents()
    broken = tmp_path / "broken.pdf"
    broken.write_bytes(b"%PDF-1.4 this is no PDF")
    shown = ingest_paths(assistant, [broken])
    assert 'class="vja-error"' in shown and "broken.pdf" in shown
    assert assistant.documents() == before


def test_an_answer_exports_as_markdown_and_json(tmp_path: Path) -> None:
    from vjassistant.ui_actions import answer_markdown, export_answer

    answer = checked_answer("Who signed?")
    answer.mode, answer.model = "retrieval", "smollm2-135m"
    text = answer_markdown(answer)
    assert text.startswith("# Who signed?\n\n" + TEXT)
    assert "- **[1] A & <b>** (`a.txt`, 2020-10-25, English), supported, score 0.93" in text
    assert "  > JETRO & NIC signed the <MoU> on 19 Oct 2020" in text and "_Answered by smollm2-135m" in text
    md, js = export_answer(answer, tmp_path)
    assert md.read_text(encoding="utf-8") == text
    data = json.loads(js.read_text(encoding="utf-8"))
    assert data["question"] == "Who signed?" and len(data["citations"]) == 3 and data["check"]["statements"]


@pytest.mark.parametrize("host,loopback", [("127.0.0.1", True), ("localhost", True), ("::1", True),
                                           ("127.0.1.1", True), ("0.0.0.0", False), ("192.168.1.4", False),
                                           ("example.org", False)])
def test_any_address_but_loopback_needs_a_password(host: str, loopback: bool, tmp_path: Path) -> None:
    from vjassistant.errors import ConfigError
    from vjassistant.ui import users_for

    if loopback:
        assert users_for(host, "") == []
    else:
        with pytest.raises(ConfigError, match="Refusing to serve") as exc:
            users_for(host, "")
        assert "VJA_AUTH" in exc.value.hint
    assert users_for(host, "ana:s3cr:et") == [("ana", "s3cr:et")]
    users = tmp_path / "users"
    users.write_text("# team\nana:one\n\nbao:two\n", encoding="utf-8")
    assert users_for(host, str(users)) == [("ana", "one"), ("bao", "two")]


@pytest.mark.parametrize("spec", ["nopassword", "ana:", ":pw", "/no/such/file"])
def test_a_bad_auth_setting_is_refused_with_the_fix(spec: str) -> None:
    from vjassistant.errors import ConfigError
    from vjassistant.ui import read_auth

    with pytest.raises(ConfigError) as exc:
        read_auth(spec)
    assert "VJA_AUTH" in exc.value.hint or "user:password" in exc.value.hint


def test_answer_language_choices() -> None:
    from vjassistant.errors import InputError
    from vjassistant.ui_actions import answer_language

    assert [answer_language(c) for c in ("auto", "English", "French", "Vietnamese", "vi", None)] == \
        [None, "en", "fr", "vi", "vi", None]
    with pytest.raises(InputError):
        answer_language("Klingon")


def test_the_named_endpoints_work_from_gradio_client(app_url: str, assistant: Assistant, tmp_path: Path) -> None:
    """ask (the Answer as JSON), ingest (an upload), documents and remove, as the README shows them."""
    from gradio_client import Client, handle_file

    client = Client(app_url, verbose=False)
    answer = client.predict("When was the NIC–JETRO cooperation agreement signed?", [], "auto", api_name="/ask")
    assert answer["question"].startswith("When was") and answer["mode"] in ("collection", "retrieval")
    assert answer["passages"] and ("citations" in answer)
    names = {d["filename"] for d in client.predict(api_name="/documents")}
    assert CORPUS_FILES <= names
    note = tmp_path / "api note.txt"
    note.write_text("The Hoi An ferry leaves every morning at seven o'clock from the old pier.\n", encoding="utf-8")
    status, *_ = client.predict([handle_file(str(note))], api_name="/ingest")
    assert "added api note.txt" in status
    assert "api note.txt" in {d["filename"] for d in client.predict(api_name="/documents")}
    assert client.predict("api note.txt", api_name="/remove")["removed_chunks"] >= 1
    assert "api note.txt" not in {d["filename"] for d in assistant.documents()}
    with pytest.raises(Exception, match="No stored document matches"):
        client.predict("no-such-file.txt", api_name="/remove")


def test_the_settings_offer_pulled_models_and_each_model_is_loaded_once(assistant: Assistant, tmp_path: Path
                                                                        ) -> None:
    from vjassistant.ui import _Views
    from vjassistant.ui_actions import pulled_models

    stray = tmp_path / "my-own.gguf"
    stray.write_bytes(b"GGUF")
    assert pulled_models(assistant.with_settings(models_dir=tmp_path)) == ["my-own.gguf"]
    offered = pulled_models(assistant)
    from vjassistant.models import PRESETS

    assert offered[0] == TEST_MODEL  # the configured one first, then only presets whose file is here
    assert all(Path(assistant.settings.models_dir, PRESETS[name].filename).is_file() for name in offered)
    views = _Views(assistant)
    assert views.get(None, None, None) is assistant  # the defaults are the served assistant
    fewer = views.get(TEST_MODEL, 2, 0.0)
    assert fewer.settings.top_k == 2 and fewer.chat_model is assistant.chat_model and fewer.store is assistant.store
    other = views.get(str(stray), 2, 0.0)
    assert other.settings.model == str(stray) and other.store is assistant.store
    assert other._chat_model is None  # loaded when it first answers, not when chosen
    assert views.get(TEST_MODEL, 2, 0.0) is fewer


def test_the_server_keeps_the_state_of_at_most_max_sessions_sessions() -> None:
    """Each session's state stays in memory until dropped; beyond max_sessions the oldest goes
    (docs/decisions.md#load: one kept about 75 KB for good)."""
    import gradio as gr

    with gr.Blocks() as demo:
        gr.Markdown("x")
    launch(demo, "127.0.0.1", free_port(), block=False, max_sessions=5)
    try:
        assert demo.state_session_capacity == 5
    finally:
        demo.close()
    assert Settings().max_sessions == 1000
