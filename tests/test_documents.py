"""Tests for documents.py: the bundled corpus, each file type, and every way loading fails."""
from __future__ import annotations

import itertools
import random
import re
import unicodedata
from pathlib import Path

import pytest

from vjassistant.documents import (
    SUPPORTED_SUFFIXES,
    Document,
    bundled_corpus,
    iter_files,
    load_document,
)
from vjassistant.errors import DocumentError

CORPUS = {
    "000_8488b4652d8655bb.txt": ("en", "2020-10-25"),
    "001_4b6a1b27f2d92fdb.txt": ("en", ""),
    "002_60609d956803584d.txt": ("fr", ""),
    "003_17856ae74bf60673.txt": ("vi", ""),
    "004_cb1fd7ca1640c7f7.txt": ("en", "2022-05-01"),
}
TITLES = {
    "001_4b6a1b27f2d92fdb.txt": "Vietnam, Japan partner to develop startups, innovative companies",
    "003_17856ae74bf60673.txt":
        "Việt Nam – Nhật Bản thúc đẩy hợp tác trong lĩnh vực đổi mới sáng tạo",
}


@pytest.fixture(scope="module")
def corpus() -> dict[str, Document]:
    return {path.name: load_document(path) for path in bundled_corpus()}


def _write(tmp_path: Path, name: str, content: str | bytes) -> Path:
    path = tmp_path / name
    path.write_bytes(content.encode("utf-8") if isinstance(content, str) else content)
    return path


def test_bundled_corpus_lists_the_five_reports() -> None:
    paths = bundled_corpus()
    assert [p.name for p in paths] == sorted(CORPUS)
    assert all(p.is_file() for p in paths)


@pytest.mark.parametrize("name", sorted(CORPUS))
def test_corpus_file_loads_with_language_date_and_readable_title(
    corpus: dict[str, Document], name: str
) -> None:
    doc = corpus[name]
    language, date = CORPUS[name]
    assert doc.language == language
    assert doc.date == date
    assert doc.filename == name
    assert Path(doc.source).is_absolute()
    assert 10 <= len(doc.title) <= 120
    assert not re.search(r"[0-9a-f]{16}", doc.title)  # never the opaque file name
    assert not doc.title.lower().startswith("date ")
    assert "(Photo" not in doc.title
    if name in TITLES:
        assert doc.title == TITLES[name]
    assert doc.text == doc.text.strip() and "\n\n\n" not in doc.text
    assert len(doc.id) == 16 and len(doc.content_hash) == 64


def test_vietnamese_web_residue_is_removed_and_diacritics_stay_composed(
    corpus: dict[str, Document],
) -> None:
    text = corpus["003_17856ae74bf60673.txt"].text
    assert "====" not in text and "----" not in text
    assert "](http" not in text and "![" not in text
    assert ":gift:" not in text and "**" not in text
    assert "Xem chi tiết ở đây Ký thỏa thuận" in text  # link text kept, not glued on
    assert "Hoài Anh" in text
    assert "ệ" in text and "e\u0323\u0302" not in text  # NFC


def test_to_dict_round_trips(corpus: dict[str, Document]) -> None:
    doc = corpus["001_4b6a1b27f2d92fdb.txt"]
    assert Document(**doc.to_dict()) == doc


def test_id_is_stable_per_path_and_text_changes_only_the_hash(tmp_path: Path) -> None:
    path = _write(tmp_path, "a.txt", "First version of the note.\n")
    first = load_document(path)
    assert load_document(str(path)).id == first.id
    path.write_text("Second version of the note, longer.\n", encoding="utf-8")
    second = load_document(path)
    assert second.id == first.id and second.content_hash != first.content_hash
    other = load_document(_write(tmp_path, "b.txt", "First version of the note.\n"))
    assert other.id != first.id and other.content_hash == first.content_hash


def test_html_keeps_text_drops_scripts_and_chrome(tmp_path: Path) -> None:
    html = """<!doctype html><html><head><meta charset="utf-8">
    <title>Hợp tác Việt – Nhật</title><style>p { color: red; }</style>
    <script>var secret = "tracking";</script></head><body>
    <header>Site header</header><nav><a href="/">Home</a> | <a href="/news">News</a></nav>
    <h1>Heading one</h1><p>Japan and <b>Vietnam</b> signed   an MoU.</p>
    <div>Second block</div><footer>Copyright footer</footer></body></html>"""
    doc = load_document(_write(tmp_path, "page.html", html))
    assert doc.title == "Hợp tác Việt – Nhật"
    assert "Japan and Vietnam signed an MoU." in doc.text.split("\n")
    assert "Second block" in doc.text.split("\n")
    for residue in ("tracking", "color", "Site header", "Home", "Copyright", "Hợp tác"):
        assert residue not in doc.text


def test_html_without_title_uses_first_h1(tmp_path: Path) -> None:
    html = "<html><body><h1>Startups  in Hanoi</h1><p>Some body text here.</p></body></html>"
    assert load_document(_write(tmp_path, "x.htm", html)).title == "Startups in Hanoi"


