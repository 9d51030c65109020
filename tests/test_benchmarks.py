"""Smoke runs of the benchmark scripts with tiny arguments (and the 135M model), so they keep working."""
import json
import os
import subprocess
import sys
from pathlib import Path

import pytest

pytestmark = pytest.mark.e2e
BENCH = Path(__file__).resolve().parents[1] / "benchmarks"


def test_generation_benchmark_prints_its_table():
    # The bundled corpus exceeds the 135M model's context: a small budget of the same machinery.
    out = subprocess.run([sys.executable, "generation.py", "--presets", "smollm2-135m", "--repeat", "1",
                          "--questions", "1"], cwd=BENCH, capture_output=True, text=True, timeout=600,
                         env=os.environ | {"VJA_MAX_TOKENS": "24"})
    assert out.returncode == 0, out.stderr[-2000:]
    assert "| preset | run |" in out.stdout and "| smollm2-135m | ours, retrieval |" in out.stdout
    assert "raw llama-cpp-python, same retrieval prompt" in out.stdout


def run_bench(*args: str, env: dict[str, str] | None = None) -> str:
    out = subprocess.run([sys.executable, *args], cwd=BENCH, capture_output=True, text=True, timeout=300,
                         env=os.environ | (env or {}))
    assert out.returncode == 0, out.stderr[-2000:]
    return out.stdout


def test_retrieval_benchmark_prints_its_table():
    out = run_bench("retrieval.py", "--sizes", "300", "--queries", "5")
    assert "| chunks | insert s |" in out and "| 300 |" in out
    assert "Chroma alone p50 ms" in out and "BM25 alone p50 ms" in out


def test_ingestion_benchmark_prints_its_table():
    out = run_bench("ingestion.py", "--paragraphs", "4", "--repeat", "1")
    assert "| documents | chunks |" in out and "| 9 |" in out
    assert "embedder alone chunks/s" in out and "peak RSS" in out


def test_startup_benchmark_prints_its_table():
    # A short prompt and answer keep the four generations quick; the machinery timed is the same.
    out = run_bench("startup.py", "--preset", "smollm2-135m", "--repeat", "1",
                    env={"VJA_PROMPT_BUDGET": "400", "VJA_MAX_TOKENS": "48"})
    assert "| preset | run |" in out
    assert "| smollm2-135m | ours, cold |" in out and "| smollm2-135m | raw llama-cpp-python, cold |" in out


def test_prompt_cost_benchmark_prints_its_tables():
    out = run_bench("prompt_cost.py", "--limit", "2", "--presets", "smollm2-135m", "--model", "smollm2-135m",
                    "--variants", "top_k=2,passage_tokens=60")
    assert "| preset | prompt tokens p50 |" in out and "| smollm2-135m |" in out
    assert "| setting | gold in prompt |" in out and "| top_k=2, passage_tokens=60 |" in out


