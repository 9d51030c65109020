"""Contradiction cues (polarity.py), and the checker refuting with them: a statement that flips its
evidence's sense is refuted, in any of the three languages."""
import pytest

from vjassistant.grounding.polarity import flipped, negations, quantities
from vjassistant.grounding.support import SUPPORTED, UNSUPPORTED, SupportChecker

EVIDENCE = ("Cooperation possibilities for Japan and Vietnam are limitless, said Kishida. "
            "In Japan, Vietnam has set up the Vietnam - Japan Open Innovation Network with thousands of members. "
            "The JETRO DX project links Japanese businesses with enterprises in developing countries.")


def test_negations_count_real_negations_only():
    assert negations("They will not assist.") == 1 and negations("Ils ne participeront pas.") == 1
    assert negations("JETRO không hợp tác.") == 1
    # "not only" and a negation inside an opposite's own phrase ("không giới hạn" = limitless) are no negation
    assert negations("It will provide not only opportunities but also tools.") == 0
    assert negations("Khả năng hợp tác là không giới hạn.") == 0


@pytest.mark.parametrize("statement,why", [
    ("Cooperation possibilities are not limitless.", "negation"),
    ("Cooperation possibilities are limited.", "opposite (limit)"),
    ("Les possibilités de coopération sont limitées.", "opposite (limit)"),
    ("Le projet relie les entreprises des pays développés.", "opposite (develop)"),
    ("Khả năng hợp tác là vô hạn.", ""),
    ("Dự án liên kết doanh nghiệp Nhật Bản với doanh nghiệp ở các nước phát triển.", "opposite (develop)"),
    ("Dự án liên kết doanh nghiệp Nhật Bản với doanh nghiệp ở các nước đang phát triển.", ""),
])
def test_flipped_names_the_cue(statement, why):
    assert flipped(statement, EVIDENCE) == why


def test_quantity_words_are_keys_that_must_match():
    assert quantities("with millions of members") == {"~1e6"} == quantities("hàng triệu thành viên")
    assert quantities("des milliers de membres") == {"~1e3"} and quantities("30 millions de dollars") == set()


@pytest.mark.parametrize("statement,language,verdict", [
    ("Kishida said cooperation possibilities for Japan and Vietnam are limitless.", "en", SUPPORTED),
    ("Kishida said cooperation possibilities for Japan and Vietnam are not limitless.", "en", UNSUPPORTED),
    ("Kishida said cooperation possibilities for Japan and Vietnam are limited.", "en", UNSUPPORTED),
    ("Vietnam has set up the Vietnam - Japan Open Innovation Network with millions of members.", "en", UNSUPPORTED),
    ("Le Vietnam a créé le réseau avec des millions de membres.", "fr", UNSUPPORTED),
])
def test_the_checker_refutes_a_flipped_sense(statement, language, verdict):
    r = SupportChecker().support(statement, EVIDENCE, statement_language=language, passage_language="en")
    assert (r.verdict == SUPPORTED) == (verdict == SUPPORTED), r


@pytest.mark.parametrize("statement,evidence,same,why", [
    # a negation the statement leaves out with its words says nothing against it
    ("Rollo gave the settlers a common identity.",
     "Before Rollo's arrival, its populations did not differ from Picardy. Rollo gave the settlers a common identity.",
     True, ""),
    # affirming what the evidence only negates is a flip; affirming what it also affirms is not
    ("JETRO has cooperated with the Ministry since 1993.", "JETRO has not cooperated with the Ministry since 1993.",
     True, "negation"),
    ("Na Uy không tham gia năm 1972 nhưng tham gia năm 1994.",
     "Na Uy không tham gia năm 1972 nhưng tham gia năm 1994.", True, ""),
    # across languages a privative translates without a negation ("unknown", "chưa được biết đến")
    ("The two clades were previously unknown.", "Hai nhánh này trước đây chưa được biết đến.", False, ""),
    ("JCCI và JETRO sẽ không hỗ trợ các hoạt động của NIC.", "JCCI and JETRO will assist with the activities of NIC.",
     False, "negation"),
])
def test_negation_cues_need_the_negated_words(statement, evidence, same, why):
    assert flipped(statement, evidence, same_language=same, aligned=None if same else evidence) == why


def test_words_built_on_khong_are_no_negation():
    assert negations("Hàng không và không gian, máy bay không người lái, có hay không.") == 0
