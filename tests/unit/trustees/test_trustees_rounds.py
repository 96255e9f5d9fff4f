"""The key ceremony's rounds (docs/trustees.md §4.1): only the administrator closes a round; a
missing share is re-sent encrypted, never revealed; a dealer with t or more complaints is
dropped without a reveal; no record may put t shares of a dealer in the open.

One test per transition of `DkgTrustee` and per rule of `PublicRecord` added with the rounds.
"""

from __future__ import annotations

import pytest
from trustees_unit_support import assert_every_subset_decrypts, resign

from mixnet.errors import DecodeError, VerificationError
from mixnet.rng import DeterministicRandom
from trustees import channel
from trustees.dkg import (
    CLOSED,
    DkgTrustee,
    Phase,
    PublicRecord,
    RoundClose,
    ceremony_event,
    derive_public_outcome,
    exposed_dealers,
)
from trustees.errors import PeerProtocolError
from trustees.messages import Complaints, EncryptedShare, Reveal
from trustees.testing import make_config, run_ceremony


def _closes(run):
    return [e.round for e in run.events if isinstance(e, RoundClose)]


def _kinds(run):
    return [m.KIND for m in run.posted]


def _record_until(config, events, stop):
    """A record of `events` up to (not including) the first for which `stop` holds."""
    record = PublicRecord(config)
    for e in events:
        if stop(e):
            break
        if isinstance(e, RoundClose):
            record.close(e.round)
        else:
            record.append(e)
    return record


# ---------------------------------------------------------------- transitions


def test_honest_rounds_close_after_round_3(group, size):
    """IDLE →start→ DEALT →round 2→ COMPLAINED →round 3→ ANSWERED →closed→ DONE."""
    t, n = size
    config, keys = make_config(group, t, n, seed="rounds/honest")
    run = run_ceremony(config, keys, seed="rounds/honest")
    assert _closes(run) == [2, 3, CLOSED]
    assert "dkg.reveal" not in _kinds(run)
    assert all(tr.phase is Phase.DONE and tr.key_share for tr in run.trustees.values())


def test_a_trustees_message_never_moves_another_trustee(group):
    """Every complaint of round 2 posted ahead of time is refused, and the trustees stay in
    round 1 until the administrator closes it."""
    config, keys = make_config(group, 2, 3, seed="rounds/early")
    trustees = {
        i: DkgTrustee(config, i, keys[i - 1], DeterministicRandom(f"e/{i}")) for i in config.indices
    }
    dealt = [m for tr in trustees.values() for m in tr.start()]
    for m in dealt:
        for tr in trustees.values():
            assert tr.receive(m) == []
    early = resign(Complaints(config.election, 3, ((1, "inconsistent"),)), keys)
    for tr in trustees.values():
        with pytest.raises(PeerProtocolError, match=r"DKG4 round order.*trustee 3 in round 1"):
            tr.receive(early)
        assert tr.phase is Phase.DEALT and tr.record.round == 1
    out = [m for tr in trustees.values() for m in tr.close_round(2)]
    assert [type(m) for m in out] == [Complaints] * 3
    assert all(tr.phase is Phase.COMPLAINED for tr in trustees.values())


@pytest.mark.parametrize("drop", ["one", "all"])
def test_withheld_shares_are_re_sent_encrypted_never_revealed(group, size, drop):
    """A board that loses shares in round 1: each recipient complains "missing", the dealer
    re-sends the share encrypted in round 3, rounds 4 and 5 follow — nothing is revealed, every
    trustee keeps its share, every dealer stays qualified."""
    t, n = size
    config, keys = make_config(group, t, n, seed=f"rounds/withhold-{drop}")
    lost: set[tuple[int, int]] = set()

    def intercept(m):
        if isinstance(m, EncryptedShare) and (drop == "all" or (m.sender, m.recipient) == (2, 1)):
            if (m.sender, m.recipient) not in lost:
                lost.add((m.sender, m.recipient))
                return []
        return [m]

    run = run_ceremony(config, keys, seed=f"rounds/withhold-{drop}", intercept=intercept)
    assert _closes(run) == [2, 3, 4, 5, CLOSED]
    assert "dkg.reveal" not in _kinds(run)
    record = run.trustees[1].record
    assert record.resent == lost
    assert all(tr.key_share is not None for tr in run.trustees.values())
    assert run.outcome().qualified == tuple(config.indices)
    assert exposed_dealers(run.posted, config) == {}
    assert derive_public_outcome(run.events, config) == run.outcome()
    assert_every_subset_decrypts(run)


