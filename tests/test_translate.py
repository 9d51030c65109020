"""Translating a checked answer into the question's language: when it happens, and which
translations are refused (a scripted chat model stands in for the LLM: these are the rules;
the real models run in tests/test_e2e.py)."""
from __future__ import annotations

from collections.abc import Iterator, Sequence

from vjassistant.check import check_statements
from vjassistant.citations import resolve
from vjassistant.retrieval import Passage
from vjassistant.support import SupportChecker
from vjassistant.translate import needs_translation, translate_answer, translation_messages

DOC = "Students came to Wittenberg to hear Luther speak. The fee was 30 million pounds a year."


class Scripted:
    """A chat model that replies with a fixed text and records the prompt."""

    name, n_ctx = "scripted", 0

    def __init__(self, reply: str) -> None:
        self.reply, self.seen = reply, []

    def stream(self, messages: Sequence[dict[str, str]], *, max_tokens: int, temperature: float,
               stop: Sequence[str] = ()) -> Iterator[str]:
        self.seen.append(list(messages))
        yield from self.reply.split(" ")[:1]
        for word in self.reply.split(" ")[1:]:
            yield " " + word

    def count_tokens(self, text: str) -> int:
        return len(text.split())


def checked(text: str):
    p = Passage(chunk_id="c1", doc_id="d", source="/x/a.txt", filename="a.txt", title="Luther", date="",
                language="en", start=0, end=len(DOC), text=DOC, number=1)
    checker = SupportChecker()
    shown, cites = resolve(text, [p], checker)
    return shown, cites, check_statements(shown, [p], checker)


def test_only_answers_in_a_passage_language_other_than_the_questions_are_translated():
    assert needs_translation("students [1]", "vi", ["en"])
    assert not needs_translation("các sinh viên [1]", "vi", ["en"])   # already Vietnamese
    assert not needs_translation("Peyton Manning [1]", "vi", ["en"])  # names read the same everywhere
    assert not needs_translation("1.345.596 [1]", "vi", ["en"])
    assert not needs_translation("students [1]", "en", ["en"])


def test_a_translation_keeps_the_check_and_the_citations_moved_onto_it():
    text, cites, report = checked("Students came to Wittenberg [1].")
    model = Scripted("Các sinh viên đã đến Wittenberg [1].")
    done = translate_answer(model, text, "vi", report, cites)
    assert done is not None and done.text == "Các sinh viên đã đến Wittenberg [1]."
    st = done.report.statements[0]
    assert st.verdict == report.statements[0].verdict == "supported"
    assert done.text[st.start:st.end].startswith(st.text.rstrip("."))
    assert [c.statement for c in done.citations] == [st.text]
    assert done.citations[0].quote == cites[0].quote  # the evidence is the original's
    prompt = model.seen[0]
    assert prompt[0]["role"] == "system" and "Vietnamese" in prompt[0]["content"]
    assert prompt[-1] == {"role": "user", "content": text}
    assert translation_messages(text, "vi") == prompt


def test_translations_that_change_markers_numbers_or_statements_are_refused():
    text, cites, report = checked("The fee was 30 million pounds [1].")
    assert translate_answer(Scripted("Phí là 30 triệu bảng [1]."), text, "vi", report, cites) is not None
    for bad in ("Phí là 30 triệu bảng.",                 # marker lost
                "Phí là 3 triệu bảng [1].",              # number changed
                "Phí là 30 tỷ bảng [1].",                # scale changed
                "Phí là 30 triệu bảng [1]. Rất cao [1].",  # a statement added
                "The fee was 30 million pounds [1].",    # not translated
                ""):
        assert translate_answer(Scripted(bad), text, "vi", report, cites) is None, bad


def test_the_switch_reads_true_and_false_from_the_environment(monkeypatch):
    import pytest

    from vjassistant import Settings
    from vjassistant.errors import ConfigError

    assert Settings.from_env().translate_answers is False  # off by default: translations are unverified
    monkeypatch.setenv("VJA_TRANSLATE_ANSWERS", "1")
    assert Settings.from_env().translate_answers is True
    monkeypatch.setenv("VJA_TRANSLATE_ANSWERS", "maybe")
    with pytest.raises(ConfigError, match="VJA_TRANSLATE_ANSWERS"):
        Settings.from_env()
