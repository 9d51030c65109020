"""Smoke run of the generation benchmark with the 135M model, so the script keeps working."""
import subprocess
import sys
from pathlib import Path

import pytest

pytestmark = pytest.mark.e2e
BENCH = Path(__file__).resolve().parents[1] / "benchmarks"


def test_generation_benchmark_prints_its_table():
    out = subprocess.run([sys.executable, "generation.py", "--presets", "smollm2-135m", "--repeat", "1",
                          "--questions", "1"], cwd=BENCH, capture_output=True, text=True, timeout=600)
    assert out.returncode == 0, out.stderr[-2000:]
    assert "| preset |" in out.stdout and "| smollm2-135m |" in out.stdout
    assert "raw llama.cpp" in out.stdout
