"""The Assistant's machinery with real Chroma (temp dir) and small fakes for model and embedder."""
import json
import struct

import pytest

from vjassistant import Answer, Assistant, InputError, ModelError, Settings, StoreError
from vjassistant.store import ChunkStore
from vjassistant.testing import FakeEmbedder

FACTS = ("NIC and JETRO signed a cooperation agreement in Hanoi on October 19th, 2020. "
         "JETRO has promoted Japanese investment in Vietnam since 1993.")


@pytest.fixture
def docs(tmp_path):
    d = tmp_path / "docs"
    d.mkdir()
    (d / "a.txt").write_text("Agreement report\n" + FACTS, encoding="utf-8")
    (d / "b.md").write_text("# Weather\nIt rained in Osaka all week and the trains ran late.", encoding="utf-8")
    return d


def test_ingest_is_idempotent_and_updates_changed_files(fake_assistant, docs):
    a = fake_assistant()
    first = a.ingest([docs])
    assert len(first.added) == 2 and first.chunks >= 2
    count = a.store.count()
    again = a.ingest([docs])
    assert again.added == [] and len(again.unchanged) == 2 and a.store.count() == count
    (docs / "a.txt").write_text("Agreement report\nA completely different text about rice exports.", encoding="utf-8")
    changed = a.ingest([docs / "a.txt"])
    assert len(changed.updated) == 1
    texts = " ".join(c.text for c in a.store.all_chunks())
    assert "rice exports" in texts and "JETRO" not in texts


def test_a_path_given_as_one_string_is_that_path_not_its_characters(fake_assistant, docs):
    a = fake_assistant()
    report = a.ingest(str(docs))  # a str is iterable: "/" among its characters once walked the root
    assert sorted(p.split("/")[-1] for p in report.added) == ["a.txt", "b.md"] and not report.failed
    assert len(a.ingest(docs / "a.txt").unchanged) == 1  # a Path too


def test_the_same_text_from_another_path_is_stored_once(fake_assistant, docs, tmp_path):
    a = fake_assistant()
    a.ingest([docs])
    count = a.store.count()
    copy = tmp_path / "elsewhere"
    copy.mkdir()
    (copy / "a copy.txt").write_bytes((docs / "a.txt").read_bytes())
    report = a.ingest([copy])
    assert report.duplicates == [(str((copy / "a copy.txt").resolve()), str((docs / "a.txt").resolve()))]
    assert not report.added and a.store.count() == count
    row = next(d for d in a.documents() if d["filename"] == "a.txt")
    assert row["paths"] == [str((docs / "a.txt").resolve()), str((copy / "a copy.txt").resolve())]
    assert len(a.ingest([copy]).duplicates) == 1 and a.store.count() == count  # again: still once
    assert a.remove(copy / "a copy.txt") > 0  # any of its paths names it
    assert [d["filename"] for d in a.documents()] == ["b.md"]


def test_a_renamed_file_keeps_its_chunks_and_is_then_updated_in_place(fake_assistant, docs):
    a = fake_assistant()
    a.ingest([docs])
    ids = {c.id for c in a.store.all_chunks()}
    (docs / "a.txt").rename(docs / "agreement.txt")
    report = a.ingest([docs])
    assert report.moved == [(str((docs / "agreement.txt").resolve()), str((docs / "a.txt").resolve()))]
    assert report.chunks == 0 and {c.id for c in a.store.all_chunks()} == ids  # nothing re-embedded
    assert sorted(d["filename"] for d in a.documents()) == ["agreement.txt", "b.md"]
    assert {c.meta["filename"] for c in a.store.all_chunks()} == {"agreement.txt", "b.md"}
    assert len(a.ingest([docs]).unchanged) == 2
    (docs / "agreement.txt").write_text("Agreement report\nNow about rice exports only.", encoding="utf-8")
    changed = a.ingest([docs])
    assert len(changed.updated) == 1 and not changed.added and len(a.documents()) == 2
    assert "rice exports" in a.store.document_text(a.documents()[0]["doc_id"])
    (docs / "a.txt").write_text("Agreement report\nA new file where the old one was, about tea.", encoding="utf-8")
    fresh = a.ingest([docs])  # its path's id went with the renamed file: it gets one of its own
    assert len(fresh.added) == 1 and len(fresh.unchanged) == 2
    texts = {d["filename"]: a.store.document_text(d["doc_id"]) for d in a.documents()}
    assert "about tea" in texts["a.txt"] and "rice exports" in texts["agreement.txt"]


