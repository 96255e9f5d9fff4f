"""The key ceremony: honest runs, absent trustees, the state machine's own rules."""

from __future__ import annotations

import pytest
from trustees_unit_support import assert_every_subset_decrypts, resign

from mixnet.rng import DeterministicRandom
from trustees import channel
from trustees.dkg import (
    CLOSED,
    DkgTrustee,
    Phase,
    Polynomial,
    RoundClose,
    derive_public_outcome,
    feldman_check,
)
from trustees.errors import CeremonyFailed, LocalProtocolError, PeerProtocolError
from trustees.messages import Commitments, Complaints, EncryptedShare, Reveal
from trustees.testing import CeremonyRun, make_config, run_ceremony


def test_honest_ceremony_every_subset_decrypts(ceremony):
    config, _, run = ceremony
    outcome = run.outcome()
    assert outcome.qualified == tuple(config.indices)
    assert outcome.disqualified == {}
    assert run.refusals == []
    assert all(t.phase is Phase.DONE for t in run.trustees.values())
    assert_every_subset_decrypts(run)


def test_keys_are_what_the_spec_says(ceremony):
    config, _, run = ceremony
    outcome = run.outcome()
    g = config.group.generator()
    commitments = [m for m in run.posted if isinstance(m, Commitments)]
    pk = config.group.identity()
    for m in commitments:
        pk = pk * m.commitments[0]
    assert outcome.pk == pk  # pk = ∏ A_i0
    for j, trustee in run.trustees.items():
        assert trustee.key_share is not None
        assert g**trustee.key_share.secret == outcome.verification_keys[j]  # X_j = g^{x_j}
        expected = config.group.identity()
        for m in commitments:
            expected = expected * feldman_check(m.commitments, j)
        assert outcome.verification_keys[j] == expected  # X_j = ∏_i ∏_k A_ik^{j^k}


def test_observer_agrees_with_trustees(ceremony):
    config, _, run = ceremony
    observed = derive_public_outcome(
        [e if isinstance(e, RoundClose) else e.to_json() for e in run.events], config
    )
    assert observed == run.outcome()
    pk, keys, qual, disq = observed  # the documented 4-tuple
    assert pk == run.outcome().pk and set(keys) == set(config.indices)
    assert qual == tuple(config.indices) and disq == {}


def test_message_counts(ceremony):
    config, _, run = ceremony
    n = config.n
    kinds = [m.KIND for m in run.posted]
    assert kinds.count("dkg.commitments") == n
    assert kinds.count("dkg.share") == n * (n - 1)
    assert kinds.count("dkg.complaints") == n
    assert kinds.count("dkg.reveal") == 0
    assert all(m.complaints == () for m in run.posted if isinstance(m, Complaints))


def test_absent_dealers_are_disqualified_and_the_rest_still_works(group, size):
    t, n = size
    config, keys = make_config(group, t, n, seed="absent")
    absent = set(range(t + 1, n + 1))  # n − t trustees never show up
    run = run_ceremony(config, keys, absent=absent, seed="absent")
    outcome = run.outcome()
    assert outcome.qualified == tuple(range(1, t + 1))
    assert set(outcome.disqualified) == absent
    assert all(r == "posted no commitments" for r in outcome.disqualified.values())
    assert_every_subset_decrypts(run)
    assert derive_public_outcome(run.events, config) == outcome


def test_too_few_dealers_fail_the_ceremony(group):
    config, keys = make_config(group, 3, 5, seed="few")
    run = run_ceremony(config, keys, absent={3, 4, 5}, seed="few")
    assert run.events[-1] == RoundClose(3)  # the administrator cannot close the ceremony
    with pytest.raises(CeremonyFailed, match="only 2 qualified dealers, at least t = 3"):
        run.trustees[1].record.outcome()


