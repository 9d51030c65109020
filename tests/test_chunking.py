"""Chunks are exact slices of the document text, bounded in tokens, in every language."""
from pathlib import Path

import pytest

from vjassistant.chunking import chunk_text, count_tokens, sentence_spans

CORPUS = Path(__file__).resolve().parents[1] / "src" / "vjassistant" / "corpus"

VI = ("Việt Nam – Nhật Bản thúc đẩy hợp tác trong lĩnh vực đổi mới sáng tạo. Trưởng đại diện Văn phòng "
      "JETRO Hà Nội Nakajima Takedo khẳng định, kể từ khi thành lập năm 1993, JETRO luôn hợp tác chặt chẽ. ") * 12
FR = ("Le protocole d’accord a été échangé à Hanoï le 1er mai par le Centre national d’innovation du Vietnam "
      "(NIC). « Les possibilités sont illimitées », a déclaré le Premier ministre ! ") * 12


@pytest.mark.parametrize("text", [VI, FR], ids=["vietnamese", "french"])
def test_offsets_are_exact_slices(text):
    chunks = chunk_text("doc", text, max_tokens=60, overlap=12)
    assert len(chunks) > 3
    for c in chunks:
        assert text[c.start:c.end] == c.text
        assert c.tokens <= 60
        assert c.text == c.text.strip()


@pytest.mark.parametrize("path", sorted(CORPUS.glob("*.txt")), ids=lambda p: p.name[:3])
def test_bundled_corpus_chunks_cover_the_text(path):
    text = path.read_text(encoding="utf-8")
    chunks = chunk_text("doc", text, max_tokens=160, overlap=32)
    for c in chunks:
        assert text[c.start:c.end] == c.text
        assert c.tokens <= 160
    # Every non-space character belongs to some chunk.
    covered = set()
    for c in chunks:
        covered.update(range(c.start, c.end))
    missing = [i for i, ch in enumerate(text) if not ch.isspace() and i not in covered]
    assert missing == []


def test_consecutive_chunks_overlap_and_advance():
    text = " ".join(f"Sentence number {i} talks about topic {i}." for i in range(60))
    chunks = chunk_text("d", text, max_tokens=40, overlap=12)
    for a, b in zip(chunks, chunks[1:]):
        assert b.start > a.start
        assert b.start < a.end, "overlap expected between neighbours"


def test_a_sentence_longer_than_the_limit_is_cut_at_words():
    text = "word " * 500
    chunks = chunk_text("d", text.strip(), max_tokens=50, overlap=0)
    assert len(chunks) >= 10
    assert all(c.tokens <= 50 and text[c.start:c.end] == c.text for c in chunks)


def test_sentence_spans_keep_closing_quotes_and_split_lines():
    text = 'He said "yes." Then left!\nNew line here'
    spans = [text[s:e] for s, e in sentence_spans(text)]
    assert spans == ['He said "yes."', "Then left!", "New line here"]


def test_ids_are_content_hashes_and_stable():
    a = chunk_text("doc", FR, 60, 12)
    b = chunk_text("doc", FR, 60, 12)
    assert [c.id for c in a] == [c.id for c in b]
    assert len({c.id for c in a}) == len(a)


def test_count_tokens_works_offline():
    assert count_tokens("hello world") == 2
