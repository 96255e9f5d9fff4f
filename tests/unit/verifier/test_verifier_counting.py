"""Counting rules (election/counting.py): examples and properties."""

from __future__ import annotations

import datetime as dt

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from election.counting import (
    BLANK,
    INVALID,
    Vote,
    classify,
    count_contest,
    count_election,
    instant_runoff,
)
from election.manifest import Contest, Eligibility, Manifest, MixServer, Option, Trustee
from mixnet.encoding import canonical_json
from mixnet.groups import get_group

OPTS = tuple(Option(x, x.upper()) for x in ("a", "b", "c", "d"))


def contest(rule: str, **kw: object) -> Contest:
    return Contest("c", "C", "text", rule, OPTS, **kw)  # type: ignore[arg-type]


SINGLE = contest("single")
SINGLE_NO_BLANK = contest("single", allow_blank=False)
TWO_OF_FOUR = contest("k_of_n", max_choices=2)
TWO_OF_FOUR_MIN2 = contest("k_of_n", max_choices=2, min_choices=2)
RANKED = contest("ranked", max_choices=4)
BORDA = contest("ranked", max_choices=4, allow_ties=True)


def test_single() -> None:
    assert classify(SINGLE, [2]) == Vote(chosen=(2,))
    assert classify(SINGLE, [0]) == BLANK
    assert classify(SINGLE_NO_BLANK, [0]) == INVALID
    assert classify(SINGLE, [5]) == INVALID
    assert classify(SINGLE, [None]) == INVALID
    t = count_contest(SINGLE, [[1], [2], [2], [0], [9], [None]])
    assert t.counts == {"a": 1, "b": 2, "c": 0, "d": 0}
    assert (t.valid, t.blank, t.invalid, t.winners) == (3, 1, 2, ("b",))
    assert count_contest(SINGLE, [[1], [2]]).winners == ("a", "b")  # a tie: both named
    assert count_contest(SINGLE, []).winners == ()


def test_k_of_n() -> None:
    assert classify(TWO_OF_FOUR, [1, 3]) == Vote(chosen=(1, 3))
    assert classify(TWO_OF_FOUR, [4, 0]) == Vote(chosen=(4,))
    assert classify(TWO_OF_FOUR, [0, 0]) == BLANK
    for bad in ([3, 1], [2, 2], [0, 2], [1, 5], [1]):
        assert classify(TWO_OF_FOUR, bad) == INVALID, bad
    assert classify(TWO_OF_FOUR_MIN2, [4, 0]) == INVALID
    t = count_contest(TWO_OF_FOUR, [[1, 3], [3, 0], [3, 1], [0, 0]])
    assert t.counts == {"a": 1, "b": 0, "c": 2, "d": 0}
    assert (t.valid, t.blank, t.invalid) == (2, 1, 1)
    assert t.to_json()["method"] == "approval"


def test_ranked_without_ties() -> None:
    assert classify(RANKED, [2, 1, 0, 0]) == Vote(ranks=(2, 1, 0, 0))
    for bad in ([1, 1, 0, 0], [2, 0, 0, 0], [1, 3, 0, 0], [1, 2, 3, 5]):
        assert classify(RANKED, bad) == INVALID, bad
    assert classify(RANKED, [0, 0, 0, 0]) == BLANK
    assert classify(contest("ranked", max_choices=2), [1, 2, 3, 0]) == INVALID


def test_instant_runoff_example() -> None:
    # a: 4 first preferences, b: 3, c: 2 (c's voters prefer b next) → c out, b wins 5–4
    ballots = [[1]] * 4 + [[2, 1]] * 3 + [[3, 2]] * 2
    rounds, exhausted, winner = instant_runoff(3, ballots)
    assert rounds == [{1: 4, 2: 3, 3: 2}, {1: 4, 2: 5}]
    assert exhausted == [0, 0] and winner == 2


def test_instant_runoff_exhausted_and_ties() -> None:
    # c's voters rank nobody else: their ballots are exhausted after c is out
    rounds, exhausted, winner = instant_runoff(3, [[1]] * 3 + [[2]] * 3 + [[3]] * 1)
    assert exhausted == [0, 1, 4] and winner == 1  # a–b tie: b (later in the manifest) out
    assert rounds[-1] == {1: 3}
    assert instant_runoff(2, []) == ([{1: 0, 2: 0}], [0], None)