def test_polynomial_evaluation_and_secrecy(group):
    poly = Polynomial.random(group, 2, DeterministicRandom(1))
    a0, a1, a2 = (c.value for c in poly.coefficients)
    for x in (0, 1, 5):
        assert poly(x).value == (a0 + a1 * x + a2 * x * x) % group.order
    assert str(a0) not in repr(poly) and hex(a0)[2:] not in repr(poly)


def test_local_errors_are_ours(group):
    config, keys = make_config(group, 2, 3)
    rng = DeterministicRandom(2)
    with pytest.raises(LocalProtocolError, match="not trustee 2's"):
        DkgTrustee(config, 2, keys[0], rng)
    with pytest.raises(LocalProtocolError, match="no trustee 4"):
        DkgTrustee(config, 4, keys[0], rng)
    trustee = DkgTrustee(config, 1, keys[0], rng)
    with pytest.raises(LocalProtocolError, match="no outcome yet"):
        trustee.outcome  # noqa: B018
    trustee.start()
    with pytest.raises(LocalProtocolError, match="'start' is not allowed in phase dealt"):
        trustee.start()
    with pytest.raises(PeerProtocolError, match="DKG4 round order"):
        trustee.close_round(3)  # rounds close in order
    assert trustee.phase is Phase.DEALT and trustee.record.round == 1


def test_trustee_refuses_messages_after_it_is_done(ceremony):
    _config, _, run = ceremony
    trustee = run.trustees[1]
    with pytest.raises(PeerProtocolError, match="DKG4 round order"):
        trustee.receive(run.posted[0])


def test_restart_from_a_saved_polynomial_reposts_nothing(group):
    """A trustee that crashed after posting resumes from its polynomial and the board."""
    config, keys = make_config(group, 2, 3, seed="restart")
    run = run_ceremony(config, keys, seed="restart")
    first = run.trustees[2]
    again = DkgTrustee(config, 2, keys[1], DeterministicRandom(9), first.polynomial)
    out = []
    for m in run.events:
        out += again.feed(m)
    out += again.start()
    assert out == []
    assert again.phase is Phase.DONE
    assert again.key_share == first.key_share


def test_restart_with_another_polynomial_is_refused(group):
    config, keys = make_config(group, 2, 3, seed="restart")
    run = run_ceremony(config, keys, seed="restart")
    other = Polynomial.random(group, 1, DeterministicRandom(5))
    again = DkgTrustee(config, 2, keys[1], DeterministicRandom(9), other)
    for m in run.events:
        again.feed(m)
    with pytest.raises(LocalProtocolError, match="not those of my polynomial"):
        again.start()


class _Board:
    """Posted messages and round closes in order, each shown to the given trustees (what they
    answer is posted)."""

    def __init__(self) -> None:
        self.posted: list = []

    def post(self, messages, trustees) -> None:
        queue = list(messages)
        while queue:
            msg = queue.pop(0)
            self.posted.append(msg)
            for t in trustees:
                if t.phase is not Phase.DONE:
                    queue += t.feed(msg)

    def messages(self):
        return [m for m in self.posted if not isinstance(m, RoundClose)]


def _crash_between_shares(group):
    """Trustee 2 posts its commitments and its share for 1, then crashes; 1 and 3 deal."""
    config, keys = make_config(group, 2, 3, seed="crash between shares")
    first = DkgTrustee(config, 2, keys[1], DeterministicRandom("crash/2"))
    commitments, share_for_1, share_for_3 = first.start()
    others = {
        i: DkgTrustee(config, i, keys[i - 1], DeterministicRandom(f"crash/{i}")) for i in (1, 3)
    }
    board = _Board()
    board.post([commitments, share_for_1], others.values())
    board.post([m for t in others.values() for m in t.start()], others.values())
    return config, keys, first, others, board, share_for_3


def _close_all(board, trustees):
    """The administrator closes rounds until the ceremony is closed."""
    record = next(iter(trustees)).record
    while not record.closed:
        board.post([RoundClose(record.next_round())], trustees)


