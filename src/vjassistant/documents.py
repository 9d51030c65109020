"""Load txt/md/html/pdf files into ``Document``s: clean text, title, date, language, source.

The clean ``text`` is what users see quoted back and what every later character offset
points into, so cleaning only drops residue (markup, web leftovers) and never rewrites prose.
HTML is parsed by BeautifulSoup, PDF by pypdf and language is told by language.py; those
imports happen inside the functions that need them so importing this module stays cheap.
"""
from __future__ import annotations

import dataclasses
import datetime as dt
import hashlib
import os
import re
import unicodedata
from collections.abc import Iterable
from dataclasses import dataclass
from pathlib import Path

from .errors import DocumentError
from .language import detect_language

__all__ = ["SUPPORTED_SUFFIXES", "Document", "load_document", "iter_files", "bundled_corpus", "not_a_file"]

SUPPORTED_SUFFIXES = {".txt", ".md", ".markdown", ".html", ".htm", ".pdf"}
_SUPPORTED = ", ".join(sorted(SUPPORTED_SUFFIXES))


@dataclass(frozen=True)
class Document:
    """One loaded file. ``id`` depends only on the path, so re-loading a changed file
    yields the same id (its old chunks get replaced); ``content_hash`` tracks the text."""

    id: str
    source: str
    filename: str
    title: str
    date: str
    language: str
    text: str
    content_hash: str

    def to_dict(self) -> dict[str, str]:
        return dataclasses.asdict(self)


# --- cleaning ----------------------------------------------------------------------------
_SETEXT = re.compile(r"^[ \t]*(?:={3,}|-{3,})[ \t]*$", re.M)
_ATX = re.compile(r"^[ \t]{0,3}#{1,6}[ \t]+(.*?)(?:[ \t]+#+)?[ \t]*$", re.M)
_IMAGE = re.compile(r"!\[[^\]\n]*\]\([^)\n]*\)")
_LINK = re.compile(r"\[([^\]\n]*)\]\((?:[^)\s]+)(?:[ \t]+\"[^\"\n]*\")?\)(?=(\w)?)")
# Letter first, so clock times like 10:30:45 are never taken for shortcodes.
_SHORTCODE = re.compile(r":[a-z][a-z0-9_+-]{1,30}:")
_BOLD = re.compile(r"\*\*(?=\S)(.+?)(?<=\S)\*\*")  # not __x__: it would eat __init__


def _strip_markdown(text: str) -> str:
    text = _SHORTCODE.sub("", _IMAGE.sub("", text))
    # Link text glued to the next word ("[see here](url)Next") would fuse two words.
    text = _LINK.sub(lambda m: m.group(1) + (" " if m.group(2) else ""), text)
    return _BOLD.sub(r"\1", _ATX.sub(r"\1", _SETEXT.sub("", text)))


def _clean(text: str, markdown: bool = False) -> str:
    text = unicodedata.normalize("NFC", "\n".join(text.splitlines()))
    if markdown:
        text = _strip_markdown(text)
    text = "\n".join(line.rstrip() for line in text.split("\n"))
    return re.sub(r"\n{3,}", "\n\n", text).strip()


# --- readers -------------------------------------------------------------------------------
# Among code pages that read a file equally cleanly, the ones of our languages come first.
_PREFERRED = ("cp1252", "cp1258", "latin_1", "iso8859_15")
_CONTROL = re.compile(r"[\x00-\x08\x0b\x0e-\x1f\x7f-\x9f]")


def _decode(data: bytes, path: Path) -> str:
    """UTF-8 (BOM or not) or UTF-16 with a BOM; else the legacy code page charset-normalizer
    finds reads the bytes most cleanly (cp1258 for Vietnamese, cp1252 for French; ties go to
    ``_PREFERRED``). NUL bytes, many control characters or no clean reading at all mean the
    file is refused: text read in the wrong code page would be stored as mojibake."""
    utf16 = data.startswith((b"\xff\xfe", b"\xfe\xff"))
    if not utf16 and b"\x00" in data[:8192]:
        raise DocumentError(f"{path.name} is not readable text: it holds NUL bytes (a binary file?)",
                            "give a txt/md/html/pdf document; save text as UTF-8", path=path)
    try:
        text: str | None = data.decode("utf-16" if utf16 else "utf-8-sig")
    except UnicodeDecodeError:
        text = None if utf16 else _legacy(data)
    if text is None or len(_CONTROL.findall(text)) > len(text) // 100:
        raise DocumentError(f"{path.name} is not readable text (binary, or an encoding that could not be told)",
                            "save it as UTF-8 text, or convert it to .txt/.md/.html/.pdf", path=path)
    return text