def test_quality_benchmark_prints_its_tables(tmp_path):
    mini = ",".join(str(BENCH.parent / "tests" / "data" / f"xquad-mini.{lang}.json") for lang in ("en", "vi"))
    out = run_bench("quality.py", "--sets", mini, "--presets", "smollm2-135m", "--limit", "2", "--split", "all",
                    "--json-dir", str(tmp_path), "--target-limit", "3",
                    "--target-model", "smollm2-135m")
    report = json.loads((tmp_path / "smollm2-135m.json").read_text(encoding="utf-8"))
    assert {r["name"] for r in report["runs"]} >= {"mono en", "abstain vi"}
    assert all(q["question"] for r in report["runs"] for q in r["results"])
    assert "| mono en |" in out and "| cross vi→en |" in out and "(retrieval only)" in out
    assert "**smollm2-135m**" in out and "| abstain vi |" in out
    summary = out[out.index("| preset | F1 mono en |"):]
    assert "| smollm2-135m |" in summary and "abstention recall" in summary
    target = out[out.index("| run | model | F1 | F1 95% interval |"):]
    row = next(line for line in target.splitlines() if line.startswith("| mono en |"))
    cells = [c.strip() for c in row.strip("|").split("|")]
    f1, (lo, hi), verdict = float(cells[2].split()[0]), map(float, cells[3].split("–")), cells[-1]
    assert cells[1] == "smollm2-135m" and cells[2].endswith("(3)") and lo <= f1 <= hi
    assert verdict == ("met" if lo >= 70 else "not met" if hi < 70 else "undecided: the interval spans 70")
    # Every target question counts under one outcome, and the F1 points lost add up to 100 - F1.
    outcomes = out[out.index("| outcome | questions |"):].splitlines()[2:8]
    assert outcomes[0].startswith("| answered, exact |") and outcomes[-1].startswith("| declined by the check")
    assert sum(int(line.split("|")[2].split()[0]) for line in outcomes) == 3
    assert abs(100 - sum(float(line.split("|")[3]) for line in outcomes) - f1) < 0.6
    target_report = json.loads((tmp_path / "target.json").read_text(encoding="utf-8"))
    assert [r["name"] for r in target_report["runs"]] == ["mono en"] and len(target_report["runs"][0]["results"]) == 3
    # Every answer the model wrote carries its confidence; the floors decline more as they rise.
    written = [q for r in report["runs"] for q in r["results"] if q["raw"]]
    assert written and all(0.0 < q["confidence"] <= 1.0 for q in written)
    # The recorded runs are read back instead of asked again: the same tables, no model loaded; a
    # run recorded with other settings is refused, naming them.
    again = run_bench("quality.py", "--sets", mini, "--presets", "smollm2-135m", "--limit", "2", "--split", "all",
                      "--skip-retrieval", "--reuse-json", str(tmp_path), "--target-limit", "3",
                      "--target-model", "smollm2-135m")
    reused = [line for line in again.splitlines() if "not asked again" in line]
    assert [line.split(":")[0] for line in reused] == ["smollm2-135m", "target"]
    tables = again[again.index("**smollm2-135m**"):].splitlines()
    assert [line for line in tables if line not in reused] == out[out.index("**smollm2-135m**"):].splitlines()
    refused = subprocess.run([sys.executable, "quality.py", "--sets", mini, "--presets", "smollm2-135m", "--limit",
                              "3", "--split", "all", "--skip-retrieval", "--reuse-json", str(tmp_path)],
                             cwd=BENCH, capture_output=True, text=True, timeout=300)
    assert refused.returncode != 0 and "limit=2 (now 3)" in refused.stderr
    del report["settings"]["temperature"]  # as recorded before that setting was kept
    (tmp_path / "smollm2-135m.json").write_text(json.dumps(report), encoding="utf-8")
    refused = subprocess.run([sys.executable, "quality.py", "--sets", mini, "--presets", "smollm2-135m", "--limit",
                              "2", "--split", "all", "--skip-retrieval", "--reuse-json", str(tmp_path)],
                             cwd=BENCH, capture_output=True, text=True, timeout=300)
    assert refused.returncode != 0 and "temperature not recorded" in refused.stderr


def test_citation_check_benchmark_prints_its_tables():
    # A slice of the labelled support set (60 dev + 60 test examples) with the real embedder.
    out = run_bench("citation_check.py", "--limit", "60")
    assert "| statement → passage | examples | balanced accuracy |" in out and "| all | 60 |" in out
    assert "| kind | label | examples | accuracy |" in out and "lexical only" in out and "embedder only" in out
    overall = next(line for line in out.splitlines() if line.startswith("| all |"))
    assert float(overall.split("|")[3]) >= 0.75  # the full test split measures ~0.9 (README)


def test_conversational_benchmarks_print_their_tables(tmp_path):
    env = {"VJA_MODEL": "smollm2-135m", "VJA_MAX_TOKENS": "32"}
    out = run_bench("chat_quality.py", "--split", "test", "--limit", "3", "--modes", "retrieval",
                    "--json", str(tmp_path / "chat.json"), env=env)
    assert "| retrieval | 3 |" in out and "| mode | target | goal | measured (n) | verdict |" in out
    again = run_bench("chat_quality.py", "--reuse-json", str(tmp_path / "chat.json"))
    assert again.split("| mode | target |")[0] == out.split("| mode | target |")[0]  # read back, not asked
    rules = run_bench("decline_rules.py", "--limit", "3", "--modes", "retrieval", "--json-dir", str(tmp_path), env=env)
    assert "| retrieval | relevance gate |" in rules and "| retrieval | defaults (kept rules) |" in rules
    mini = ",".join(str(BENCH.parent / "tests" / "data" / f"xquad-mini.{lang}.json") for lang in ("en", "vi"))
    cross = run_bench("cross_retrieval.py", "--model", "smollm2-135m", "--chat-limit", "12", "--limit", "3",
                      "--sets", mini, env=env)
    assert "| XQuAD cross vi→en | translated query |" in cross and "| XQuAD mixed en+vi | both |" in cross
