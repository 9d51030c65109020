"""The evaluation harness: SQuAD scoring, dataset loading, run planning, and runs over real
Chroma stores (fake embedder and scripted model here; the real pieces in test_eval_e2e)."""
import json

import pytest

from vjassistant.config import Settings, parse_assignments
from vjassistant.errors import ConfigError, InputError
from vjassistant.evaluation import EvalConfig, EvalReport, evaluate, load_eval_set
from vjassistant.evaluation.datasets import in_split, sample
from vjassistant.evaluation.metrics import (
    bootstrap_interval,
    contains_answer,
    exact_match,
    normalize_answer,
    percentile,
    token_f1,
)
from vjassistant.evaluation.runner import CachedEmbedder, plan_runs
from vjassistant.testing import FakeEmbedder, ScriptedModel

from .conftest import ROOT

MINI = [ROOT / "tests" / "data" / "xquad-mini.en.json", ROOT / "tests" / "data" / "xquad-mini.vi.json"]


# --- scoring ------------------------------------------------------------------------------------
def test_squad_normalisation_drops_case_punctuation_and_articles():
    assert normalize_answer("The  Denver Broncos!") == "denver broncos"
    assert normalize_answer("“Hà Nội” – thủ đô.") == "hà nội thủ đô"


def test_exact_match_and_f1_take_the_best_gold_answer():
    assert exact_match("the Broncos", ["Denver Broncos", "Broncos"]) == 1.0
    assert token_f1("Denver Broncos", ["Broncos"]) == pytest.approx(2 * 0.5 * 1 / 1.5)
    assert token_f1("Carolina", ["Denver Broncos"]) == 0.0
    assert token_f1("308 điểm", ["308"]) == pytest.approx(2 / 3)


def test_contains_answer_matches_whole_words_only():
    assert contains_answer("The Panthers defense surrendered 308 points.", ["308"])
    assert not contains_answer("They scored 1308 points.", ["308"])
    assert contains_answer("Đội thủ của Panthers chỉ thua 308 điểm.", ["thua 308 điểm"])


def test_percentile_interpolates_like_numpy():
    assert percentile([1, 2, 3, 4], 50) == 2.5
    assert percentile([5], 95) == 5


# --- datasets -----------------------------------------------------------------------------------
def test_parallel_squad_files_share_gold_keys_and_answers():
    s = load_eval_set(MINI)
    assert s.parallel and s.languages == ["en", "vi"]
    assert len(s.documents) == 12 and len(s.questions) == 22
    en = next(q for q in s.questions if q.language == "en")
    vi = next(q for q in s.questions if q.language == "vi" and q.id == en.id)
    assert en.gold == vi.gold and "308" in en.answers
    assert set(vi.other_answers) == set(en.answers)


def test_bundled_names_resolve_and_bad_files_are_refused(tmp_path):
    assert len(load_eval_set(["xquad-en"]).questions) == 1190
    with pytest.raises(InputError, match="does not exist"):
        load_eval_set([tmp_path / "missing.json"])
    bad = tmp_path / "bad.json"
    bad.write_text("{not json")
    with pytest.raises(InputError, match="not valid JSON"):
        load_eval_set([bad])
    bad.write_text('{"version": 1}')
    with pytest.raises(InputError, match="not SQuAD"):
        load_eval_set([bad])


def test_jsonl_questions_over_own_files(tmp_path):
    docs = tmp_path / "docs"
    (docs / "sub").mkdir(parents=True)
    (docs / "a.txt").write_text("The bridge opened in 1932.")
    (docs / "sub" / "b.md").write_text("# Budget\n\nThe budget was 4 million.")
    qs = tmp_path / "q.jsonl"
    qs.write_text(json.dumps({"question": "When did the bridge open?", "answers": ["1932"], "sources": ["a.txt"]})
                  + "\n\n" + json.dumps({"question": "Who won the cup?", "answers": [], "sources": [],
                                         "answerable": False}) + "\n"
                  + json.dumps({"question": "What was the budget?", "answers": ["4 million"],
                                "sources": ["sub/b.md"]}) + "\n")
    s = load_eval_set([qs], [docs])
    assert [q.gold for q in s.questions] == [frozenset({"a.txt"}), frozenset(), frozenset({"sub/b.md"})]
    assert [q.answerable for q in s.questions] == [True, False, True]
    assert [p.name for p in plan_runs(s, EvalConfig())] == ["given"]
    with pytest.raises(InputError, match="needs the documents"):
        load_eval_set([qs])
    qs.write_text(json.dumps({"question": "x?", "sources": ["nope.txt"]}) + "\n")
    with pytest.raises(InputError, match="not among the --docs"):
        load_eval_set([qs], [docs])
    qs.write_text("[1, 2]\n")
    with pytest.raises(InputError, match="line 1"):
        load_eval_set([qs], [docs])


