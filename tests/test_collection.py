"""Whole-collection mode: the documents as the prompt's fixed start, and its saved llama.cpp state.

The state tests run the real 135M model on a small collection (its context is 2,048 tokens);
the prompt and citation tests use the scripted model and fake embedder (conftest.py)."""
from __future__ import annotations

import json
from pathlib import Path

import pytest

from vjassistant import Assistant, Settings
from vjassistant.llm import LlamaCppModel
from vjassistant.models import PRESETS, model_identity
from vjassistant.testing import FakeEmbedder, ScriptedModel

from .conftest import TEST_MODEL, model_file

EN = ("Harbour report\nThe harbour bridge opened in 1932 after eight years of work. "
      "Its engineer was Maria Okafor, who also designed the ferry terminal.")
FR = "Rapport sur le marché\nLe marché aux poissons ouvre à cinq heures et ferme à midi. Il compte 40 étals."


@pytest.fixture
def docs(tmp_path: Path) -> Path:
    d = tmp_path / "docs"
    d.mkdir()
    (d / "bridge.txt").write_text(EN, encoding="utf-8")
    (d / "market.txt").write_text(FR, encoding="utf-8")
    return d


def scripted(tmp_path: Path, reply: str, **settings) -> Assistant:
    s = Settings.from_env(store_dir=tmp_path / "store", **settings)
    return Assistant(s, embedder=FakeEmbedder(), chat_model=ScriptedModel(reply))


def test_the_documents_are_the_prompt_and_markers_name_them(tmp_path, docs):
    a = scripted(tmp_path, "The bridge opened in 1932 [1]. Its engineer was Maria Okafor [1].")
    a.ingest([docs])
    answer = a.ask("When did the harbour bridge open?")
    assert answer.mode == "collection" and not answer.abstained
    (system, user) = a.chat_model.calls[0]
    assert system["role"] == "system" and "[1] Harbour report" in system["content"] and "[2]" in system["content"]
    assert EN.split("\n", 1)[1] in system["content"] and user == {"role": "user",
                                                                  "content": "When did the harbour bridge open?"}
    assert [p.filename for p in answer.passages] == ["bridge.txt", "market.txt"]  # whole documents, numbered
    text = (docs / "bridge.txt").read_text(encoding="utf-8")
    for c in answer.citations:
        assert c.filename == "bridge.txt" and text[c.start:c.end] == c.quote  # offsets into the whole document
    assert answer.step("context") is not None and "2 documents" in answer.step("context").note


def test_history_turns_follow_the_documents_and_nothing_is_rewritten(tmp_path, docs):
    a = scripted(tmp_path, "It opened in 1932 [1].")
    a.ingest([docs])
    a.ask("And when did it open?", history=[("Who built the harbour bridge?", "Maria Okafor [1].")])
    (call,) = a.chat_model.calls  # no rewriting call: the model sees the conversation itself
    assert [m["role"] for m in call] == ["system", "user", "assistant", "user"]
    assert call[1]["content"] == "Who built the harbour bridge?" and call[-1]["content"] == "And when did it open?"


def test_over_the_budget_the_collection_is_answered_by_retrieval(tmp_path, docs):
    a = scripted(tmp_path, "The bridge opened in 1932 [1].", collection_budget=20, min_similarity=0.5)
    a.ingest([docs])
    assert a.collection() is None
    answer = a.ask("When did the harbour bridge open?")
    assert answer.mode == "retrieval" and answer.step("retrieve") is not None
    forced = scripted(tmp_path, "x", answer_mode="retrieval")
    assert forced.collection() is None
    with pytest.raises(Exception, match="answer_mode"):
        Settings(answer_mode="sometimes")


def test_a_sentence_with_a_number_no_document_holds_is_removed(tmp_path, docs):
    a = scripted(tmp_path, "The bridge opened in 1932 [1]. It cost 7 million dollars [1]. Okafor was its engineer [1].")
    a.ingest([docs])
    answer = a.ask("Tell me about the harbour bridge.")
    assert not answer.abstained and "million" not in answer.text and answer.revised
    assert any("7" in r["why"] or "7" in r["statement"] for r in answer.removed())
    invented = scripted(tmp_path, "The bridge cost 7 million dollars [1].")
    assert invented.ask("How much did the bridge cost?").abstained