def test_an_update_cut_off_before_its_record_is_finished_by_the_next_ingestion(fake_assistant, docs, monkeypatch):
    a = fake_assistant(chunk_tokens=40, chunk_overlap=0)
    a.ingest([docs])
    long = "Agreement report\n" + " ".join(f"Sentence {i} says the harbour opened in {1900 + i}." for i in range(60))
    (docs / "a.txt").write_text(long, encoding="utf-8")
    a.ingest([docs])  # many chunks
    short = "Agreement report\nThe harbour closed in 1999."
    (docs / "a.txt").write_text(short, encoding="utf-8")

    def crash(*args, **kwargs):  # dies after the new chunks are written, before the stale ones go
        raise KeyboardInterrupt
    monkeypatch.setattr(a.store._col, "delete", crash)
    with pytest.raises(KeyboardInterrupt):
        a.ingest([docs / "a.txt"])
    monkeypatch.undo()
    assert any(int(c.meta["end"]) > len(short) for c in a.store.all_chunks())  # stale text, for now
    again = a.ingest([docs / "a.txt"])
    assert len(again.updated) == 1  # not "unchanged": the record still held the old hash
    clean = Assistant(a.settings.replace(store_dir=docs.parent / "clean"), embedder=FakeEmbedder())
    clean.ingest([docs])
    assert a.store.count() == clean.store.count()
    assert a.store.document_text(a.documents()[0]["doc_id"]) == "Agreement report\nThe harbour closed in 1999."
    assert all(int(c.meta["end"]) <= len(short) for c in a.store.all_chunks() if c.meta["filename"] == "a.txt")


def test_a_file_over_the_size_limit_is_refused_unread_and_a_long_one_is_written_in_batches(
        fake_assistant, docs, tmp_path, monkeypatch):
    big = tmp_path / "big.txt"
    big.write_text("Harbour log\n" + "The harbour opened its new pier in 1911. " * 30_000, encoding="utf-8")
    a = fake_assistant(max_document_mb=1)
    report = a.ingest([big])
    assert not report.added and "the limit is 1 MB" in report.failed[0][1] and a.store.count() == 0
    import vjassistant.store

    monkeypatch.setattr(vjassistant.store, "_WRITE_BATCH", 7)
    long = tmp_path / "long.txt"
    long.write_text("Harbour log\n" + " ".join(f"Pier {i} opened in {1800 + i}." for i in range(400)), encoding="utf-8")
    written = a.ingest([long]).chunks
    assert written > 7 * 3 and a.store.count() == written  # several batches, every chunk stored
    long.write_text("Harbour log\nOnly one pier now.", encoding="utf-8")
    assert a.ingest([long]).updated and a.store.count() == 1  # the stale ones deleted in batches too


def test_bad_files_are_reported_and_nothing_stored_is_lost(fake_assistant, docs, tmp_path):
    a = fake_assistant()
    a.ingest([docs])
    before = a.store.count()
    (tmp_path / "x.docx").write_bytes(b"PK\x03\x04")
    (tmp_path / "broken.pdf").write_bytes(b"%PDF-1.4 garbage")
    report = a.ingest([tmp_path / "x.docx", tmp_path / "broken.pdf", tmp_path / "missing.txt"])
    assert {p.split("/")[-1] for p, _ in report.failed} == {"x.docx", "broken.pdf", "missing.txt"}
    assert all(why for _, why in report.failed)
    assert a.store.count() == before


def test_remove_by_file_name_and_unknown_target(fake_assistant, docs):
    a = fake_assistant()
    a.ingest([docs])
    assert a.remove("b.md") > 0
    assert [d["filename"] for d in a.documents()] == ["a.txt"]
    with pytest.raises(InputError, match="No stored document"):
        a.remove("nope.txt")


def test_answer_with_valid_and_invalid_markers(fake_assistant, docs):
    a = fake_assistant("NIC and JETRO signed a cooperation agreement in Hanoi [1]. It was sunny [9].")
    a.ingest([docs])
    response = a.stream("When did NIC and JETRO sign the cooperation agreement?")
    streamed = "".join(response)
    answer = response.answer
    assert isinstance(answer, Answer) and not answer.abstained and answer.mode == "retrieval"
    assert "[9]" not in streamed and "[9]" not in answer.text
    # the sentence no passage supports is removed from the checked answer, and the trace says so
    assert "sunny" in streamed and "sunny" not in answer.text and answer.revised and answer.uncited == []
    assert [r["statement"] for r in answer.removed() if r["step"] == "unsupported"] == ["It was sunny."]
    assert answer.citations and answer.citations[0].filename == "a.txt"
    text = (docs / "a.txt").read_text(encoding="utf-8")
    c = answer.citations[0]
    assert text[c.start:c.end] == c.quote
    json.dumps(answer.to_dict())  # serialisable


