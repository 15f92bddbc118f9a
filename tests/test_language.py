"""Language detection for items whose feed declares no language."""

from __future__ import annotations

import pytest

from bot.topics.language import detect_language, primary_subtag


@pytest.mark.parametrize(
    ("text", "lang"),
    [
        (
            "The envoys said the draft was nearly ready, but the two sides still disagree "
            "about who would control the power plant after the war.",
            "en",
        ),
        (
            "Prezydent powiedział, że rozmowy są trudne, ale porozumienie jest możliwe jeszcze "
            "w tym roku. Wysłannicy mają się spotkać w przyszłym tygodniu.",
            "pl",
        ),
        (
            "Der Präsident sagte, die Gespräche seien schwierig, aber eine Einigung sei noch in "
            "diesem Jahr möglich. Die Gesandten wollen sich nächste Woche treffen.",
            "de",
        ),
        (
            "Le président a déclaré que les discussions sont difficiles, mais qu'un accord reste "
            "possible cette année selon les envoyés.",
            "fr",
        ),
        (
            "El presidente dijo que las conversaciones son difíciles, pero que un acuerdo es "
            "posible este año según los enviados.",
            "es",
        ),
        (
            "Президент заявив, що переговори складні, але угода можлива вже цього року. "
            "Посланці мають зустрітися наступного тижня.",
            "uk",
        ),
        (
            "Президент заявил, что переговоры сложные, но соглашение возможно уже в этом году. "
            "Посланники должны встретиться на следующей неделе.",
            "ru",
        ),
    ],
)
def test_detects_the_languages_of_the_story_press(text: str, lang: str) -> None:
    assert detect_language(text) == lang


@pytest.mark.parametrize(
    ("text", "lang"),
    [
        ("Zełenski spotkał się z wysłannikami w Berlinie", "pl"),
        ("Selenskyj trifft die Gesandten in Berlin", "de"),
        ("Zelensky meets the envoys in Berlin for talks", "en"),
    ],
)
def test_a_headline_with_telltale_words_is_enough(text: str, lang: str) -> None:
    assert detect_language(text) == lang


def test_a_foreign_name_does_not_outweigh_the_sentence() -> None:
    text = "Lech Wałęsa and Thomas Müller were both at the dinner, and they spoke about the war."
    assert detect_language(text) == "en"


@pytest.mark.parametrize(
    "text",
    ["", "Kyiv", "Breaking news", "2026-01-05 12:00", "Zelensky, Budanov, Yermak"],
)
def test_unsure_on_too_little_text(text: str) -> None:
    assert detect_language(text) is None


@pytest.mark.parametrize(
    ("tag", "primary"),
    [
        ("en-GB", "en"),
        ("en-us", "en"),
        ("pl_PL", "pl"),
        ("DE", "de"),
        (" fr-FR ", "fr"),
        ("uk", "uk"),
        (None, None),
        ("", None),
        ("x", None),
        ("12-34", None),
    ],
)
def test_primary_subtag(tag: str | None, primary: str | None) -> None:
    assert primary_subtag(tag) == primary