# --- the saved state, with the real 135M model ----------------------------------------------------
def real(store: Path, **settings) -> Assistant:
    if not model_file().is_file():
        pytest.fail(f"the test model is missing: run `vjassistant models pull {TEST_MODEL}` (make test does)")
    return Assistant(Settings.from_env(store_dir=store, model=TEST_MODEL, temperature=0.0, max_tokens=24,
                                       **settings))


def states(a: Assistant) -> list[Path]:
    return sorted(a.state_dir.glob("*.state"))


@pytest.mark.e2e
def test_the_state_is_saved_restored_and_replaced_when_the_documents_change(tmp_path, docs):
    a = real(tmp_path / "store")
    a.ingest([docs])
    built = a.prepare()
    assert built is not None and built.how == "built" and built.tokens > 50 and len(states(a)) == 1
    assert a.prepare().how == "warm"
    question = "When did the harbour bridge open?"
    fresh = a.ask(question)
    b = real(tmp_path / "store")  # a new process, in effect: the state comes from disk
    assert b.prepare().how == "restored"
    restored = b.ask(question)
    assert restored.mode == "collection" and restored.raw_text == fresh.raw_text  # greedy: the same answer
    first = states(a)
    (docs / "notes.txt").write_text("Notes\nThe ferry terminal opened in 1935.", encoding="utf-8")
    b.ingest([docs / "notes.txt"])
    after_ingest = a.prepare()  # another Assistant ingested: the revision tells this one
    assert after_ingest.how == "built" and states(a) != first and len(states(a)) == 1
    assert "ferry terminal opened in 1935" in a.collection().messages[0]["content"]
    a.remove("notes.txt")
    assert a.prepare().how == "built" and "1935" not in a.collection().messages[0]["content"]
    assert [p.name for p in states(a)] == [p.name for p in first]  # the same documents: the same key


@pytest.mark.e2e
def test_the_state_is_keyed_by_the_model_and_the_prompt(tmp_path, docs, monkeypatch):
    a = real(tmp_path / "store")
    a.ingest([docs])
    assert a.prepare().how == "built"
    path = model_file()
    other = LlamaCppModel(path, n_ctx=2048, name=TEST_MODEL, identity="another-model-sha256")
    b = Assistant(a.settings, chat_model=other)
    assert b.prepare().how == "built" and len(list(a.state_dir.glob("*.state"))) == 2  # one per model
    import vjassistant.prompts as prompts

    monkeypatch.setattr(prompts, "COLLECTION_RULES", prompts.COLLECTION_RULES + "\n6. Be brief.")
    c = real(tmp_path / "store")
    assert c.prepare().how == "built"  # another prompt: another state
    assert model_identity(path) == PRESETS[TEST_MODEL].sha256


