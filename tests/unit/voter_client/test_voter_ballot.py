"""Ballot building for every style and rule: what is accepted, what is refused, and that an
accepted ballot is always counted as cast."""

from __future__ import annotations

import datetime as dt
import secrets

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from election.counting import BLANK, INVALID, classify
from election.manifest import Contest, Eligibility, Manifest, MixServer, Option, Trustee
from mixnet import elgamal
from mixnet.groups import get_group
from mixnet.rng import DeterministicRandom
from voter_client.ballot import (
    InvalidChoice,
    audit_record,
    contest_slots,
    describe_choices,
    encrypt_ballot,
    plaintext_row,
)

OPTS = tuple(Option(f"o{i}", f"候補 {i}", reading=f"こうほ {i}") for i in range(5))
IMAGES = tuple(Option(f"p{i}", f"案 {i}", image=f"img/{i}.png") for i in range(3))


def contest(rule: str, **kw) -> Contest:  # type: ignore[no-untyped-def]
    style = kw.pop("style", "public_office")
    options = kw.pop("options", OPTS)
    return Contest(f"c-{rule}", f"Contest {rule}", style, rule, options, **kw)


def test_single_choice() -> None:
    c = contest("single")
    assert contest_slots(c, "o2") == [3]
    assert contest_slots(c, None) == [0]
    with pytest.raises(InvalidChoice, match="no option"):
        contest_slots(c, "nobody")
    with pytest.raises(InvalidChoice, match="one option only"):
        contest_slots(c, ["o1", "o2"])
    with pytest.raises(InvalidChoice, match="blank"):
        contest_slots(contest("single", allow_blank=False), None)


def test_k_of_n_over_and_under_votes() -> None:
    c = contest("k_of_n", max_choices=3, min_choices=2)
    assert contest_slots(c, ["o4", "o0"]) == [1, 5, 0]
    assert contest_slots(c, []) == [0, 0, 0]  # blank allowed by default
    with pytest.raises(InvalidChoice, match="at most 3"):
        contest_slots(c, ["o0", "o1", "o2", "o3"])
    with pytest.raises(InvalidChoice, match="at least 2"):
        contest_slots(c, ["o0"])
    with pytest.raises(InvalidChoice, match="twice"):
        contest_slots(c, ["o0", "o0"])


def test_ranked_with_and_without_ties() -> None:
    c = contest("ranked", max_choices=5)
    assert contest_slots(c, ["o3", "o1"]) == [0, 2, 0, 1, 0]
    with pytest.raises(InvalidChoice, match="share a rank"):
        contest_slots(c, [["o3", "o1"], "o0"])
    with pytest.raises(InvalidChoice, match="ranked twice"):
        contest_slots(c, ["o3", "o3"])
    tied = contest("ranked", max_choices=5, allow_ties=True)
    assert contest_slots(tied, [["o3", "o1"], "o0"]) == [3, 1, 0, 1, 0]  # 1, 1, 3


def test_image_and_text_styles_use_the_same_rules() -> None:
    img = contest("single", style="image", options=IMAGES)
    assert contest_slots(img, "p2") == [3]
    txt = contest("k_of_n", style="text", max_choices=2)
    assert contest_slots(txt, ["o1"]) == [2, 0]


def _manifest(*contests: Contest) -> Manifest:
    jst = dt.timezone(dt.timedelta(hours=9))
    key = secrets.token_hex(32)
    return Manifest(
        election_id="ballot-test",
        title="テスト",
        election_day=dt.date(2026, 12, 6),
        voting_start=dt.datetime(2026, 11, 29, tzinfo=jst),
        voting_end=dt.datetime(2026, 12, 6, 20, tzinfo=jst),
        contests=contests,
        eligibility=Eligibility(16, ("茨城県つくば市",)),
        threshold=1,
        trustees=(Trustee("t-1", 1, key, key),),
        mix_servers=(MixServer("m-1", 1, key),),
        admin_key=key,
        registrar_key=key,
        board_key=key,
        group=get_group("test-schnorr-512-128").description(),
    )


def test_rows_concatenate_contests_and_unknown_contests_are_refused() -> None:
    m = _manifest(contest("single"), contest("k_of_n", max_choices=2))
    assert plaintext_row(m, {"c-single": "o1", "c-k_of_n": ["o2"]}) == [2, 3, 0]
    assert plaintext_row(m, {}) == [0, 0, 0]
    with pytest.raises(InvalidChoice, match="no contest"):
        plaintext_row(m, {"nope": "o1"})
    assert describe_choices(m, {"c-single": "o1"}) == [
        "Contest single: 候補 1",
        "Contest k_of_n: blank (白票)",
    ]


def test_encrypted_ballot_decrypts_verifies_and_audits() -> None:
    m = _manifest(contest("ranked", max_choices=5))
    group = get_group("test-schnorr-512-128")
    rng = DeterministicRandom(3)
    kp = elgamal.keygen(group, rng)
    enc = encrypt_ballot(m, kp.public, {"c-ranked": ["o4", "o0"]}, rng)
    enc.ballot.verify(m.fingerprint(), kp.public)
    assert elgamal.decrypt_row(kp.secret, enc.ballot.row, 8) == [2, 0, 0, 0, 1]
    record = audit_record(m, kp.public, enc)
    assert record["choices"] == [2, 0, 0, 0, 1] and len(record["randomness"]) == 5
    g = group.generator()
    for (a_hex, b_hex), r_hex, mval in zip(record["row"], record["randomness"], record["choices"]):
        r = group.scalar_from_hex(r_hex)
        assert group.element_from_hex(b_hex) == g**r
        assert group.element_from_hex(a_hex) == group.encode_message(mval) * kp.public**r
    assert "randomness" not in repr(enc)


@st.composite
def any_choice(draw, c: Contest):  # type: ignore[no-untyped-def]
    ids = [o.id for o in c.options]
    if c.rule == "single":
        return draw(st.none() | st.sampled_from(ids))
    picks = draw(st.lists(st.sampled_from(ids), max_size=len(ids) + 1))
    if c.rule == "ranked" and c.allow_ties and picks:
        return [picks[:2], *picks[2:]]
    return picks


CONTESTS = [
    contest("single"),
    contest("single", allow_blank=False),
    contest("k_of_n", max_choices=3, min_choices=2),
    contest("ranked", max_choices=3),
    contest("ranked", max_choices=5, allow_ties=True),
]


@pytest.mark.parametrize("c", CONTESTS, ids=lambda c: f"{c.rule}-{c.max_choices}")
@given(data=st.data())
@settings(max_examples=60, deadline=None)
def test_accepted_choices_always_count(c: Contest, data: st.DataObject) -> None:
    """Whatever the client accepts, the verifier's counting rule counts (never INVALID)."""
    choice = data.draw(any_choice(c))
    try:
        slots = contest_slots(c, choice)
    except InvalidChoice:
        return
    verdict = classify(c, slots)
    assert verdict != INVALID
    assert verdict != BLANK or c.allow_blank
