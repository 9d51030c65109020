"""The relevance gate: thresholds per language relation, margin over the background, word coverage."""
from vjassistant.answer import Passage
from vjassistant.retrieval import RelevanceRule

RULE = RelevanceRule(min_similarity=0.82, min_margin=0.04, min_similarity_cross=0.76)


def p(sim=None, margin=None, language="en", coverage=0.0):
    return Passage(chunk_id="c", doc_id="d", source="s", filename="f", title="t", date="", language=language,
                   start=0, end=1, text="x", dense_similarity=sim, dense_margin=margin, term_coverage=coverage)


def test_same_language_needs_similarity_and_margin():
    assert RULE.judge([p(0.85, 0.06)], "en")[0]
    assert not RULE.judge([p(0.85, 0.02)], "en")[0]  # close, but no closer than everything else
    assert not RULE.judge([p(0.80, 0.10)], "en")[0]
    assert RULE.judge([p(0.85, None)], "en")[0]      # a small store has no background: similarity decides


def test_other_languages_have_their_own_threshold():
    assert RULE.judge([p(0.78, 0.01, language="en")], "vi")[0]
    assert not RULE.judge([p(0.74, 0.05, language="en")], "vi")[0]


def test_word_coverage_alone_is_enough_and_the_reason_names_the_figures():
    assert RULE.judge([p(0.5, 0.0, coverage=0.7)], "en")[0]
    ok, why = RULE.judge([p(0.79, 0.03), p(0.70, 0.01)], "en")
    assert not ok and "0.790" in why and "0.82" in why and "0.76" in why
    assert RULE.judge([], "en") == (False, "no passage was retrieved")
