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