def test_splits_and_samples_are_disjoint_and_seeded():
    groups = [f"{i:03d}" for i in range(10)]
    dev = {g for g in groups if in_split(g, "dev")}
    test = {g for g in groups if in_split(g, "test")}
    assert dev and test and not dev & test and dev | test == set(groups)
    qs = load_eval_set(MINI[:1]).questions
    assert sample(qs, 3, seed=1) == sample(qs, 3, seed=1) != sample(qs, 3, seed=2)
    assert len(sample(qs, 0, seed=1)) == len(qs)


# --- planning -----------------------------------------------------------------------------------
def test_plans_cover_every_mode_with_the_right_stores():
    s = load_eval_set(MINI)
    plans = {p.name: p for p in plan_runs(s, EvalConfig(limit=4, seed=0))}
    assert set(plans) == {"mono en", "mono vi", "cross en→vi", "cross vi→en", "mixed en+vi", "abstain en", "abstain vi"}
    assert {d.language for d in plans["cross vi→en"].documents} == {"en"}
    assert {q.language for q in plans["cross vi→en"].questions} == {"vi"}
    assert len(plans["mixed en+vi"].documents) == 12
    abstain = plans["abstain en"]
    stored = {d.group for d in abstain.documents}
    unanswerable = [q for q in abstain.questions if not q.answerable]
    assert unanswerable and all(q.group not in stored and not q.gold for q in unanswerable)
    assert all(q.group in stored for q in abstain.questions if q.answerable)
    assert all(len(p.questions) <= 4 for p in plans.values())


def test_modes_that_do_not_apply_are_refused():
    with pytest.raises(InputError, match="parallel"):
        plan_runs(load_eval_set(MINI[:1]), EvalConfig(modes=["cross"]))
    with pytest.raises(InputError, match="split"):
        plan_runs(load_eval_set(MINI[:1]), EvalConfig(split="train"))


def test_settings_assignments_are_typed_and_checked():
    assert parse_assignments(["top_k=3", "min-similarity=0.8"]) == {"top_k": 3, "min_similarity": 0.8}
    with pytest.raises(ConfigError):
        parse_assignments(["no_such=1"])
    with pytest.raises(ConfigError):
        parse_assignments(["top_k=three"])
    with pytest.raises(ConfigError, match="lexical_cross_weight must be within 0..1"):
        Settings(**parse_assignments(["lexical_cross_weight=2"]))


# --- runs over real Chroma (fake embedder, scripted model) ------------------------------------
def test_retrieval_only_run_scores_ranks(tmp_path):
    settings = Settings.from_env(store_dir=tmp_path / "unused", min_similarity=0.0)
    report = evaluate(MINI[:1], config=EvalConfig(retrieval_only=True), settings=settings, embedder=FakeEmbedder(),
                      cache=False)
    (run,) = report.runs
    assert run.name == "mono en" and run.documents == 6 and len(run.results) == 11
    hit5 = run.metric("hit@5")
    assert hit5.n == 11 and 0 < hit5.value <= 1
    assert run.metric("F1") is None and report.model == "(retrieval only)"
    assert all(r.answer == "" and r.abstained is None for r in run.results)
    assert not (tmp_path / "unused").exists()  # the evaluation never opens the configured store


def test_answer_run_scores_answers_citations_and_abstention(tmp_path):
    # The scripted model always gives the Super Bowl answer "308" and cites passage [1] (the checker
    # moves the marker to the passage that says it).
    model = ScriptedModel("The Panthers defense gave up 308 points [1].")
    settings = Settings.from_env(store_dir=tmp_path / "unused", min_similarity=0.0)
    report = evaluate(MINI[:1], config=EvalConfig(modes=["mono", "abstain"]), settings=settings,
                      embedder=FakeEmbedder(), chat_model=model, cache=False)
    mono = report.runs[0]
    first = mono.results[0]
    assert first.id == "56beb4343aeaaa14008c925b" and first.f1 > 0.25 and first.exact_match == 0.0
    assert mono.metric("F1").n == 11 and mono.metric("citation precision").n >= 1
    assert first.citations and first.citations[0]["valid"] == (first.citations[0]["key"] in first.gold
                                                                or "308" in first.answer)
    # Each citation records where its passage stands against the question, for rules weighed on the JSON.
    cited = first.citations[0]
    assert cited["language"] == "en" and 0 <= cited["term_coverage"] <= 1
    assert cited["best_dense"] >= (cited["dense_similarity"] or 0.0)
    abstain = report.runs[1]
    assert abstain.metric("abstention recall").n == sum(1 for r in abstain.results if not r.answerable)
    md = report.to_markdown()
    assert "| mono en |" in md and "hit@5" in md and "(n)" in md and "model scripted" in md
    # The JSON reads back as the same report (quality.py reuses recorded runs this way).
    report.write_json(tmp_path / "report.json")
    again = EvalReport.read_json(tmp_path / "report.json")
    assert again.to_dict() == json.loads((tmp_path / "report.json").read_text(encoding="utf-8"))
    assert again.to_markdown() == md and again.runs[0].results[0] == first
    (tmp_path / "broken.json").write_text('{"runs": []}', encoding="utf-8")
    for bad in (tmp_path / "broken.json", tmp_path / "missing.json"):
        with pytest.raises(InputError, match="vjassistant eval --json"):
            EvalReport.read_json(bad)


