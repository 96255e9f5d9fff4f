"""The choice form of the web UI: field names, form → choices, choices → words (pure; no I/O).

Field names per contest `C`: `c.C` holds the chosen option ids (one radio for single, check
boxes for k_of_n), `blank.C` an explicit blank vote (in a single-choice contest, the radio
`c.C` with the value "-"), `r.C.O` the rank given to option `O` of a ranked contest. The rules
themselves are `voter_client.ballot`'s: this module only reads the form, asks `contest_slots`
and says in the voter's language what went wrong.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import Any

from election.manifest import Contest, Manifest
from voter_client.ballot import InvalidChoice, contest_slots
from voter_client.web_text import text

__all__ = [
    "BLANK",
    "ChoiceError",
    "ContestWords",
    "choices_from_form",
    "describe",
    "form_values",
    "rule_words",
]

Form = Mapping[str, Sequence[str]]
PEOPLE_STYLES = ("public_office", "image")  # contests whose options are people
BLANK = "-"  # the blank radio of a single-choice contest (never an option id)


class ChoiceError(ValueError):
    """The form's choices cannot be cast: `contest` is the contest's id, `message` plain words."""

    def __init__(self, contest: str, message: str) -> None:
        self.contest = contest
        super().__init__(message)


def rule_words(contest: Contest, lang: str) -> str:
    """How to fill in `contest`, in the voter's language."""
    t = text(lang)
    if contest.rule == "single":
        return t["rule_single"]
    key = "rule_ranked"
    if contest.rule == "k_of_n":  # people are counted in 人, other options in 件
        key = "rule_k_of_n_people" if contest.style in PEOPLE_STYLES else "rule_k_of_n"
    words = t[key].format(min=contest.min_choices, max=contest.max_choices)
    if contest.allow_ties:
        words += " " + t["rule_ties"]
    return words


def _ranked(contest: Contest, form: Form) -> list[list[str]]:
    by_rank: dict[int, list[str]] = {}
    for option in contest.options:
        value = _one(form, f"r.{contest.id}.{option.id}")
        if value:
            if not value.isdigit():
                raise InvalidChoice(f"{contest.title}: a rank is a number")
            by_rank.setdefault(int(value), []).append(option.id)
    return [by_rank[r] for r in sorted(by_rank)]


def _one(form: Form, name: str) -> str:
    values = form.get(name) or []
    return values[0].strip() if values else ""


def _contest_choice(contest: Contest, form: Form, lang: str) -> list[Any]:
    t = text(lang)
    blank = _one(form, f"blank.{contest.id}") == "1" or BLANK in (form.get(f"c.{contest.id}") or [])
    try:
        picked = _picked(contest, form)
    except InvalidChoice as exc:
        raise ChoiceError(contest.id, _invalid(contest, lang, exc)) from exc
    if blank and picked:
        raise ChoiceError(contest.id, t["blank_and_option"].format(title=contest.title))
    if not blank and not picked:
        raise ChoiceError(contest.id, t["not_chosen"].format(title=contest.title))
    try:
        contest_slots(contest, picked)
    except InvalidChoice as exc:
        raise ChoiceError(contest.id, _invalid(contest, lang, exc)) from exc
    return picked


def _picked(contest: Contest, form: Form) -> list[Any]:
    if contest.rule == "ranked":
        return list(_ranked(contest, form))
    return [v for v in form.get(f"c.{contest.id}") or [] if v and v != BLANK]


def _invalid(contest: Contest, lang: str, exc: InvalidChoice) -> str:
    t = text(lang)
    message = t["invalid_choice"].format(title=contest.title, rule=rule_words(contest, lang))
    if lang == "en":
        return f"{message} ({exc})"
    why = t.get(f"why_{exc.why}") if exc.why else None
    return f"{message}（{why.format(n=exc.n)}）" if why else message


def choices_from_form(manifest: Manifest, form: Form, lang: str) -> dict[str, list[Any]]:
    """Every contest's choice from the form; `ChoiceError` for the first one that fails.

    A contest needs an option or an explicit blank: nothing chosen is asked about, never
    taken as a blank.
    """
    return {c.id: _contest_choice(c, form, lang) for c in manifest.contests}


def form_values(manifest: Manifest, choices: Mapping[str, Sequence[Any]]) -> dict[str, str]:
    """The form fields that show `choices` again (field name → value; check boxes as "1")."""
    values: dict[str, str] = {}
    for contest in manifest.contests:
        picked = choices.get(contest.id)
        if picked is None:
            continue
        if not picked:
            blank = f"c.{contest.id}.{BLANK}" if contest.rule == "single" else f"blank.{contest.id}"
            values[blank] = "1"
        elif contest.rule == "ranked":
            rank = 1
            for group in picked:
                for option_id in [group] if isinstance(group, str) else group:
                    values[f"r.{contest.id}.{option_id}"] = str(rank)
                rank += 1
        else:
            for option_id in picked:
                values[f"c.{contest.id}.{option_id}"] = "1"
    return values


@dataclass(frozen=True)
class ContestWords:
    """One contest on the review screen: its title and the chosen names, in order."""

    id: str
    title: str
    lines: tuple[str, ...]


def describe(manifest: Manifest, choices: Mapping[str, Any], lang: str) -> list[ContestWords]:
    """The review screen's words, from the slot values `contest_slots` gives."""
    t = text(lang)
    out = []
    for contest in manifest.contests:
        slots = contest_slots(contest, choices.get(contest.id))
        names = [o.name for o in contest.options]
        if not any(slots):
            lines = [t["blank_vote"]]
        elif contest.rule == "ranked":
            order = sorted((r, i) for i, r in enumerate(slots) if r)
            lines = [
                t["rank_line"].format(rank=t["rank_n"].format(rank=r), name=names[i])
                for r, i in order
            ]
        else:
            lines = [names[v - 1] for v in slots if v]
        out.append(ContestWords(contest.id, contest.title, tuple(lines)))
    return out