def _hello_pdf() -> bytes:
    """A minimal one-page PDF with a text content stream and a correct xref table."""
    stream = b"BT /F1 24 Tf 72 720 Td (Hello World from Hanoi) Tj ET"
    objects = [
        b"<< /Type /Catalog /Pages 2 0 R >>",
        b"<< /Type /Pages /Kids [3 0 R] /Count 1 >>",
        b"<< /Type /Page /Parent 2 0 R /MediaBox [0 0 612 792] "
        b"/Contents 4 0 R /Resources << /Font << /F1 5 0 R >> >> >>",
        b"<< /Length %d >>\nstream\n%s\nendstream" % (len(stream), stream),
        b"<< /Type /Font /Subtype /Type1 /BaseFont /Helvetica >>",
        b"<< /Title (Greetings from Hanoi) >>",
    ]
    out = bytearray(b"%PDF-1.4\n")
    offsets = []
    for number, body in enumerate(objects, 1):
        offsets.append(len(out))
        out += b"%d 0 obj\n%s\nendobj\n" % (number, body)
    xref = len(out)
    out += b"xref\n0 %d\n0000000000 65535 f \n" % (len(objects) + 1)
    out += b"".join(b"%010d 00000 n \n" % offset for offset in offsets)
    out += b"trailer\n<< /Size %d /Root 1 0 R /Info 6 0 R >>\n" % (len(objects) + 1)
    out += b"startxref\n%d\n%%%%EOF\n" % xref
    return bytes(out)


def test_pdf_text_and_metadata_title(tmp_path: Path) -> None:
    doc = load_document(_write(tmp_path, "hello.pdf", _hello_pdf()))
    assert "Hello World from Hanoi" in doc.text
    assert doc.title == "Greetings from Hanoi"


def test_a_password_protected_or_truncated_pdf_is_refused_with_the_reason(tmp_path: Path) -> None:
    import io

    from pypdf import PdfReader, PdfWriter

    writer = PdfWriter(clone_from=PdfReader(io.BytesIO(_hello_pdf())))
    writer.encrypt(user_password="secret", owner_password="owner")
    locked = io.BytesIO()
    writer.write(locked)
    with pytest.raises(DocumentError, match="not a readable PDF") as err:
        load_document(_write(tmp_path, "locked.pdf", locked.getvalue()))
    assert "password" in err.value.hint
    with pytest.raises(DocumentError, match="not a readable PDF|contains no text"):
        load_document(_write(tmp_path, "cut.pdf", _hello_pdf()[:200]))


def test_file_names_with_shell_metacharacters_are_only_names(tmp_path: Path) -> None:
    name = "a;b $(touch pwned) `id` & 'q'.txt"
    doc = load_document(_write(tmp_path, name, "The ferry leaves at seven from the old pier."))
    assert doc.filename == name and not (tmp_path / "pwned").exists() and not Path("pwned").exists()


def test_markdown_file(tmp_path: Path) -> None:
    md = ("Intro line that is a long sentence, with a comma, and more words after it all.\n\n"
          "# The *real* heading\n\nSee [the report](https://example.com/r) now.\n"
          "![logo](https://example.com/logo.png)\nTime 10:30:45 stays.\n")
    doc = load_document(_write(tmp_path, "notes.md", md))
    assert doc.title == "The *real* heading"
    assert "See the report now." in doc.text and "logo" not in doc.text
    assert "10:30:45" in doc.text and "#" not in doc.text


@pytest.mark.parametrize(
    ("text", "date"),
    [
        ("Published October 19th, 2020 in Hanoi.", "2020-10-19"),
        ("Hanoi, 19 October 2020 - the two sides met.", "2020-10-19"),
        ("Signed on May 1, 2022 in Hanoi.", "2022-05-01"),
        ("Hanoi, le 1er mai 2022 - un accord.", "2022-05-01"),
        ("Le 19 octobre 2020, à Hanoi.", "2020-10-19"),
        ("Hà Nội, ngày 19/10/2020 - hai bên ký kết.", "2020-10-19"),
        ("Hà Nội, ngày 1 tháng 5 năm 2022, hai bên ký kết.", "2022-05-01"),
        ("Signed on May 1 in Hanoi, year unknown.", ""),
        ("On October 19th, 2020 ... date 2020-10-25 (MPI)", "2020-10-25"),  # ISO wins
        ("Founded in 1993, nothing more precise.", ""),
    ],
)
def test_dates_in_the_text(tmp_path: Path, text: str, date: str) -> None:
    assert load_document(_write(tmp_path, "d.txt", text)).date == date


def test_dates_beyond_the_first_400_chars_are_ignored(tmp_path: Path) -> None:
    text = "word " * 100 + "date 2021-01-02"
    assert load_document(_write(tmp_path, "late.txt", text)).date == ""


def test_latin1_text_loads(tmp_path: Path) -> None:
    path = _write(tmp_path, "fr.txt", "Café, résumé et naïveté à Hanoï.\r\n".encode("latin-1"))
    doc = load_document(path)
    assert doc.text == "Café, résumé et naïveté à Hanoï."


