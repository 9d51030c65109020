"""`vjassistant check`: real files in tmp_path, the real e5 embedder, the exit-code policy
(0 supported, 1 a citation fails, 2 bad input, 3 an unreadable source)."""
from __future__ import annotations

import io
import json
import os
import re
import subprocess
import sys
from pathlib import Path

import pytest

from vjassistant.cli import main
from vjassistant.documents import load_document

HANOI = "The Hanoi office opened in 2019 and employs 45 people. It is led by Nguyen Van An.\n"
LYON = "# Bureau de Lyon\n\nLe bureau de Lyon a ouvert en 2021. Il compte douze employés.\n"
DANANG = "Văn phòng Đà Nẵng được thành lập năm 2018 với 30 nhân viên.\n"


@pytest.fixture
def sources(tmp_path: Path) -> list[str]:
    files = {"hanoi.txt": HANOI, "lyon.md": LYON, "danang.txt": DANANG}
    for name, text in files.items():
        (tmp_path / name).write_text(text, encoding="utf-8")
    return [str(tmp_path / name) for name in files]


def run(*argv: str, stdin: str | None = None) -> subprocess.CompletedProcess[str]:
    env = {**os.environ, "PYTHONIOENCODING": "utf-8"}
    return subprocess.run([sys.executable, "-m", "vjassistant.cli", *argv], input=stdin, capture_output=True,
                          text=True, encoding="utf-8", env=env, timeout=120)


def test_supported_english_french_vietnamese_exit_0(tmp_path, sources):
    report = tmp_path / "report.md"
    report.write_text("# Offices\n\nThe Hanoi office opened in 2019 [1].\nLe bureau de Lyon a ouvert en 2021 [2].\n"
                      "Văn phòng Đà Nẵng được thành lập năm 2018 [3].\n", encoding="utf-8")
    r = run("check", str(report), "--sources", *sources)  # the real embedder, in a process of its own
    assert r.returncode == 0, r.stdout + r.stderr
    lines = r.stdout.splitlines()
    assert any(re.fullmatch(rf"{re.escape(str(report))}:3: ✓ supported 0\.9\d  \[1\] The Hanoi office opened in 2019\.",
                            line) for line in lines), lines
    assert any(line.startswith(f"{report}:4: ✓") and "Lyon" in line for line in lines)
    assert any(line.startswith(f"{report}:5: ✓") and "Đà Nẵng" in line for line in lines)
    # each citation: verdict, score, file and evidence span in the source, the quote
    assert any(re.fullmatch(r'    \[1\] supported 0\.9\d  hanoi\.txt chars 4–31  "Hanoi office opened in 2019"', line)
               for line in lines), lines
    # offsets are in the document as loaded (markdown cleaned), as ingestion stores it
    start = load_document(sources[1]).text.index("bureau de Lyon a ouvert en 2021")
    assert any(f"lyon.md chars {start}–" in line for line in lines)
    assert "✗" not in r.stdout and "uncited" not in r.stdout  # the markdown heading is no statement
    assert "citation recall 1.000, citation precision 1.000 (ALCE)  OK" in r.stdout


def test_cross_language_statements_with_embedder(sources, capsys):
    """French and Vietnamese statements cited to an English source: the embedder compares meaning."""
    assert main(["check", "--text", "Le bureau de Hanoi compte 45 employés [1]. Văn phòng Hanoi có 45 nhân viên [1].",
                 "--sources", sources[0]]) == 0
    assert capsys.readouterr().out.count("✓ supported") == 2
    assert main(["check", "--text", "Le bureau de Hanoi compte 54 employés [1].", "--sources", sources[0]]) == 1
    assert "        missing: 54" in capsys.readouterr().out.splitlines()
    argv = ["check", "--text", "Le bureau de Hanoi a ouvert en 2019 [1].", "--sources", sources[0]]
    assert main([*argv, "--no-semantic"]) == 0  # unverified passes by default ...
    assert "? unverified" in capsys.readouterr().out
    assert main([*argv, "--no-semantic", "--strict"]) == 1  # ... and fails with --strict


def test_changed_number_is_unsupported_exit_1(tmp_path, sources, capsys):
    text = tmp_path / "claims.txt"
    text.write_text("The Hanoi office opened in 2019 [1]. It employs 54 people [1].\n"
                    "Le bureau de Lyon a ouvert en 2020 [2].", encoding="utf-8")
    assert main(["check", str(text), "--sources", *sources]) == 1
    out = capsys.readouterr().out
    lines = out.splitlines()
    assert f"{text}:1: ✗ unsupported 0.00  [1] It employs 54 people." in lines
    assert lines[lines.index(f"{text}:1: ✗ unsupported 0.00  [1] It employs 54 people.") + 2] == "        missing: 54"
    assert any(line.startswith(f"{text}:2: ✗ unsupported") and "2020" in line for line in lines)
    assert "        missing: 2020" in lines
    assert "supported 1, unsupported 2" in out and out.rstrip().endswith("FAIL")