def _legacy(data: bytes) -> str | None:
    """``data`` read in the single-byte code page that reads it most cleanly; None when none does."""
    from charset_normalizer import from_bytes

    def rank(match: object) -> tuple[float, int]:
        name = str(getattr(match, "encoding", ""))
        return round(float(getattr(match, "chaos", 1.0)), 3), (_PREFERRED.index(name) if name in _PREFERRED else 9)

    found = [m for m in from_bytes(data) if not m.encoding.startswith("utf")]
    return str(min(found, key=rank)) if found else None


_BLOCKS = ("p", "div", "br", "li", "tr", "td", "th", "h1", "h2", "h3", "h4", "h5", "h6", "hr",
           "section", "article", "blockquote", "pre", "ul", "ol", "table", "dt", "dd", "main")


def _read_html(data: bytes) -> tuple[str, str]:
    """The visible text, block elements on their own lines, and a title candidate."""
    from bs4 import BeautifulSoup

    soup = BeautifulSoup(data, "html.parser")  # finds the encoding (meta charset, BOM)
    for tag in soup(["script", "style", "nav", "header", "footer", "noscript", "template"]):
        tag.decompose()
    heads = [t for t in (soup.title, soup.find("h1")) if t is not None and t.get_text(strip=True)]
    title = " ".join(heads[0].get_text(" ").split()) if heads else ""
    if soup.title is not None:
        soup.title.decompose()
    for tag in soup.find_all(_BLOCKS):
        tag.insert_before("\n")
        tag.append("\n")
    # HTML whitespace is not significant, so collapse it within each line.
    lines = (re.sub(r"[ \t\r\f\v]+", " ", line).strip() for line in soup.get_text().split("\n"))
    return "\n".join(lines), title


def _read_pdf(path: Path) -> tuple[str, str]:
    from pypdf import PdfReader

    try:
        reader = PdfReader(path)  # tries the empty password on encrypted files by itself
        pages = [page.extract_text() or "" for page in reader.pages]
        title = str(reader.metadata.title or "") if reader.metadata else ""
    except Exception as exc:  # pypdf raises many types for broken or locked files
        raise DocumentError(f"{path.name} is not a readable PDF ({type(exc).__name__}: {exc})",
                            "check it opens in a PDF viewer without a password; "
                            "re-export or replace it", path=path) from exc
    if re.match(r"(?i)(untitled|microsoft \w+ - |document\d*$)", title.strip()):
        title = ""  # generator placeholders, not titles
    return "\n\n".join(p.strip() for p in pages), " ".join(title.split())


# --- title -------------------------------------------------------------------------------
_PREFIX = re.compile(
    r"^(?:(?:date\s+)?\d{4}-\d{2}-\d{2}\s*[-–—:]?\s*)?"  # " date 2020-10-25 "
    r"(?:[^\n()]{0,40}?\(\s*[A-Za-z]{2,12}\s*\)\s*[-–—:]\s*)?",  # "Hanoi (VNA) – ", "(MPI) - "
    re.I)
_CAPTION = re.compile(r"\((?:photo|ảnh|image)\s*:|^(?:photo|ảnh)\s*:|photo\s*:\s*\w+$", re.I)
_ABBREVIATIONS = {"mr", "mrs", "ms", "dr", "st", "jr", "no", "vs", "etc", "inc", "co", "e.g", "i.e"}


def _opaque(stem: str) -> bool:
    """Like ``000_8488b4652d8655bb``: a long hex token with digits, or hardly any letters."""
    hexy = re.search(r"(?<![^\W_])(?=[a-f]*\d)[0-9a-f]{8,}(?![^\W_])", stem, re.I)
    return bool(hexy) or sum(c.isalpha() for c in stem) < 3