VIETNAMESE = ("Ký thỏa thuận hợp tác giữa Trung tâm Đổi mới sáng tạo Quốc gia và Tổ chức Xúc tiến Thương mại "
              "Nhật Bản. Theo biên bản ghi nhớ hợp tác, Trưởng đại diện Văn phòng JETRO Hà Nội khẳng định rằng "
              "JETRO luôn hợp tác tích cực với Bộ Kế hoạch và Đầu tư để thúc đẩy đầu tư của Nhật Bản vào Việt Nam.")


def _cp1258(text: str) -> bytes:
    """``text`` as Windows-1258 writes Vietnamese: a letter it lacks precomposed is a base letter
    followed by its combining tone mark."""
    out = bytearray()
    for ch in unicodedata.normalize("NFC", text):
        base, *marks = unicodedata.normalize("NFD", ch)
        for keep in itertools.chain.from_iterable(itertools.combinations(marks, k) for k in range(len(marks), -1, -1)):
            head = unicodedata.normalize("NFC", base + "".join(keep))  # "ậ": "â" + the dot below
            try:
                out += (head + "".join(m for m in marks if m not in keep)).encode("cp1258")
                break
            except UnicodeEncodeError:
                continue
    return bytes(out)


def test_vietnamese_in_cp1258_is_read_as_vietnamese_never_as_mojibake(tmp_path: Path) -> None:
    data = _cp1258(VIETNAMESE)
    assert data.decode("cp1252") != VIETNAMESE  # what reading it as Western text stored before ("Kyì thoÒa")
    doc = load_document(_write(tmp_path, "vi-1258.txt", data))
    assert doc.text == VIETNAMESE and doc.language == "vi"


def test_french_in_cp1252_keeps_its_quotes_and_accents(tmp_path: Path) -> None:
    text = "Le protocole d’accord a été signé à Hanoï le 1er mai ; « Où est l’œuvre ? » demanda-t-il."
    assert load_document(_write(tmp_path, "fr-1252.txt", text.encode("cp1252"))).text == text


def test_utf8_bom_and_crlf_are_normalised(tmp_path: Path) -> None:
    path = _write(tmp_path, "bom.txt", "\ufeffTitle line\r\n\r\n\r\n\r\nBody   \r\n".encode())
    assert load_document(path).text == "Title line\n\nBody"


def test_utf16_with_bom_loads(tmp_path: Path) -> None:
    path = _write(tmp_path, "u16.txt", "Hợp tác Việt – Nhật".encode("utf-16"))
    assert load_document(path).text == "Hợp tác Việt – Nhật"


def test_plain_txt_without_markdown_residue_is_left_alone(tmp_path: Path) -> None:
    text = "A note [draft] (see below) at 10:30:45 with *stars* and __init__ kept."
    assert load_document(_write(tmp_path, "plain.txt", text)).text == text


@pytest.mark.parametrize(
    ("name", "content", "match"),
    [
        ("report.docx", b"PK\x03\x04", "unsupported type"),
        ("broken.pdf", random.Random(0).randbytes(4096), "not a readable PDF"),
        ("binary.txt", random.Random(1).randbytes(4096), "not readable text"),
        ("empty.txt", b"", "no text"),
        ("blank.md", b"  \n\n\t\n", "no text"),
    ],
)
def test_bad_files_raise_document_error(
    tmp_path: Path, name: str, content: bytes, match: str
) -> None:
    with pytest.raises(DocumentError, match=match) as info:
        load_document(_write(tmp_path, name, content))
    assert name in info.value.message and info.value.hint


def test_unsupported_error_lists_supported_types(tmp_path: Path) -> None:
    with pytest.raises(DocumentError) as info:
        load_document(_write(tmp_path, "a.docx", b"x"))
    assert all(suffix in info.value.hint for suffix in SUPPORTED_SUFFIXES)


def test_missing_path_and_folder_raise(tmp_path: Path) -> None:
    with pytest.raises(DocumentError, match="does not exist"):
        load_document(tmp_path / "nope.txt")
    with pytest.raises(DocumentError, match="folder"):
        load_document(tmp_path)


def test_iter_files_expands_folders_and_reports_problems(tmp_path: Path) -> None:
    for rel in ["b.txt", "a.md", "sub/c.html", "sub/deeper/d.PDF", "sub/e.docx",
                ".hidden.txt", ".git/f.txt", "sub/.cache/g.md"]:
        (tmp_path / rel).parent.mkdir(parents=True, exist_ok=True)
        (tmp_path / rel).write_text("x", encoding="utf-8")
    extra = _write(tmp_path.parent, f"{tmp_path.name}-x.rtf", b"x")
    files, problems = iter_files([tmp_path, tmp_path / "b.txt", tmp_path / "missing.txt", extra])
    assert [p.relative_to(tmp_path).as_posix() for p in files] == [
        "a.md", "b.txt", "sub/c.html", "sub/deeper/d.PDF"]
    assert problems == [
        (tmp_path / "sub/e.docx", "unsupported type"),
        (tmp_path / "missing.txt", "not found"),
        (extra, "unsupported type"),
    ]