def test_partial_fails_without_strict(sources, capsys):
    assert main(["check", "--text", "The Hanoi office opened in 2019 and has a rooftop garden with bees [1].",
                 "--sources", sources[0]]) == 1
    out = capsys.readouterr().out
    assert out.startswith("~ partial") and "missing: rooftop, garden, bees" in out


def test_marker_out_of_range_exit_1(sources, capsys):
    assert main(["check", "--text", "The Hanoi office opened in 2019 [1]. It has a garden [4].",
                 "--sources", *sources, "--no-semantic"]) == 1
    out = capsys.readouterr().out
    assert "– uncited 0.00  [4] It has a garden." in out
    assert "    [4] points at no source (sources: 1, 2, 3)" in out
    assert "1 pointing at no source" in out
    # a supported statement with one extra, invalid marker still fails
    assert main(["check", "--text", "The Hanoi office opened in 2019 [1, 9].", "--sources", sources[0],
                 "--no-semantic"]) == 1
    assert "[9] points at no source (sources: 1)" in capsys.readouterr().out


def _answer() -> dict:
    """What `vjassistant ask --json` prints, trimmed to what check reads, plus keys it ignores."""
    passage = {"chunk_id": "d1:0", "doc_id": "d1", "source": "/docs/danang.txt", "filename": "danang.txt",
               "title": "Đà Nẵng", "date": "", "language": "vi", "start": 100, "end": 100 + len(DANANG.strip()),
               "text": DANANG.strip(), "score": 0.03, "dense_similarity": 0.9, "number": 2, "future_field": 1}
    text = "Văn phòng Đà Nẵng được thành lập năm 2018 [2]. Văn phòng có 30 nhân viên [2]."
    return {"question": "Khi nào?", "text": text,
            "citations": [], "passages": [{**passage, "number": 1, "text": HANOI.strip()}, passage],
            "abstained": False, "reason": "", "check": None, "timings": {"total_s": 1.0}}


def test_answer_json_round_trip(tmp_path, capsys):
    path = tmp_path / "answer.json"
    path.write_text(json.dumps(_answer(), ensure_ascii=False), encoding="utf-8")
    assert main(["check", str(path)]) == 0
    out = capsys.readouterr().out
    # markers follow Passage.number; the span is in document offsets (the passage starts at 100)
    assert re.search(r'\n    \[2\] supported (1\.00|0\.9\d)  danang\.txt chars 100–141  '
                     r'"Văn phòng Đà Nẵng được thành lập năm 2018"', out), out
    assert main(["check", str(path), "--json"]) == 0
    report = json.loads(capsys.readouterr().out)
    assert report["ok"] and report["citation_recall"] == 1.0 and report["citations"] == 2
    assert [s["markers"] for s in report["statements"]] == [[2], [2]]
    assert report["statements"][0]["citations"][0]["filename"] == "danang.txt"


def test_answer_json_from_stdin_with_changed_number():
    answer = {**_answer(), "text": "Văn phòng Đà Nẵng được thành lập năm 2017 [2]."}
    r = run("check", "-", "--json", stdin=json.dumps(answer))
    assert r.returncode == 1, r.stderr
    report = json.loads(r.stdout)
    assert not report["ok"] and report["unsupported"] == ["Văn phòng Đà Nẵng được thành lập năm 2017."]
    assert report["statements"][0]["citations"][0]["missing"] == ["2017"]


def test_answer_json_passages_may_be_bare_texts(capsys, monkeypatch):
    monkeypatch.setattr(sys, "stdin", io.StringIO(json.dumps({"text": "Il compte douze employés [1].",
                                                              "passages": [LYON]})))
    assert main(["check", "-", "--no-semantic"]) == 0
    assert "passage 1 chars" in capsys.readouterr().out


def test_an_answer_json_is_checked_in_its_question_language_as_ask_checked_it(capsys, monkeypatch):
    # A name alone is guessed Spanish; the answer's "language" (its question's) says how ask read it.
    passage = ("Harvard University's alumni include many heads of state, among them the Costa Rican President "
               "José María Figueres, who studied at the Kennedy School of Government.")
    answer = {"text": "José María Figueres [1]", "language": "en", "passages": [passage]}
    monkeypatch.setattr(sys, "stdin", io.StringIO(json.dumps(answer)))
    assert main(["check", "-", "--no-semantic", "--strict"]) == 0
    assert "✓ supported" in capsys.readouterr().out
    del answer["language"]  # no question known: guessed freely, a Spanish name over an English passage
    monkeypatch.setattr(sys, "stdin", io.StringIO(json.dumps(answer)))
    assert main(["check", "-", "--no-semantic", "--strict"]) == 1
    assert "? unverified" in capsys.readouterr().out