def test_ranked_count_json() -> None:
    rows = [[1, 0, 0, 0]] * 4 + [[2, 1, 0, 0]] * 3 + [[0, 2, 1, 0]] * 2 + [[1, 1, 0, 0]]
    t = count_contest(RANKED, rows)
    doc = t.to_json()
    assert doc["method"] == "instant_runoff" and doc["winners"] == ["b"]
    assert doc["invalid"] == 1 and doc["rounds"][0] == {"a": 4, "b": 3, "c": 2, "d": 0}
    canonical_json(doc)  # integers, strings, lists and objects only


def test_borda_with_ties() -> None:
    assert classify(BORDA, [1, 1, 3, 0]) == Vote(ranks=(1, 1, 3, 0))
    assert classify(BORDA, [1, 1, 2, 0]) == INVALID  # dense ranking is not competition ranking
    assert classify(BORDA, [2, 2, 0, 0]) == INVALID
    t = count_contest(BORDA, [[1, 1, 3, 0], [1, 2, 3, 4]])
    # n = 4: rank r earns 4 − r; unranked nothing
    assert t.counts == {"a": 6, "b": 5, "c": 2, "d": 0}
    assert t.winners == ("a",) and t.to_json()["method"] == "borda"


def manifest(*contests: Contest) -> Manifest:
    jst = dt.timezone(dt.timedelta(hours=9))
    key = "00" * 32
    return Manifest(
        election_id="e",
        title="T",
        election_day=dt.date(2026, 12, 6),
        voting_start=dt.datetime(2026, 11, 29, 7, tzinfo=jst),
        voting_end=dt.datetime(2026, 12, 6, 20, tzinfo=jst),
        contests=contests,
        eligibility=Eligibility(18, ("茨城県つくば市",)),
        threshold=1,
        trustees=(Trustee("t-1", 1, key, key),),
        mix_servers=(MixServer("m-1", 1, key),),
        admin_key=key,
        registrar_key=key,
        board_key=key,
        group=get_group("test-schnorr-512-128").description(),
    )


def test_count_election_slices_the_rows() -> None:
    m = manifest(
        Contest("x", "X", "text", "single", OPTS),
        Contest("y", "Y", "text", "k_of_n", OPTS, max_choices=2),
    )
    tally = count_election(m, [[1, 2, 3], [0, 4, 0], [2, 3, 2]])
    assert tally["x"]["counts"] == {"a": 1, "b": 1, "c": 0, "d": 0}
    assert tally["y"]["counts"] == {"a": 0, "b": 1, "c": 1, "d": 1}
    assert (tally["y"]["valid"], tally["y"]["invalid"]) == (2, 1)
    with pytest.raises(ValueError, match="slots"):
        count_election(m, [[1, 2]])


slot = st.one_of(st.none(), st.integers(0, 6))


@settings(max_examples=150, deadline=None)
@given(
    st.sampled_from([SINGLE, SINGLE_NO_BLANK, TWO_OF_FOUR, TWO_OF_FOUR_MIN2, RANKED, BORDA]),
    st.data(),
)
def test_every_row_is_counted_once(c: Contest, data: st.DataObject) -> None:
    rows = data.draw(st.lists(st.lists(slot, min_size=c.width, max_size=c.width), max_size=30))
    t = count_contest(c, rows)
    assert t.valid + t.blank + t.invalid == len(rows)
    if c.rule == "single":
        assert sum(t.counts.values()) == t.valid
    if c.rule == "k_of_n":
        assert all(v <= t.valid for v in t.counts.values())
    shuffled = data.draw(st.permutations(rows))
    assert count_contest(c, shuffled).to_json() == t.to_json()  # order does not matter


@settings(max_examples=150, deadline=None)
@given(
    st.lists(
        st.permutations([1, 2, 3, 4]).flatmap(lambda p: st.integers(0, 4).map(lambda k: p[:k])),
        max_size=40,
    )
)
def test_instant_runoff_properties(ballots: list[list[int]]) -> None:
    rounds, exhausted, winner = instant_runoff(4, ballots)
    for r, spent in zip(rounds, exhausted):
        assert sum(r.values()) + spent == len(ballots)
    last = rounds[-1]
    if winner is None:
        assert sum(last.values()) == 0
    else:
        assert (
            2 * last[winner] > sum(last.values())
            or len(last) == 1
            or last[winner] == max(last.values())
        )
    if ballots and all(b for b in ballots):
        firsts = [b[0] for b in ballots]
        top = max(set(firsts), key=firsts.count)
        if 2 * firsts.count(top) > len(ballots):
            assert winner == top  # a first-round majority wins
