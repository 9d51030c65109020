"""The quality benchmark's outcome table on hand-made results (fast; the e2e smoke runs it on real ones)."""
import sys
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1] / "benchmarks"))

from quality import outcome_table  # noqa: E402

from vjassistant.config import Settings  # noqa: E402
from vjassistant.evaluation import EvalConfig, EvalQuestion, EvalReport, EvalSet, QuestionResult  # noqa: E402
from vjassistant.evaluation.runner import RunResult  # noqa: E402


def _result(id_: str, f1: float, abstained: bool, raw: str = "", given: tuple[str, ...] = ("g",),
            rank: int | None = 1) -> QuestionResult:
    return QuestionResult(id=id_, question="q?", language="en", answerable=True, gold=["g"], retrieved=["g"],
                          rank=rank, raw=raw, abstained=abstained, f1=f1, exact_match=float(f1 == 1.0),
                          given=list(given))


def test_each_question_counts_once_and_declined_answers_are_scored_in_the_models_words():
    results = [
        _result("exact", 1.0, False, "Maria Okafor [1]"),
        _result("partly", 0.5, False, "the engineer Maria [1]"),
        _result("wrong", 0.0, False, "1887 [1]", given=("x",)),
        _result("before", 0.0, True, given=(), rank=2),        # no passage relevant enough
        _result("before-missed", 0.0, True, given=(), rank=None),
        _result("model", 0.0, True, "NOT_FOUND."),            # the sentinel first, as Assistant reads it
        _result("markers", 0.0, True, "[1]"),                  # nothing but a marker: the model said nothing
        _result("check", 0.0, True, "noon [2]"),
    ]
    answers = {"exact": ("Maria Okafor",), "check": ("noon",)}
    questions = [EvalQuestion(id=r.id, question=r.question, language="en", answers=answers.get(r.id, ("x",)),
                              gold=frozenset({"g"})) for r in results]
    report = EvalReport(dataset="mini.json", model="m", config=EvalConfig(split="test"), settings=Settings(top_k=3),
                        runs=[RunResult("mono en", 1, 1, results, [])], seconds=0.0)
    out = outcome_table(report, EvalSet(name="mini.json", documents=[], questions=questions))
    rows = {c[0]: c[1:] for line in out.splitlines() if line.startswith("| ") and not line.startswith(("| outcome",
            "| ---")) for c in [[x.strip() for x in line.strip("|").split("|")]]}
    assert [v[0] for v in rows.values()] == ["1 (12.5%)", "1 (12.5%)", "1 (12.5%)", "2 (25.0%)", "2 (25.0%)",
                                             "1 (12.5%)"]
    assert [v[1] for v in rows.values()] == ["0.0", "6.2", "12.5", "25.0", "25.0", "12.5"]
    # Gold in the prompt; for a question declined before the model, gold among the top_k retrieved.
    assert rows["answered, wrong"][2] == "0.000 (1)"
    assert rows["declined before the model: no passage relevant enough"][2] == "0.500 (2)"
    assert rows["declined by the check: no statement supported"][3] == "100.0 (1), 1 of them right"
    assert rows["declined by the model (NOT_FOUND)"][3] == "–"
    assert "the answers given score 50.0 F1 (3)" in out and "mini.json, test split" in out