def test_bad_re_sent_share_is_rechecked_and_revealed_in_round_5(group):
    """ANSWERED →round 4→ RECHECKED →round 5→ REVEALED →closed→ DONE: the re-sent share is
    wrong, the victim complains in round 4, the dealer reveals that one share in round 5."""
    config, keys = make_config(group, 2, 3, seed="rounds/recheck")
    seen: list = []

    def intercept(m):
        if isinstance(m, EncryptedShare) and (m.sender, m.recipient) == (2, 1):
            seen.append(m)
            if len(seen) == 1:
                return []  # lost in round 1
            eph, ct = channel.seal_share(config, 2, 1, group.scalar(5), DeterministicRandom(3))
            return [resign(m, keys, ephemeral=eph, ciphertext=ct)]  # re-sent wrong
        return [m]

    run = run_ceremony(config, keys, seed="rounds/recheck", intercept=intercept)
    assert _closes(run) == [2, 3, 4, 5, CLOSED]
    rechecks = [m for m in run.posted if isinstance(m, Complaints) and m.round == 4]
    assert [(m.sender, m.complaints) for m in rechecks] == [(1, ((2, "inconsistent"),))]
    reveals = [m for m in run.posted if isinstance(m, Reveal)]
    assert [(m.sender, m.round, [j for j, _ in m.shares]) for m in reveals] == [(2, 5, [1])]
    assert run.trustees[2].phase is Phase.DONE
    assert run.outcome().qualified == (1, 2, 3)
    assert run.trustees[1].key_share is not None  # from the revealed share
    assert_every_subset_decrypts(run)


def test_dealer_with_t_complaints_is_dropped_without_a_reveal(group, size):
    """t trustees (lying or not) find dealer 1's share wrong: dealer 1 reveals nothing and
    is disqualified; the others finish with their shares."""
    t, n = size
    config, keys = make_config(group, t, n, seed="rounds/t-complaints")
    accusers = set(range(2, 2 + t))

    def intercept(m):
        if isinstance(m, Complaints) and m.round == 2 and m.sender in accusers:
            return [resign(m, keys, complaints=((1, "inconsistent"),))]
        return [m]

    run = run_ceremony(config, keys, seed="rounds/t-complaints", intercept=intercept)
    assert "dkg.reveal" not in _kinds(run)
    outcome = run.outcome()
    assert 1 not in outcome.qualified
    assert "nothing revealed" in outcome.disqualified[1]
    assert all(tr.key_share is not None for tr in run.trustees.values())
    assert derive_public_outcome(run.events, config) == outcome
    assert_every_subset_decrypts(run)


def test_fewer_than_t_false_complaints_reveal_only_the_liars_shares(group, size):
    t, n = size
    config, keys = make_config(group, t, n, seed="rounds/liars")
    liars = set(range(2, 1 + t))  # t − 1 of them

    def intercept(m):
        if isinstance(m, Complaints) and m.round == 2 and m.sender in liars:
            return [resign(m, keys, complaints=((1, "inconsistent"),))]
        return [m]

    run = run_ceremony(config, keys, seed="rounds/liars", intercept=intercept)
    reveals = [m for m in run.posted if isinstance(m, Reveal)]
    assert [(m.sender, {j for j, _ in m.shares}) for m in reveals] == [(1, liars)]
    assert run.outcome().qualified == tuple(config.indices)
    assert_every_subset_decrypts(run)


# ---------------------------------------------------------------- the record's rules


@pytest.fixture
def withheld(group):
    """A 2-of-3 ceremony in which share 2→1 was lost in round 1 (so rounds 4 and 5 happen)."""
    config, keys = make_config(group, 2, 3, seed="rounds/rules")
    lost: list = []

    def intercept(m):
        if isinstance(m, EncryptedShare) and (m.sender, m.recipient) == (2, 1) and not lost:
            lost.append(m)
            return []
        return [m]

    run = run_ceremony(config, keys, seed="rounds/rules", intercept=intercept)
    return config, keys, run, lost[0]


def _refused(record, msg, step):
    with pytest.raises(PeerProtocolError) as info:
        record.append(msg)
    assert info.value.step == step
    return info.value.detail


def test_reveal_before_its_round_is_refused(withheld):
    config, keys, run, _ = withheld
    record = _record_until(config, run.events, lambda e: e == RoundClose(3))
    early = resign(Reveal(config.election, 3, ((1, config.group.scalar(1)),), round=3), keys)
    assert "trustee 3 in round 2" in _refused(record, early, "DKG4 round order")


def test_round_2_complaints_replayed_in_round_4_are_refused(withheld):
    config, _, run, _ = withheld
    record = _record_until(config, run.events, lambda e: e == RoundClose(5))
    first = next(m for m in run.posted if isinstance(m, Complaints) and m.sender == 1)
    assert "round 2 from trustee 1 in round 4" in _refused(record, first, "DKG4 round order")


def test_round_4_complaint_without_a_re_sent_share_is_refused(withheld):
    config, keys, run, _ = withheld
    record = _record_until(config, run.events, lambda e: e == RoundClose(5))
    c = resign(Complaints(config.election, 3, (), round=4), keys)
    assert "nothing to recheck" in _refused(record, c, "DKG9 complaint")


def test_missing_complaint_against_a_posted_share_is_refused(withheld):
    config, keys, run, _ = withheld
    record = _record_until(config, run.events, lambda e: isinstance(e, Complaints))
    c = resign(Complaints(config.election, 3, ((1, "missing"),)), keys)
    assert "is on the record" in _refused(record, c, "DKG9 complaint")