def _shorten(text: str, limit: int) -> str:
    if len(text) <= limit:
        return text
    cut = text[: limit + 1].rsplit(" ", 1)[0] if " " in text[:limit] else text[:limit]
    return cut.rstrip(" ,;:–—-") + "…"


def _first_sentence(paragraph: str) -> str:
    for m in re.finditer(r"[.!?…](?=\s+[\"“'(\[]?[A-ZÀ-ỸĐ0-9])", paragraph):
        word = re.split(r"\s", paragraph[: m.start()])[-1].lower()
        if word not in _ABBREVIATIONS and not re.fullmatch(r"\w", word):
            return paragraph[: m.end()]
    return paragraph


def _title(text: str, candidate: str, path: Path) -> str:
    """Markup title, else a heading-like first line (datelines and photo captions skipped),
    else a descriptive file name, else the first sentence cut to about 80 characters."""
    if candidate:
        return _shorten(candidate, 120)
    lines = [_PREFIX.sub("", ln.strip(), count=1).strip() for ln in text.split("\n")[:40]]
    lines = [ln for ln in lines if re.search(r"\w", ln) and not _CAPTION.search(ln)]
    first = lines[0] if lines else ""
    short_sentence = not first.endswith(".") or len(first.split()) < 12
    if first and len(first) <= 120 and not first.endswith((";", ",", ":")) and short_sentence:
        return first.rstrip(".")
    words = [w for w in re.split(r"[\W_]+", path.stem) if w]
    if len(words) >= 3 and not _opaque(path.stem):
        return " ".join(words)
    return _shorten(_first_sentence(first), 80).rstrip(".") if first else path.stem


# --- date --------------------------------------------------------------------------------
_EN = "january february march april may june july august september october november december"
_FR = "janvier février mars avril mai juin juillet août septembre octobre novembre décembre"
_MONTHS = {name: i for names in (_EN, _FR) for i, name in enumerate(names.split(), 1)}
_MONTHS |= {m[:3]: i for m, i in list(_MONTHS.items())[:12]} | {"sept": 9, "fevrier": 2,
                                                                "aout": 8, "decembre": 12}
_MON = "|".join(sorted(_MONTHS, key=len, reverse=True))
_D, _Y = r"(?P<d>\d{1,2})(?:st|nd|rd|th|er)?", r"(?P<y>\d{4})\b"
# Each pattern names its groups so one loop reads them all; the ISO one (first) wins.
_DATES = [re.compile(p, re.I) for p in (
    r"\b(?P<y>\d{4})-(?P<m>\d{2})-(?P<d>\d{2})\b",
    rf"\b(?P<m>{_MON})\.?\s+{_D},?\s+{_Y}",  # October 19th, 2020 / May 1, 2022
    rf"\b{_D}\s+(?:of\s+)?(?P<m>{_MON})\.?,?\s+{_Y}",  # 19 October 2020 / 1er mai 2022
    rf"\bngày\s+{_D}\s+tháng\s+(?P<m>\d{{1,2}})\s+năm\s+{_Y}",  # ngày 1 tháng 5 năm 2022
    rf"(?<![\d/]){_D}/(?P<m>\d{{1,2}})/{_Y}",  # (ngày) 19/10/2020, day first
)]


def _date(text: str) -> str:
    found: list[tuple[int, str]] = []
    for index, pattern in enumerate(_DATES):
        for m in pattern.finditer(text[:400]):
            month = m["m"] if m["m"].isdigit() else str(_MONTHS[m["m"].lower()])
            try:
                day = dt.date(int(m["y"]), int(month), int(m["d"]))
            except ValueError:
                continue
            found.append((0 if index == 0 else 1 + m.start(), day.isoformat()))  # ISO first
            break
    return min(found)[1] if found else ""