def test_no_complaint_before_the_administrator_closes_round_1(group):
    """Every other trustee holds all it needs, but round 1 stays open until the administrator
    closes it: the restarted trustee 2 can still deal its share for 3, and nobody complains."""
    config, keys, first, others, board, _ = _crash_between_shares(group)
    assert not any(isinstance(m, Complaints) for m in board.posted)
    assert all(t.phase is Phase.DEALT for t in others.values())
    restarted = DkgTrustee(config, 2, keys[1], DeterministicRandom(9), first.polynomial)
    for m in board.posted:
        restarted.feed(m)
    out = restarted.start()
    assert [(type(m), getattr(m, "recipient", None)) for m in out] == [(EncryptedShare, 3)]
    trustees = {**others, 2: restarted}
    board.post(out, trustees.values())
    _close_all(board, list(trustees.values()))
    assert all(t.phase is Phase.DONE for t in trustees.values())
    complaints = [m.complaints for m in board.posted if isinstance(m, Complaints)]
    assert complaints == [(), (), ()]
    run = CeremonyRun(config, dict(sorted(trustees.items())), board.messages(), board.posted)
    assert run.outcome().qualified == (1, 2, 3)
    assert_every_subset_decrypts(run)


def test_restart_after_round_1_re_sends_the_missing_share_encrypted(group):
    """Trustee 2 stayed down until the administrator closed round 1; 3 complained of the
    missing share. Restarted, 2 cannot deal in round 1 any more: it posts its complaints, and
    in round 3 re-sends s_23 encrypted — nothing is revealed, and 2 stays in QUAL."""
    config, keys, first, others, board, _ = _crash_between_shares(group)
    board.post([RoundClose(2)], others.values())
    complaints = {m.sender: m.complaints for m in board.posted if isinstance(m, Complaints)}
    assert complaints == {1: (), 3: ((2, "missing"),)}
    restarted = DkgTrustee(config, 2, keys[1], DeterministicRandom(9), first.polynomial)
    for m in board.posted:
        restarted.feed(m)
    out = restarted.start()
    assert [type(m) for m in out] == [Complaints]
    trustees = {**others, 2: restarted}
    board.post(out, trustees.values())
    _close_all(board, list(trustees.values()))
    assert [e.round for e in board.posted if isinstance(e, RoundClose)] == [2, 3, 4, 5, CLOSED]
    assert all(t.phase is Phase.DONE for t in trustees.values())
    assert restarted.record.resent == {(2, 3)}
    assert not any(isinstance(m, Reveal) for m in board.posted)
    run = CeremonyRun(config, dict(sorted(trustees.items())), board.messages(), board.posted)
    assert run.outcome().qualified == (1, 2, 3)
    assert derive_public_outcome(board.posted, config) == run.outcome()
    assert_every_subset_decrypts(run)


def test_trustee_that_misses_the_complaint_round_knows_it_has_no_share(group):
    """Trustee 1 gets a bad share from 2 but its complaint never reaches the board: dealer 2
    stays qualified, trustee 1 says it holds no usable share, the others still decrypt."""

    config, keys = make_config(group, 2, 3, seed="silent-victim")

    def intercept(m):
        if isinstance(m, EncryptedShare) and (m.sender, m.recipient) == (2, 1):
            eph, ct = channel.seal_share(config, 2, 1, group.scalar(8), DeterministicRandom(1))
            return [resign(m, keys, ephemeral=eph, ciphertext=ct)]
        if isinstance(m, Complaints) and m.sender == 1:
            return []
        return [m]

    run = run_ceremony(config, keys, seed="silent-victim", intercept=intercept)
    victim = run.trustees[1]
    assert victim.phase is Phase.DONE and victim.key_share is None
    assert victim.share_problem == "no valid share from qualified dealer 2"
    assert victim.outcome.qualified == (1, 2, 3)
    assert run.trustees[2].key_share is not None and run.trustees[3].key_share is not None
    assert_every_subset_decrypts(run, victim.outcome)