def test_complaint_against_a_dealer_that_never_committed_is_refused(group):
    config, keys = make_config(group, 2, 3, seed="rounds/no-commit")
    run = run_ceremony(config, keys, absent={3}, seed="rounds/no-commit")
    record = _record_until(config, run.events, lambda e: isinstance(e, Complaints))
    c = resign(Complaints(config.election, 1, ((3, "missing"),)), keys)
    assert "posted no valid commitments" in _refused(record, c, "DKG9 complaint")


def test_a_share_is_re_sent_only_to_a_missing_complaint(withheld):
    config, keys, run, lost = withheld
    record = _record_until(config, run.events, lambda e: e == RoundClose(3))
    again = resign(lost, keys, recipient=3)  # nobody complained that 2→3 was missing
    _refused(record, again, "DKG4 round order")


def test_rounds_close_in_order_and_the_ceremony_after_rounds_4_and_5(withheld):
    config, _, run, _ = withheld
    record = _record_until(config, run.events, lambda e: e == RoundClose(4))
    assert record.round == 3 and record.resent
    with pytest.raises(PeerProtocolError, match="rounds 4 and 5 come first"):
        record.close(CLOSED)
    with pytest.raises(PeerProtocolError, match="round 5 cannot follow round 3"):
        record.close(5)
    record.close(4)
    assert record.round == 4


def test_nothing_after_the_ceremony_is_closed(ceremony):
    config, _, run = ceremony
    record = _record_until(config, run.events, lambda e: False)
    assert record.closed
    assert "after the ceremony closed" in _refused(record, run.posted[-1], "DKG4 round order")


def test_a_record_that_reveals_t_shares_of_a_dealer_fails(group):
    """The old, unsafe answer to "missing" complaints: t shares of one dealer in the open. The
    observer fails it as "DKG8 secret exposed" before anything else, naming the dealer."""
    config, keys = make_config(group, 2, 3, seed="rounds/exposed")
    run = run_ceremony(config, keys, seed="rounds/exposed")
    dealer = run.trustees[1].polynomial
    assert dealer is not None
    reveal = resign(Reveal(config.election, 1, ((2, dealer(2)), (3, dealer(3))), round=3), keys)
    events = [*run.events[:-1], reveal, run.events[-1]]
    assert exposed_dealers([reveal], config) == {1: [2, 3]}
    with pytest.raises(VerificationError) as info:
        derive_public_outcome(events, config)
    assert info.value.check == "DKG8 secret exposed"
    assert "trustee 1's shares for trustees [2, 3]" in info.value.detail
    # and the record refuses such a reveal even when t trustees complained first
    record = _record_until(config, run.events, lambda e: e == RoundClose(3))
    for j in (2, 3):
        record.complaints[2][j] = resign(
            Complaints(config.election, j, ((1, "inconsistent"),)), keys
        )
    record.close(3)
    assert "may reveal nothing" in _refused(record, reveal, "DKG8 secret exposed")


def test_a_closed_ceremony_closes_no_further_round(ceremony):
    """Even the round that would come next by count is refused once the ceremony is closed."""
    config, _, run = ceremony
    record = _record_until(config, run.events, lambda e: False)
    assert record.closed
    with pytest.raises(PeerProtocolError, match="already closed"):
        record.check_close(record.next_round())


def test_a_dealer_whose_share_never_arrives_is_dropped_and_named(group):
    """The board loses dealer 2's share for trustee 1 in round 1 and again when it is re-sent:
    the dealer is disqualified for it (nothing revealed), the others suffice."""
    config, keys = make_config(group, 2, 3, seed="rounds/never")

    def intercept(m):
        lost = isinstance(m, EncryptedShare) and (m.sender, m.recipient) == (2, 1)
        return [] if lost else [m]

    run = run_ceremony(config, keys, seed="rounds/never", intercept=intercept)
    outcome = derive_public_outcome(run.events, config)
    assert outcome.disqualified == {2: "did not re-send the missing share of trustee 1"}
    assert "dkg.reveal" not in _kinds(run)


def test_only_signed_reveals_count_as_exposure(group):
    """A reveal of t shares that its dealer did not sign exposes nothing of the dealer's."""
    config, keys = make_config(group, 2, 3, seed="rounds/forged")
    run = run_ceremony(config, keys, seed="rounds/forged")
    dealer = run.trustees[1].polynomial
    assert dealer is not None
    signed_by_1 = resign(
        Reveal(config.election, 1, ((2, dealer(2)), (3, dealer(3))), round=3), keys
    )
    forged = Reveal(
        config.election,
        1,
        signed_by_1.shares,
        round=3,
        signature=resign(signed_by_1, keys, sender=2).signature,
    )
    assert exposed_dealers([signed_by_1], config) == {1: [2, 3]}
    assert exposed_dealers([forged], config) == {}


@pytest.mark.parametrize(
    "body", [{"v": 1, "round": "2"}, {"round": 2}, {"v": 1, "round": 2, "x": 0}]
)
def test_a_malformed_round_close_is_refused(body):
    with pytest.raises(DecodeError, match="dkg_round"):
        ceremony_event("dkg_round", body)
    assert ceremony_event("dkg_round", {"v": 1, "round": 2}) == RoundClose(2)
