"""Language detection: Vietnamese by the share of its letters, other languages by py3langid."""
import pytest

from vjassistant.evaluation.datasets import BUNDLED, read_squad_json
from vjassistant.language import detect_language


@pytest.mark.parametrize("text, code", [
    ("Việt Nam và Nhật Bản hợp tác về đổi mới sáng tạo như thế nào?", "vi"),
    ("Ai ký thỏa thuận?", "vi"),
    ("Which universities signed the agreement?", "en"),
    ("Quelles universités ont signé l'accord ?", "fr"),
    ("2024-05-01 12:00", "en"),      # nothing to go on: the default
])
def test_short_questions(text, code):
    assert detect_language(text) == code


def test_names_are_read_among_the_languages_they_can_be_in():
    assert detect_language("José María Figueres") == "es"  # the guess, unrestricted
    assert detect_language("José María Figueres", among={"en", "vi"}) == "en"
    assert detect_language("Dongshan Dafo Dian", among={"en"}) == "en"
    assert detect_language("Quelles universités ont signé l'accord ?", among={"en", "fr"}) == "fr"
    assert detect_language("Ai ký thỏa thuận?", among={"en"}) == "vi"  # diacritics are not a guess
    assert detect_language("Pittsburgh Steelers", default="vi", among={"sw"}) == "vi"  # none known: the default


def test_an_english_text_quoting_vietnamese_names_stays_english():
    text = ("The agreement was signed in Hanoi by Prime Minister Phạm Minh Chính and the former "
            "General Secretary Nguyễn Phú Trọng, who had met the Japanese delegation the day "
            "before to discuss semiconductors, digital transformation and green growth.")
    assert detect_language(text) == "en"


def _contexts(name: str) -> list[str]:
    data = read_squad_json(BUNDLED[name])
    return [p["context"] for art in data["data"] for p in art["paragraphs"]]


@pytest.mark.parametrize("name, code", [("xquad-en", "en"), ("xquad-vi", "vi")])
def test_every_xquad_paragraph_gets_its_language(name, code):
    # English paragraphs 016-0 and 036-0 quote Vietnamese names: a letter count alone called them vi
    wrong = [i for i, text in enumerate(_contexts(name)) if detect_language(text[:2000]) != code]
    assert wrong == []