@pytest.mark.e2e
@pytest.mark.parametrize("damage", ["flip", "truncate", "meta"])
def test_a_damaged_state_file_is_rebuilt_with_a_warning(tmp_path, docs, damage, caplog):
    a = real(tmp_path / "store")
    a.ingest([docs])
    a.prepare()
    (state,) = states(a)
    data = bytearray(state.read_bytes())
    if damage == "flip":
        data[len(data) // 2] ^= 0xFF
        state.write_bytes(bytes(data))
    elif damage == "truncate":
        state.write_bytes(bytes(data[: len(data) // 3]))
    else:
        state.with_suffix(".json").write_text("{not json", encoding="utf-8")
    b = real(tmp_path / "store")
    status = b.prepare()
    assert status.how == "built" and "cannot be used" in status.warning and state.name in status.warning
    assert "cannot be used" in caplog.text
    assert json.loads(state.with_suffix(".json").read_text())["size"] == state.stat().st_size  # good again
    assert not b.ask("When did the harbour bridge open?").mode == "retrieval"


@pytest.mark.e2e
def test_a_collection_larger_than_the_models_context_goes_by_retrieval(tmp_path, docs):
    (docs / "long.txt").write_text("Long report\n" + " ".join(f"Item {i} was shipped on time." for i in range(600)),
                                   encoding="utf-8")
    a = real(tmp_path / "store", collection_budget=100000)
    a.ingest([docs])
    assert a.collection() is None  # 2,048 tokens of context cannot hold it, whatever the budget
    assert a.ask("When did the harbour bridge open?").mode == "retrieval"



def test_the_chat_says_how_far_reading_the_documents_has_got():
    import time

    from vjassistant import ModelError
    from vjassistant.ui_actions import preparing

    class Slow:
        def prepare(self, progress):
            for done in (100, 200, 300):
                time.sleep(0.15)
                progress("Reading the documents", done, 300)

    notes = list(preparing(Slow(), every=0.05))
    assert notes and all("Reading the documents into the model" in n for n in notes) and "of 300 tokens" in notes[-1]

    class Ready:
        def prepare(self, progress):
            return None

    assert list(preparing(Ready())) == []  # nothing said when there is nothing to wait for

    class Broken:
        def prepare(self, progress):
            raise ModelError("the model file is corrupt", "pull it again")

    with pytest.raises(ModelError):
        list(preparing(Broken()))


def restating(tmp_path: Path, docs: Path, reply: str, then: list[str], embedder=None, **settings) -> Assistant:
    s = Settings.from_env(store_dir=tmp_path / "store", **settings)
    a = Assistant(s, embedder=embedder or FakeEmbedder(), chat_model=ScriptedModel(reply, then))
    a.ingest([docs])
    return a


BRIDGE_EN = "The harbour bridge opened in 1932 after eight years of work [1]."
BRIDGE_FR = "Le pont du port a ouvert en 1932, après huit années de travaux [1]."
BRIDGE_Q = "Quand le pont du port a-t-il ouvert ?"


def test_an_answer_in_another_language_is_asked_again_in_the_questions(tmp_path, docs, real_assistant):
    """The real e5 embedder: the French answer is checked against the English document across languages."""
    a = restating(tmp_path, docs, BRIDGE_EN, [BRIDGE_FR], embedder=real_assistant.embedder)
    answer = a.ask(BRIDGE_Q)
    assert answer.text == BRIDGE_FR and answer.revised and answer.raw_text == BRIDGE_FR
    assert [(c.filename, c.verdict) for c in answer.citations] == [("bridge.txt", "supported")]
    first, again = a.chat_model.calls
    assert again[:len(first)] == first  # the same prompt, then two more turns: the cache still holds it
    assert again[-2] == {"role": "assistant", "content": BRIDGE_EN}
    assert again[-1]["role"] == "user" and again[-1]["content"].startswith("Réécris cette réponse en français")
    assert answer.step("restate").note.endswith("kept") and answer.step("restate/citations") is not None


def test_a_bare_number_is_asked_again_as_a_sentence(tmp_path, docs, real_assistant):
    a = restating(tmp_path, docs, "1932 [1]", ["The harbour bridge opened in 1932 [1]."],
                  embedder=real_assistant.embedder)
    answer = a.ask("When did the harbour bridge open?")
    assert answer.text == "The harbour bridge opened in 1932 [1]." and len(a.chat_model.calls) == 2
    assert "as full sentences" in a.chat_model.calls[1][-1]["content"]


@pytest.mark.parametrize("then", [BRIDGE_EN, "NOT_FOUND", "Le pont du port a ouvert en 1951 [1]."],
                         ids=["still-english", "declined", "unsupported"])
def test_a_restated_answer_that_fails_is_not_kept(tmp_path, docs, then):
    a = restating(tmp_path, docs, BRIDGE_EN, [then])
    answer = a.ask(BRIDGE_Q)
    assert answer.text == BRIDGE_EN and not answer.abstained and len(a.chat_model.calls) == 2
    assert "not kept" in answer.step("restate").note and answer.step("restate/citations") is None


def test_an_answer_in_the_questions_language_is_not_asked_again(tmp_path, docs, real_assistant):
    a = restating(tmp_path / "a", docs, "The bridge opened in 1932 [1].", ["unused"])
    assert a.ask("When did the harbour bridge open?").step("restate") is None
    off = restating(tmp_path, docs, "1932 [1]", ["unused"], embedder=real_assistant.embedder, restate=False)
    assert off.ask("When did the harbour bridge open?").text == "1932 [1]" and len(off.chat_model.calls) == 1