def test_a_repeated_sentence_is_removed_with_its_citation(fake_assistant, docs):
    item = "NIC and JETRO signed a cooperation agreement in Hanoi [1]."
    a = fake_assistant(f"1. {item}\n2. JETRO has promoted Japanese investment in Vietnam since 1993 [1].\n3. {item}")
    a.ingest([docs])
    answer = a.ask("What did NIC and JETRO do?")
    assert answer.text.count("signed a cooperation agreement") == 1 and "1993" in answer.text
    assert [r["statement"] for r in answer.removed() if r["step"] == "repeats"] == [item.replace(" [1]", "")]
    assert len(answer.citations) == 2 and answer.revised


def test_abstains_when_the_model_says_not_found(fake_assistant, docs):
    a = fake_assistant("NOT_FOUND")
    a.ingest([docs])
    answer = a.ask("When did NIC and JETRO sign the agreement?")
    assert answer.abstained and "don't contain" in answer.text and answer.citations == []


def test_a_reply_of_markers_alone_is_the_models_decline(fake_assistant, docs):
    a = fake_assistant(" [1]")
    a.ingest([docs])
    answer = a.ask("When did NIC and JETRO sign the agreement?")
    assert answer.abstained and answer.reason == "the model found no answer in the passages"


def test_abstains_when_no_citation_survives(fake_assistant, docs):
    a = fake_assistant("Bananas are yellow [7].")
    a.ingest([docs])
    answer = a.ask("When did NIC and JETRO sign the agreement?")
    assert answer.abstained and "supported by a passage" in answer.reason


def test_a_stored_document_reads_back_whole(fake_assistant, tmp_path):
    """Whole-collection mode prompts with whole documents, and citations point into them: the
    store keeps each document's exact text beside its chunks."""
    a = fake_assistant(chunk_tokens=24, chunk_overlap=0)
    sentences = [f"Ferry {i} left the Osaka harbour late." if i == 0 else f"Ferry {i} left the harbour late."
                 for i in range(12)]
    (tmp_path / "ferries.txt").write_text("Ferries\n" + " ".join(sentences), encoding="utf-8")
    a.ingest([tmp_path / "ferries.txt"])
    (doc,) = a.documents()
    assert doc["chunks"] > 2
    whole = a.store.document_text(doc["doc_id"])
    assert all(s in whole for s in sentences) and whole.index("Ferry 1 ") < whole.index("Ferry 11 ")
    assert a.store.document_text("no-such-document") == ""


def test_abstains_before_generation_when_retrieval_finds_nothing_relevant(fake_assistant, docs):
    a = fake_assistant("should never be generated [1]")
    a.ingest([docs])
    answer = a.ask("Quelle est la capitale de l'Australie ?")
    assert answer.abstained and answer.language == "fr"
    assert answer.text.startswith("Les documents ne contiennent pas")
    assert a.chat_model.calls == []


def test_empty_store_says_so(fake_assistant):
    answer = fake_assistant("x").ask("Anything?")
    assert answer.abstained and "No documents" in answer.text


@pytest.mark.parametrize("question", ["", "   ", "x" * 5000])
def test_bad_questions_are_clear_errors(fake_assistant, question):
    with pytest.raises(InputError) as err:
        fake_assistant("x").ask(question)
    assert err.value.hint


def test_control_characters_and_lone_surrogates_in_a_question_are_dropped_or_replaced(fake_assistant, docs):
    a = fake_assistant("NIC and JETRO signed the cooperation agreement on October 19th, 2020 [1].")
    a.ingest([docs])
    answer = a.ask("When did NIC and \ud800JETRO\x00 sign the\x07 agreement?",
                   history=[("Who signed?\x00", "NIC and JETRO \udfff [1].")])
    assert answer.question == "When did NIC and \ufffdJETRO sign the agreement?"
    asked = a.chat_model.calls[-1][-1]["content"]
    assert "\x00" not in asked and "\ud800" not in asked and not answer.abstained


