"""The README stays a short guide, its links into docs/ resolve, and every generated table has a
benchmark that writes it."""
from __future__ import annotations

import re
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
DOCS = [ROOT / "README.md", *sorted((ROOT / "docs").glob("*.md"))]
README_LIMIT = 8000  # characters, generated tables included


def _slug(heading: str) -> str:
    """GitHub's anchor for a heading."""
    return re.sub(r"[^\w\- ]", "", heading.strip().lower()).replace(" ", "-")


def _anchors(doc: Path) -> set[str]:
    text = doc.read_text(encoding="utf-8")
    return ({_slug(h) for h in re.findall(r"^#+ (.+)$", text, re.M)}
            | set(re.findall(r'<a id="([\w-]+)"></a>', text)))


def test_readme_is_a_short_guide():
    assert len((ROOT / "README.md").read_text(encoding="utf-8")) <= README_LIMIT


def test_links_between_the_docs_resolve():
    broken = []
    for doc in DOCS:
        for target in re.findall(r"\]\(([^)\s]+)\)", doc.read_text(encoding="utf-8")):
            if re.match(r"[a-z]+://", target):
                continue
            path, _, anchor = target.partition("#")
            dest = (doc.parent / path).resolve() if path else doc
            if not dest.exists():
                broken.append(f"{doc.name}: {target}")
            elif anchor and dest.suffix == ".md" and anchor not in _anchors(dest):
                broken.append(f"{doc.name}: {target} (no such anchor)")
    assert not broken


def test_every_generated_table_has_its_benchmark():
    published = set()
    for script in (ROOT / "benchmarks").glob("*.py"):
        published |= set(re.findall(r'"([a-z-]+)"', script.read_text(encoding="utf-8")))
    for doc in DOCS:
        text = doc.read_text(encoding="utf-8")
        for section in re.findall(r"<!-- bench:([\w-]+) -->", text):
            assert section in published, f"{doc.name}: no benchmark writes bench:{section}"
            assert f"<!-- /bench:{section} -->" in text


def test_the_configuration_reference_matches_the_settings():
    from vjassistant.config import reference_markdown

    text = (ROOT / "docs" / "configuration.md").read_text(encoding="utf-8")
    block = text.split("<!-- settings -->\n", 1)[1].split("<!-- /settings -->", 1)[0]
    assert block == reference_markdown(), "regenerate: vjassistant config --markdown (docs/configuration.md)"
