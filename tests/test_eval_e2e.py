"""The evaluation harness with the real pieces: e5 embedder, Chroma in temp dirs, the 135M model.

The 135M model is too weak to answer XQuAD well, so its answers are checked for shape, not
score; retrieval is checked for score: the whole English set must keep hit@5 >= 0.95."""
import json
import subprocess
import sys

import pytest

from vjassistant.evaluation import EvalConfig, evaluate

from .conftest import ROOT, TEST_MODEL

pytestmark = pytest.mark.e2e
MINI = [str(ROOT / "tests" / "data" / f"xquad-mini.{lang}.json") for lang in ("en", "vi")]


def test_retrieval_only_over_all_english_questions_meets_the_target():
    report = evaluate(["xquad-en"], config=EvalConfig(modes=["mono"], retrieval_only=True))
    (run,) = report.runs
    assert run.documents == 240 and len(run.results) == 1190
    assert run.metric("hit@5").value >= 0.95, report.to_markdown()


def test_eval_command_runs_every_mode_with_the_real_model(tmp_path):
    out_json, out_md = tmp_path / "report.json", tmp_path / "report.md"
    done = subprocess.run([sys.executable, "-m", "vjassistant.cli", "--model", TEST_MODEL, "eval", *MINI,
                           "--limit", "2", "--json", str(out_json), "--markdown", str(out_md)],
                          capture_output=True, text=True, timeout=900)
    assert done.returncode == 0, done.stderr[-3000:]
    for name in ("mono en", "mono vi", "cross en→vi", "cross vi→en", "mixed en+vi", "abstain en", "abstain vi"):
        assert f"| {name} |" in done.stdout
    assert out_md.read_text(encoding="utf-8").strip() == done.stdout.strip()
    report = json.loads(out_json.read_text(encoding="utf-8"))
    assert report["model"] == TEST_MODEL and len(report["runs"]) == 7
    for run in report["runs"]:
        assert len(run["results"]) <= 2 and {m["name"] for m in run["metrics"]} >= {"hit@5", "F1", "TTFT p50"}
        for r in run["results"]:
            assert r["abstained"] in (True, False) and r["total_s"] > 0
    abstain = next(r for r in report["runs"] if r["name"] == "abstain en")
    assert any(not r["answerable"] for r in abstain["results"])


def test_eval_command_errors_name_the_fix(tmp_path):
    done = subprocess.run([sys.executable, "-m", "vjassistant.cli", "eval", str(tmp_path / "nope.json")],
                          capture_output=True, text=True, timeout=120)
    assert done.returncode == 2 and "does not exist" in done.stderr and "fix:" in done.stderr


def test_a_slice_of_the_conversational_set_runs_in_both_modes(tmp_path):
    """vjassistant eval over a small conversational set of its own (two short documents: the 135M
    model's 2,048-token context holds them whole), then a slice of the bundled set (the corpus is
    larger than that context, so by retrieval)."""
    docs = tmp_path / "docs"
    docs.mkdir()
    (docs / "bridge.txt").write_text("Harbour report\nThe harbour bridge opened in 1932 after eight years of work.",
                                     encoding="utf-8")
    (docs / "marche.txt").write_text("Le marché\nLe marché aux poissons ouvre à cinq heures et ferme à midi.",
                                     encoding="utf-8")
    rows = [{"id": "en-1", "split": "dev", "language": "en", "kind": "factoid", "question": "When did the bridge open?",
             "answerable": True, "sources": ["bridge.txt"], "facts": [["1932"]], "needed": 1},
            {"id": "fr-1", "split": "dev", "language": "fr", "kind": "follow-up", "question": "Et à quelle heure ?",
             "history": [["Quand le marché ferme-t-il ?", "Le marché ferme à midi [2]."]], "answerable": True,
             "sources": ["marche.txt"], "facts": [["midi"]], "needed": 1},
            {"id": "en-2", "split": "dev", "language": "en", "kind": "off-topic",
             "question": "Who won the 2022 World Cup?", "answerable": False}]
    questions = tmp_path / "set.jsonl"
    questions.write_text("\n".join(json.dumps(r, ensure_ascii=False) for r in rows) + "\n", encoding="utf-8")
    out_json = tmp_path / "chat.json"
    done = subprocess.run([sys.executable, "-m", "vjassistant.cli", "--model", TEST_MODEL, "eval", str(questions),
                           "--docs", str(docs), "--json", str(out_json)], capture_output=True, text=True, timeout=900)
    assert done.returncode == 0, done.stderr[-3000:]
    assert "| collection | 3 |" in done.stdout and "| retrieval | 3 |" in done.stdout and "follow-up" in done.stdout
    report = json.loads(out_json.read_text(encoding="utf-8"))
    assert [r["mode"] for r in report["runs"]] == ["collection", "retrieval"]
    for run in report["runs"]:
        names = {m["name"]: m for m in run["metrics"]}
        assert names["correct"]["n"] == 3 and names["abstention recall"]["n"] == 1 and "TTFT p50" in names
        assert {r["mode"] for r in run["results"] if r["passages"]} <= {run["mode"]}
    bundled = subprocess.run([sys.executable, "-m", "vjassistant.cli", "--model", TEST_MODEL, "eval", "chat",
                              "--mode", "retrieval", "--split", "test", "--limit", "3"],
                             capture_output=True, text=True, timeout=900)
    assert bundled.returncode == 0, bundled.stderr[-3000:]
    assert "| retrieval | 3 |" in bundled.stdout and "questions.jsonl, split test" in bundled.stdout