def test_abstained_answer_has_nothing_to_check(tmp_path, capsys):
    path = tmp_path / "answer.json"
    path.write_text(json.dumps({"text": "Không tìm thấy.", "passages": [], "abstained": True, "reason": "no match"}))
    assert main(["check", str(path), "--strict"]) == 0
    assert "abstained (no match)" in capsys.readouterr().out


def test_check_opens_no_store_and_no_model(tmp_path, sources):
    store = tmp_path / "store"
    code = ("import sys; from vjassistant.cli import main; "
            f"rc = main(['--store', {str(store)!r}, 'check', '--text', 'It employs 45 people [1].', "
            f"'--sources', {sources[0]!r}]); "
            "print(rc, [m for m in ('chromadb', 'llama_cpp', 'gradio') if m in sys.modules])")
    r = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, encoding="utf-8",
                       env={**os.environ, "PYTHONIOENCODING": "utf-8"}, timeout=120)
    assert r.stdout.splitlines()[-1] == "0 []", r.stdout + r.stderr
    assert not store.exists()


@pytest.mark.parametrize(("argv", "message"), [
    (["--text", "It opened in 2019 [1].", "--sources", "{tmp}/nope.txt"], "Source [1] {tmp}/nope.txt does not exist"),
    (["--text", "It opened in 2019 [1].", "--sources", "{tmp}"], "is a folder"),
    (["{tmp}/missing.json"], "{tmp}/missing.json does not exist"),
    (["{tmp}/bad.json"], "{tmp}/bad.json is not valid JSON"),
    (["{tmp}/claims.txt"], "{tmp}/claims.txt is not valid JSON"),  # a text file without --sources
    (["{tmp}/no_passages.json"], 'holds no "passages"'),
    (["{tmp}/no_text.json"], 'holds no answer "text"'),
    (["--text", "   ", "--sources", "{tmp}/claims.txt"], "The text to check is empty"),
    (["--text", "It opened in 2019 [1]."], "--text needs the sources"),
    ([], "check needs something to check"),
])
def test_bad_input_exit_2_with_fix(tmp_path, capsys, argv, message):
    (tmp_path / "bad.json").write_text('{"text": "It opened in 2019 [1].", ', encoding="utf-8")
    (tmp_path / "claims.txt").write_text("It opened in 2019 [1].", encoding="utf-8")
    (tmp_path / "no_passages.json").write_text('{"text": "It opened in 2019 [1]."}', encoding="utf-8")
    (tmp_path / "no_text.json").write_text('{"passages": ["It opened in 2019."]}', encoding="utf-8")
    assert main(["check", *(a.format(tmp=tmp_path) for a in argv), "--no-semantic"]) == 2
    err = capsys.readouterr().err
    assert err.startswith("error: ") and message.format(tmp=tmp_path) in err
    assert "\n  fix: " in err


def test_missing_source_file_exit_2_subprocess(tmp_path):
    r = run("check", "--text", "It opened in 2019 [1].", "--sources", str(tmp_path / "gone.pdf"))
    assert r.returncode == 2 and r.stdout == ""
    assert r.stderr == f"error: Source [1] {tmp_path / 'gone.pdf'} does not exist\n" \
                       "  fix: check the path of each --sources file\n"


def test_a_device_as_source_is_named_for_what_it_is(capsys):
    assert main(["check", "--text", "It opened in 2019 [1].", "--sources", "/dev/zero", "--no-semantic"]) == 2
    err = capsys.readouterr().err
    assert "Source [1] /dev/zero is not a regular file" in err and "fix: " in err


def test_invalid_json_exit_2_subprocess():
    r = run("check", "-", stdin="{not json")
    assert r.returncode == 2 and "error: stdin is not valid JSON" in r.stderr and "fix:" in r.stderr


def test_unreadable_source_is_a_document_error_exit_3(tmp_path, capsys):
    (tmp_path / "notes.docx").write_bytes(b"PK\x03\x04")
    assert main(["check", "--text", "It opened in 2019 [1].", "--sources", str(tmp_path / "notes.docx")]) == 3
    err = capsys.readouterr().err
    assert "unsupported type '.docx'" in err and "fix: convert it to one of" in err