def test_follow_up_is_rewritten_before_retrieval(fake_assistant, docs):
    a = fake_assistant("When did NIC and JETRO sign the cooperation agreement?")
    a.ingest([docs])
    answer = a.ask("When was it signed?", history=[("What did NIC and JETRO sign?", "A cooperation agreement [1].")])
    assert answer.standalone_question == "When did NIC and JETRO sign the cooperation agreement?"
    assert "Conversation" in a.chat_model.calls[0][1]["content"]


def test_store_written_by_another_version_is_refused(tmp_path):
    import chromadb
    from chromadb.config import Settings as CS

    client = chromadb.PersistentClient(path=str(tmp_path), settings=CS(anonymized_telemetry=False))
    client.create_collection("vjassistant", metadata={"vja_schema": 99})
    del client
    with pytest.raises(StoreError, match="another version"):
        ChunkStore(path=tmp_path, collection="vjassistant", embedder_name="fake-bow", dim=64)


def test_a_store_cut_with_another_chunking_or_embedder_is_refused_with_the_fix(fake_assistant, docs):
    fake_assistant(chunk_tokens=160, chunk_overlap=32).ingest([docs])
    with pytest.raises(StoreError, match="chunks of 160/32 tokens") as err:
        fake_assistant(chunk_tokens=200, chunk_overlap=32).store.count()
    assert "--store" in err.value.hint and "VJA_CHUNK_TOKENS" in err.value.hint
    settings = fake_assistant().settings
    other = Assistant(settings, embedder=type("Other", (FakeEmbedder,), {"name": "other-embedder"})())
    with pytest.raises(StoreError, match="built with the embedder 'fake-bow'"):
        other.store.count()
    assert fake_assistant().store.count() > 0  # the store itself is untouched


def test_corrupt_model_file_is_a_clear_error(tmp_path, docs):
    bad = tmp_path / "broken.gguf"
    bad.write_bytes(b"GGUF" + struct.pack("<I", 3) + b"\x00" * 64)  # a valid header, then nothing
    a = Assistant(Settings.from_env(store_dir=tmp_path / "s", model=str(bad), min_similarity=0.5),
                  embedder=FakeEmbedder())
    a.ingest([docs])
    with pytest.raises(ModelError) as err:
        a.ask("When did NIC and JETRO sign the agreement?")
    assert "broken.gguf" in err.value.message and "pull it again" in err.value.hint


def test_a_missing_or_headerless_model_is_reported_even_for_a_question_declined_before_it_loads(tmp_path, docs):
    bad = tmp_path / "truncated.gguf"
    bad.write_bytes(b"\x00" * 64)  # not even a GGUF header
    for model, message in ((str(bad), "is not a GGUF model"), (str(tmp_path / "gone.gguf"), "not found")):
        a = Assistant(Settings.from_env(store_dir=tmp_path / "s", model=model), embedder=FakeEmbedder())
        a.ingest([docs])
        with pytest.raises(ModelError, match=message) as err:
            a.ask("What is the capital of Peru?")  # nothing relevant: declined before any model would run
        assert err.value.hint


def test_lexical_index_sees_writes_made_through_another_store_handle(fake_assistant, docs):
    reader, writer = fake_assistant(), fake_assistant()  # same folder, like the UI and a CLI ingest
    writer.ingest([docs])
    assert reader.retriever.lexical("Osaka trains", 3)
    assert reader.retriever.lexical("Osaka trains", 3, language="en")  # a language index, from the same read
    (docs / "b.md").write_text("# Weather\nIt snowed in Sapporo all week.", encoding="utf-8")
    writer.ingest([docs])  # same number of chunks: only the revision tells the reader
    hits = reader.retriever.lexical("Sapporo snowed", 3)
    assert hits and "Sapporo" in hits[0][0].text
    hits = reader.retriever.lexical("Sapporo snowed", 3, language="en")  # the chunks read before are dropped too
    assert hits and "Sapporo" in hits[0][0].text
    assert not any("Osaka" in c.text for c, _ in reader.retriever.lexical("Osaka trains", 3))


