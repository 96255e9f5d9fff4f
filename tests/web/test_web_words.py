"""The web UI's words and its choice form, without a server."""

from __future__ import annotations

import datetime as dt
import re
from typing import Any

import pytest

from jpki.reasons import Reason
from tests.web.web_support import web_election
from voter_client.web_form import (
    ChoiceError,
    choices_from_form,
    describe,
    form_values,
    rule_words,
)
from voter_client.web_text import reason_text, text, when

MANIFEST = web_election(b"web words", "web-words").manifest


def test_both_languages_have_every_word_and_reason() -> None:
    assert set(text("ja")) == set(text("en"))
    assert text("fr") is text("ja")  # Japanese unless English is asked for
    for reason in Reason:
        assert reason_text("ja", reason, 3) and reason_text("en", reason, 3)
    assert "あと3回" in reason_text("ja", Reason.WRONG_PASSWORD, 3)
    assert "3 tries are left" in reason_text("en", Reason.WRONG_PASSWORD, 3)
    for lang, advice in (("ja", "選挙管理委員会"), ("en", "election office")):
        assert advice in reason_text(lang, Reason.VOTING_CODE_USED)  # what to do next


def as_form(values: dict[str, str]) -> dict[str, list[str]]:
    """What a browser posts for the fields `form_values` marks (as the template renders them)."""
    form: dict[str, list[str]] = {}
    for name, value in values.items():
        if name.startswith("c."):
            contest, _, option = name[2:].partition(".")
            form.setdefault(f"c.{contest}", []).append(option)
        else:
            form[name] = [value]
    return form


@pytest.mark.parametrize(
    "choices",
    [
        {"mayor": ["b"], "council": ["sato", "takahashi"], "park": [["station"], ["north"]]},
        {"mayor": [], "council": [], "park": []},
        {"mayor": ["a"], "council": ["suzuki"], "park": [["river"], ["north"], ["station"]]},
    ],
)
def test_the_form_shows_and_reads_back_the_same_choices(choices: dict[str, Any]) -> None:
    assert choices_from_form(MANIFEST, as_form(form_values(MANIFEST, choices)), "ja") == choices


def test_refusals_name_the_contest_in_the_voters_language() -> None:
    form = {"c.mayor": ["a"], "c.council": ["sato", "suzuki", "takahashi"], "blank.park": ["1"]}
    with pytest.raises(ChoiceError) as ja:
        choices_from_form(MANIFEST, form, "ja")
    assert ja.value.contest == "council" and "1〜2人選んでください" in str(ja.value)
    assert "（選べる数（2）を超えています）" in str(ja.value)  # the detail, as in English
    tie = {"c.mayor": ["a"], "blank.council": ["1"], "r.park.north": ["1"], "r.park.river": ["1"]}
    with pytest.raises(ChoiceError) as ties:
        choices_from_form(MANIFEST, tie, "ja")
    assert "2つの選択肢に同じ順位はつけられません" in str(ties.value)
    with pytest.raises(ChoiceError) as en:
        choices_from_form(MANIFEST, form, "en")
    assert "Choose 1 to 2" in str(en.value) and "at most 2" in str(en.value)


def test_the_review_words() -> None:
    choices = {"mayor": [], "council": ["takahashi"], "park": [["north"], ["river"]]}
    words = describe(MANIFEST, choices, "en")
    assert [w.lines for w in words] == [
        ("Blank vote",),
        ("高橋 陽子",),
        ("rank 1: 北部の森", "rank 2: 川沿いの緑地"),
    ]
    assert [w.lines for w in describe(MANIFEST, choices, "ja")][2] == (
        "1位：北部の森",
        "2位：川沿いの緑地",
    )


#: words of developers, never on a voter's page (a 詳しい情報 disclosure may hold them)
DEVELOPER_WORDS = re.compile(
    r"掲示板|ベナロー|Benaloh|ハッシュ|hash|tohyo |bulletin|board|"
    r"/[a-z]+/|\.json|個"
)
DISCLOSED = {"audit_details"}  # shown only inside a 詳しい情報 disclosure


@pytest.mark.parametrize("lang", ["ja", "en"])
def test_no_developer_words_on_voter_pages(lang: str) -> None:
    found = {
        key: words
        for key, words in text(lang).items()
        if key not in DISCLOSED and DEVELOPER_WORDS.search(words)
    }
    assert not found
    # check ids, details of errors and file names go to a 詳しい情報 disclosure, never the text
    assert not [k for k, w in text(lang).items() if re.search(r"\{(check|detail|file)\}", w)]
    for reason in Reason:
        assert not DEVELOPER_WORDS.search(reason_text("ja", reason, 3)), reason


def test_japanese_words_use_full_width_punctuation() -> None:
    for key, words in text("ja").items():
        if re.search("[\u3040-\u30ff\u4e00-\u9fff]", words):
            assert not re.search(r"[:!?()]", words.replace("{", "").replace("}", "")), key


def test_dates_as_a_voter_reads_them() -> None:
    jst = dt.timezone(dt.timedelta(hours=9))
    assert when("ja", dt.datetime(2026, 12, 6, 20, 0, tzinfo=jst)) == "2026年12月6日(日) 20:00"
    assert when("ja", dt.date(2026, 12, 6)) == "2026年12月6日(日)"
    assert when("en", dt.datetime(2026, 12, 6, 20, 0, tzinfo=jst)) == (
        "Sun 6 Dec 2026, 20:00 (UTC+09:00)"
    )
    assert when("en", dt.date(2026, 11, 30)) == "Mon 30 Nov 2026"


def test_japanese_counts_people_in_nin() -> None:
    rules = {c.id: rule_words(c, "ja") for c in MANIFEST.contests}
    assert rules["council"] == "1〜2人選んでください。"  # candidates: people
    assert "件" in rules["park"] and "人" not in rules["park"]  # places: not people
