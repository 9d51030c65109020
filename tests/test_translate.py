"""Translating a checked answer into the question's language: when it happens, and which
translations are refused. Conftest's scripted chat model stands in for the LLM (these are the
rules; the real model translates in tests/test_e2e.py); the checker is the real one, with e5."""
from __future__ import annotations

import pytest

from vjassistant.check import check_statements
from vjassistant.citations import resolve
from vjassistant.embeddings import E5Embedder
from vjassistant.retrieval import Passage
from vjassistant.support import SupportChecker
from vjassistant.translate import needs_translation, translate_answer, translation_messages

from .conftest import ScriptedModel

DOC = ("Students came to Wittenberg to hear Luther speak. The fee was 30 million pounds a year. "
       "The forum opened in May 2023.")


@pytest.fixture(scope="module")
def checker() -> SupportChecker:
    return SupportChecker(E5Embedder())  # across languages the check is the embedder's


@pytest.fixture
def translate(checker):
    """Check ``answer`` against DOC, then translate it with the scripted ``reply``."""
    p = Passage(chunk_id="c1", doc_id="d", source="/x/a.txt", filename="a.txt", title="Luther", date="",
                language="en", start=0, end=len(DOC), text=DOC, number=1)

    def run(answer: str, reply: str, model: ScriptedModel | None = None):
        shown, _ = resolve(answer, [p], checker)
        report = check_statements(shown, [p], checker)
        assert [st.verdict for st in report.statements] == ["supported"]
        return translate_answer(model or ScriptedModel(reply), shown, "vi", report, [p], checker)
    return run


def test_only_answers_in_a_passage_language_other_than_the_questions_are_translated():
    assert needs_translation("students [1]", "vi", ["en"])
    assert not needs_translation("các sinh viên [1]", "vi", ["en"])   # already Vietnamese
    assert not needs_translation("Peyton Manning [1]", "vi", ["en"])  # names read the same everywhere
    assert not needs_translation("1.345.596 [1]", "vi", ["en"])
    assert not needs_translation("students [1]", "en", ["en"])


def test_a_translation_is_checked_again_against_the_same_passages(translate):
    model = ScriptedModel("Các sinh viên đã đến Wittenberg [1].")
    done = translate("Students came to Wittenberg [1].", "", model)
    assert done is not None
    text, report = done
    assert text == "Các sinh viên đã đến Wittenberg [1]."
    st = report.statements[0]
    assert st.verdict == "supported" and not st.citations[0].missing
    assert text[st.start:st.end].startswith(st.text.rstrip("."))
    assert [c.statement for c in st.citations] == [st.text]
    assert st.citations[0].quote.startswith("Students came to Wittenberg")  # the evidence, in the passage
    prompt = model.calls[0]
    assert prompt[0]["role"] == "system" and "Vietnamese" in prompt[0]["content"]
    assert prompt[-1] == {"role": "user", "content": "Students came to Wittenberg [1]."}
    assert translation_messages("Students came to Wittenberg [1].", "vi") == prompt


def test_translations_that_change_markers_numbers_statements_or_meaning_are_refused(translate):
    answer = "The fee was 30 million pounds a year [1]."
    assert translate(answer, "Phí là 30 triệu bảng mỗi năm [1].") is not None
    for bad in ("Phí là 30 triệu bảng mỗi năm.",                 # marker lost
                "Phí là 3 triệu bảng mỗi năm [1].",              # number changed
                "Phí là 30 tỷ bảng mỗi năm [1].",                # scale changed
                "Phí là 30 triệu bảng mỗi năm [1]. Rất cao [1].",  # a statement added
                "The fee was 30 million pounds a year [1].",     # not translated
                ""):
        assert translate(answer, bad) is None, bad
    # Same shape, no meaning left (what the 135M model wrote for a sentence of the bundled corpus):
    # the check against the passage refuses it.
    assert translate("Students came to Wittenberg to hear Luther speak [1].", "nhà nào, phố nàng nào [1].") is None


def test_the_switch_reads_true_and_false_from_the_environment(monkeypatch):
    from vjassistant import Settings
    from vjassistant.errors import ConfigError

    assert Settings.from_env().translate_answers is False  # off by default: translations are unverified
    monkeypatch.setenv("VJA_TRANSLATE_ANSWERS", "1")
    assert Settings.from_env().translate_answers is True
    monkeypatch.setenv("VJA_TRANSLATE_ANSWERS", "maybe")
    with pytest.raises(ConfigError, match="VJA_TRANSLATE_ANSWERS"):
        Settings.from_env()


def test_a_month_name_written_as_a_number_is_the_same_number(translate):
    answer = "The forum opened in May 2023 [1]."
    done = translate(answer, "Diễn đàn khai mạc vào tháng 5 năm 2023 [1].")
    assert done is not None and done[0].startswith("Diễn đàn")
    assert translate(answer, "Diễn đàn khai mạc vào tháng 6 năm 2023 [1].") is None
