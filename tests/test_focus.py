"""Passage focusing: the window keeps the sentences that answer, and stays an exact document slice."""
from vjassistant.answer import Passage
from vjassistant.chunking import count_tokens
from vjassistant.focus import focus_passages
from vjassistant.testing import FakeEmbedder

DOC = ("Intro line about nothing in particular. The weather was mild that spring. "
       "NIC and JETRO signed a cooperation agreement in Hanoi on 19 October 2020. "
       "The agreement covers start-ups and innovation funds. "
       "Officials later toured a factory. Lunch was served at noon. Everyone went home.")


def passage(text=DOC, start=0):
    return Passage(chunk_id="c1", doc_id="d1", source="/x/a.txt", filename="a.txt", title="T", date="",
                   language="en", start=start, end=start + len(text), text=text)


def test_long_passage_is_cut_to_the_window_that_answers():
    p = passage(start=100)
    doc = "x" * 100 + DOC
    (got,) = focus_passages("When did NIC and JETRO sign the cooperation agreement?", [p], FakeEmbedder(), 40)
    assert "19 October 2020" in got.text
    assert count_tokens(got.text) <= 40 < count_tokens(DOC)
    assert doc[got.start:got.end] == got.text
    assert (got.chunk_id, got.doc_id) == (p.chunk_id, p.doc_id)


def test_short_passages_and_zero_cap_are_left_alone():
    short = passage("NIC and JETRO signed it.")
    assert focus_passages("Who signed?", [short], FakeEmbedder(), 40) == [short]
    long = passage()
    assert focus_passages("Who signed?", [long], FakeEmbedder(), 0) == [long]


def test_the_title_line_is_never_the_window():
    text = "Amazon rainforest\n\n" + DOC
    p = Passage(chunk_id="c1", doc_id="d1", source="/x/a.txt", filename="a.txt", title="Amazon rainforest", date="",
                language="en", start=0, end=len(text), text=text)
    (got,) = focus_passages("Which agreement did NIC and JETRO sign?", [p], FakeEmbedder(), 30)
    assert got.text != "Amazon rainforest" and "JETRO" in got.text
    assert text[got.start:got.end] == got.text