def test_lexical_search_stays_in_the_questions_language(fake_assistant, docs):
    (docs / "c.md").write_text("# Thời tiết\nTrời mưa ở Osaka suốt tuần và tàu bị trễ.", encoding="utf-8")
    a = fake_assistant()
    a.ingest([docs])
    languages = lambda hits: {c.meta["language"] for c, _ in hits}  # noqa: E731
    assert languages(a.retriever.lexical("Osaka trains", 5)) == {"en", "vi"}  # every chunk
    assert languages(a.retriever.lexical("Osaka trains", 5, language="en")) == {"en"}
    assert languages(a.retriever.lexical("Osaka tàu", 5, language="vi")) == {"vi"}
    assert a.retriever.lexical("Osaka", 5, language="fr") == []  # no French chunk: dense search alone
    # at lexical_cross_weight 0, search() ranks the question's language alone
    a.retriever.lexical_cross_weight = 0.0
    hits = a.retriever.search("Osaka trains", 5, language="en")
    assert all(p.lexical_score is None for p in hits if p.language == "vi")
    assert len(a.retriever.lexical_rankings("Osaka trains", "en")) == 1
    a.retriever.lexical_cross_weight = 0.5  # the other languages' BM25 ranking joins, at half weight
    hits = a.retriever.search("Osaka trains", 5, language="en")
    assert any(p.lexical_score is not None for p in hits if p.language == "vi")
    rankings = a.retriever.lexical_rankings("Osaka trains", "en")
    assert [w for w, _ in rankings] == [1.0, 0.5] and {c.meta["language"] for c, _ in rankings[1][1]} == {"vi"}
    # across languages only names and numbers are matched: the Vietnamese chunk holds "osaka" and
    # "tàu", but only the capitalised name finds it
    assert a.retriever.lexical_rankings("osaka tàu", "en")[1][1] == []
    assert [c.meta["language"] for c, _ in a.retriever.lexical_rankings("Osaka tàu", "en")[1][1]] == ["vi"]
    # the other languages' ranking has an index of its own: English chunks naming Osaka cannot crowd
    # the Vietnamese one out, even with room for a single candidate
    a.retriever.candidates = 1
    assert [c.meta["language"] for c, _ in a.retriever.lexical("Osaka", 1)] == ["en"]
    assert [c.meta["language"] for c, _ in a.retriever.lexical_rankings("Osaka", "en")[1][1]] == ["vi"]


def test_carried_tokens_are_names_and_numbers():
    from vjassistant.retrieval import carried_tokens

    assert carried_tokens("What year did the Denver Broncos win Super Bowl 50?") == [
        "denver", "broncos", "super", "bowl", "50"]
    assert carried_tokens("Đội Denver Broncos đã thắng Super Bowl 50 vào năm nào?") == [
        "đội", "denver", "broncos", "super", "bowl", "50"]
    assert carried_tokens("Osaka trains") == ["osaka"]  # a name opening a keyword query counts
    assert carried_tokens("how many trains were late in 2019?") == ["2019"]
    assert carried_tokens("") == []


def test_whole_store_reads_are_paged(fake_assistant, docs, monkeypatch):
    """Chroma refuses to read 32,767+ records at once; reads go in pages (tiny pages here)."""
    import vjassistant.store as store_module

    a = fake_assistant()
    a.ingest([docs])
    paged = 0
    real_get = a.store._col.get

    def counting_get(*args, **kwargs):
        nonlocal paged
        paged += "offset" in kwargs
        return real_get(*args, **kwargs)

    monkeypatch.setattr(store_module, "_PAGE", 1)
    monkeypatch.setattr(a.store._col, "get", counting_get)
    chunks = a.store.all_chunks()
    assert len(chunks) == a.store.count() >= 2 and len({c.id for c in chunks}) == len(chunks)
    assert sum(d["chunks"] for d in a.store.documents()) == len(chunks)
    assert paged >= 2 * (len(chunks) + 1)


def test_question_is_embedded_once_for_retrieval_and_focus(fake_assistant, docs, monkeypatch):
    a = fake_assistant("NIC and JETRO signed a cooperation agreement in Hanoi [1].", passage_tokens=8)
    a.ingest([docs])
    queries: list[str] = []
    embed_query = a.embedder.embed_query
    monkeypatch.setattr(a.embedder, "embed_query", lambda text: queries.append(text) or embed_query(text))
    question = "When did NIC and JETRO sign the cooperation agreement?"
    answer = a.ask(question)
    assert not answer.abstained and answer.passages
    assert queries.count(question) == 1  # the other embeddings are the citation check's, of answer statements
    assert set(queries) - {question} <= {"NIC and JETRO signed a cooperation agreement in Hanoi."}
