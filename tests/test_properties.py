"""Property tests (hypothesis) over the parts that turn any text into offsets: the chunker, the
citation parser and stream filter, the checker's normaliser, the support check itself and the
resolution of an answer's citations.
Whatever the text (any script, control characters, NUL, combining marks, stray brackets), they
return valid offsets and never raise."""
from __future__ import annotations

import re

from hypothesis import HealthCheck, event, example, given, settings
from hypothesis import strategies as st

from vjassistant.answer import Passage
from vjassistant.chunking import chunk_text, sentence_spans
from vjassistant.grounding.citations import MARKER, StreamFilter, clean_markers, resolve, statements
from vjassistant.grounding.support import SupportChecker
from vjassistant.grounding.textnorm import normalize, tokens

# Text as documents and answers hold it: words in three languages, numbers, markers, punctuation,
# newlines, combining marks, and the odd control character, surrogate-free.
PIECES = st.sampled_from(["Hà Nội", "JETRO", "l’accord", "signed", "2020", "1.000", " ", "  ", "\n", "\n\n", ". ",
                          "? ", "[1]", "[2, 3]", "[", "]", "(", "“", "—", "\u0301", "\u0323", "\x00", "\x07", "đ", "Ǆ",
                          "ﬁ", "ß", "İ", "e.g.", "Mr.", "1.", "- ", "…", "🙂", "\t", "NOT_FOUND"])
TEXT = st.one_of(st.text(st.characters(exclude_categories=("Cs",)), max_size=400),
                 st.lists(PIECES, max_size=80).map("".join))
FAST = settings(max_examples=150, deadline=None, suppress_health_check=[HealthCheck.too_slow])


@FAST
@given(TEXT, st.integers(8, 200), st.integers(0, 40))
def test_chunks_are_exact_slices_within_the_text(text: str, size: int, overlap: int) -> None:
    for c in chunk_text("doc", text, size, min(overlap, size // 2)):
        assert 0 <= c.start < c.end <= len(text) and text[c.start:c.end] == c.text


@FAST
@given(TEXT)
def test_sentences_are_ordered_spans_of_the_text(text: str) -> None:
    last = 0
    for s, e in sentence_spans(text):
        assert last <= s < e <= len(text)
        last = e


@FAST
@given(TEXT)
def test_statements_point_into_the_answer(text: str) -> None:
    for st_ in statements(text):
        assert 0 <= st_.start <= st_.end <= len(text) and all(n >= 0 for n in st_.numbers)
        assert st_.text.strip()  # a statement has words: a marker alone belongs to the sentence before


@FAST
@example(pieces=[" ", "[0]"], valid=set())  # a space streamed alone, then an invalid marker that takes it
@given(st.lists(TEXT, max_size=6), st.sets(st.integers(1, 4), max_size=4))
def test_the_stream_filter_emits_what_cleaning_the_whole_reply_would(pieces: list[str], valid: set[int]) -> None:
    f = StreamFilter(valid, "NOT_FOUND")
    shown = "".join(f.feed(p) for p in pieces) + f.flush()
    if not f.sentinel_seen:
        assert shown == clean_markers("".join(pieces), valid)


@FAST
@given(TEXT)
def test_normalised_offsets_map_back_into_the_original(text: str) -> None:
    norm = normalize(text)
    assert len(norm.starts) == len(norm.ends) == len(norm.text)
    for t in tokens(norm.text):
        a, b = norm.original_span(t.start, t.end)
        assert 0 <= a < b <= len(text)


CHECKER = SupportChecker()  # lexical only: the embedder is covered by the end-to-end tests


@FAST
@given(TEXT, TEXT)
def test_the_check_of_any_statement_against_any_passage_is_a_verdict_with_a_valid_span(statement: str,
                                                                                        passage: str) -> None:
    r = CHECKER.support(statement, passage, statement_language="en", passage_language="en")
    assert r.verdict in ("supported", "partial", "unsupported", "unverified") and 0.0 <= r.score <= 1.0
    assert 0 <= r.start <= r.end <= len(passage)


@FAST
@given(TEXT, st.data())
def test_resolving_any_answer_cites_only_exact_spans_of_the_passages_given(doc: str, data: st.DataObject) -> None:
    """Whatever the answer (document sentences copied, stray or foreign markers, noise), resolve
    returns text whose markers all name a passage given, and citations whose quote is exactly the
    document's text at their offsets and whose verdict is never unsupported."""
    chunks = chunk_text("doc", doc, 40, 8)[:3]
    passages = [Passage(chunk_id=f"c{i}", doc_id="doc", source="doc.txt", filename="doc.txt", title="", date="",
                        language="en", start=c.start, end=c.end, text=c.text, number=i + 1)
                for i, c in enumerate(chunks)]
    copied = [doc[s:e] for s, e in sentence_spans(doc)]
    parts = data.draw(st.lists(st.one_of(st.sampled_from(copied) if copied else TEXT, PIECES, TEXT), max_size=8))
    text, citations = resolve("".join(parts), passages, CHECKER, languages=["en"])
    event(f"citations: {min(len(citations), 2)}")
    valid = {p.number for p in passages}
    assert all(int(n) in valid for m in MARKER.finditer(text) for n in re.findall(r"\d+", m.group(1)))
    for c in citations:
        assert c.marker in valid and c.verdict != "unsupported"
        assert doc[c.start:c.end] == c.quote and c.start <= c.end