# --- public API ----------------------------------------------------------------------------
def load_document(path: str | Path, max_bytes: int = 0) -> Document:
    """Read one supported file into a Document; raise DocumentError with a fix otherwise.
    ``max_bytes`` (0: no limit) refuses a larger file before reading it."""
    path = Path(path).expanduser()
    if why := not_a_file(path):
        raise DocumentError(f"{path} {why}", "check the path (iter_files expands folders)", path=path)
    suffix = path.suffix.lower()
    if suffix not in SUPPORTED_SUFFIXES:
        raise DocumentError(f"{path.name} has an unsupported type {suffix or '(none)'!r}",
                            f"convert it to one of: {_SUPPORTED}", path=path)
    size = path.stat().st_size
    if max_bytes and size > max_bytes:
        raise DocumentError(f"{path.name} is {size / 1e6:.1f} MB; the limit is {max_bytes / 1e6:g} MB "
                            "(each MB of text takes minutes to embed on a laptop's CPU)",
                            "split it into smaller files, or raise VJA_MAX_DOCUMENT_MB", path=path)
    try:
        data = b"" if suffix == ".pdf" else path.read_bytes()
    except OSError as exc:
        raise DocumentError(f"{path.name} could not be read: {exc.strerror}",
                            "check the file's permissions", path=path) from exc
    markdown = False
    if suffix == ".pdf":
        raw, candidate = _read_pdf(path)
    elif suffix in (".html", ".htm"):
        raw, candidate = _read_html(data)
    else:
        raw = _decode(data, path)
        # Plain .txt gets markdown treatment only when it carries markdown residue.
        marks = (_SETEXT, _ATX, _IMAGE, _LINK, _SHORTCODE)
        markdown = suffix != ".txt" or any(p.search(raw) for p in marks)
        heading = _ATX.search(raw) if markdown else None
        candidate = _clean(_strip_markdown(heading.group(1))) if heading else ""
    text = _clean(raw, markdown=markdown)
    if not re.search(r"\w", text):
        raise DocumentError(f"{path.name} contains no text",
                            "add a file with text in it (scanned PDFs need OCR first)", path=path)
    source = str(path.resolve())
    return Document(id=hashlib.sha256(source.encode()).hexdigest()[:16], source=source,
                    filename=path.name, title=_title(text, candidate, path), date=_date(text),
                    language=detect_language(text), text=text,
                    content_hash=hashlib.sha256(text.encode()).hexdigest())


def not_a_file(path: Path) -> str:
    """Why ``path`` cannot be read as a document ("does not exist", "is a folder, not a file", "is
    not a regular file (a device, pipe or socket)"); "" when it is a regular file."""
    if path.is_file():
        return ""
    if path.is_dir():
        return "is a folder, not a file"
    return "is not a regular file (a device, pipe or socket)" if path.exists() else "does not exist"


def iter_files(paths: str | Path | Iterable[str | Path]) -> tuple[list[Path], list[tuple[Path, str]]]:
    """Expand files and folders (recursively, sorted, skipping hidden entries) into the
    supported files, plus (path, reason) problems: missing paths and unsupported types.
    A single str or Path is one path, never a sequence of characters to walk one by one."""
    if isinstance(paths, (str, os.PathLike)):
        paths = [paths]
    files: list[Path] = []
    problems: list[tuple[Path, str]] = []
    seen: set[Path] = set()

    def add(file: Path) -> None:
        if file.suffix.lower() not in SUPPORTED_SUFFIXES:
            problems.append((file, "unsupported type"))
        elif file.resolve() not in seen:
            seen.add(file.resolve())
            files.append(file)

    for given in paths:
        path = Path(given).expanduser()
        if path.is_dir():  # os.walk, so hidden folders such as .git are never entered
            found = []
            for root, dirs, names in os.walk(path):
                dirs[:] = [d for d in dirs if not d.startswith(".")]
                found += [Path(root, n) for n in names if not n.startswith(".")]
            for file in sorted(found):
                add(file)
        elif path.is_file():
            add(path)
        else:
            problems.append((path, "not a regular file" if path.exists() else "not found"))
    return files, problems


def bundled_corpus() -> list[Path]:
    """The news reports shipped in the package's corpus/ folder (not its README)."""
    return sorted((Path(__file__).parent / "corpus").glob("*.txt"))