def test_embedding_cache_survives_between_evaluations(tmp_path):
    class Counting(FakeEmbedder):
        calls = 0

        def embed_passages(self, texts):
            Counting.calls += len(texts)
            return super().embed_passages(texts)

    first = CachedEmbedder(Counting(), tmp_path / "cache.npz")
    vectors = first.embed_passages(["a b", "c d", "a b"])
    assert Counting.calls == 2 and vectors.shape == (3, 64)
    first.save()
    second = CachedEmbedder(Counting(), tmp_path / "cache.npz")
    assert (second.embed_passages(["c d", "a b"]) == vectors[[1, 0]]).all()
    assert Counting.calls == 2  # nothing embedded again
    (tmp_path / "cache.npz").write_bytes(b"broken")
    assert CachedEmbedder(Counting(), tmp_path / "cache.npz").embed_passages(["a b"]).shape == (1, 64)


def test_jsonl_set_runs_as_given_with_abstention_metrics(tmp_path):
    docs = tmp_path / "docs"
    docs.mkdir()
    (docs / "bridge.txt").write_text("Bridge report\nThe harbour bridge opened in 1932 after eight years of work.")
    (docs / "budget.txt").write_text("Budget report\nThe city budget was 4 million dollars in 2019.")
    qs = tmp_path / "q.jsonl"
    rows = [{"question": "When did the harbour bridge open?", "answers": ["1932"], "sources": ["bridge.txt"]},
            {"question": "Who won the football cup?", "answers": [], "sources": [], "answerable": False}]
    qs.write_text("\n".join(json.dumps(r) for r in rows) + "\n")
    model = ScriptedModel("The harbour bridge opened in 1932 [1].")
    settings = Settings.from_env(store_dir=tmp_path / "unused", min_similarity=0.5)
    report = evaluate([qs], docs=[docs], settings=settings, embedder=FakeEmbedder(), chat_model=model, cache=False)
    (run,) = report.runs
    bridge, cup = run.results
    assert bridge.rank == 1 and bridge.f1 == pytest.approx(1 / 3) and bridge.citations[0]["valid"]
    assert cup.abstained and not cup.answerable  # nothing relevant: declined before the model
    assert run.metric("abstention recall").value == 1.0 and run.metric("abstention precision").value == 1.0


def test_bootstrap_interval_brackets_the_mean_and_narrows_with_more_questions():
    few = [1.0, 0.0] * 20
    lo, hi = bootstrap_interval(few)
    assert lo < 0.5 < hi and 0.25 < lo and hi < 0.75
    lo2, hi2 = bootstrap_interval(few * 9)
    assert lo < lo2 < 0.5 < hi2 < hi
    assert bootstrap_interval([0.7] * 10) == pytest.approx((0.7, 0.7))
    assert bootstrap_interval(few) == (lo, hi)  # seeded: the same figures every run


def test_key_facts_match_whole_words_without_case_accents_or_capital_d():
    from vjassistant.evaluation.chat import fact_found

    # "Đ" in capitals folds to "D" like "đ": "KH&ĐT" is the variant "KH&DT" (it did not match before).
    assert fact_found(["KH&DT"], "NIC trực thuộc Bộ KH&ĐT [2].")
    assert fact_found(["Trung tam Doi moi sang tao"], "Trung tâm Đổi mới sáng tạo Quốc gia [4]")
    assert fact_found(["startup"], "It helps startups [1].")
    assert not fact_found(["39"], "There are 390 projects [5].")
    assert not fact_found(["JETRO"], "The documents name nobody.")
