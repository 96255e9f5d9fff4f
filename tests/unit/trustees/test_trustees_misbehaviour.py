"""One misbehaviour per test. Each ends with every t-subset of the trustees that hold a key
share decrypting the known votes: no misbehaviour loses or alters a vote."""

from __future__ import annotations

import pytest
from trustees_unit_support import assert_every_subset_decrypts, resign

from mixnet.proofs import schnorr
from mixnet.rng import DeterministicRandom
from trustees import channel
from trustees.config import CeremonyConfig
from trustees.dkg import derive_public_outcome
from trustees.messages import Commitments, Complaints, EncryptedShare, Reveal
from trustees.testing import make_config, run_ceremony

DEALER, VICTIM = 2, 1


def _setup(group, size, seed):
    t, n = size
    return make_config(group, t, n, seed=seed)


def _refused(run, step):
    return [(i, m) for i, m, e in run.refusals if e.step == step]


def _complaints(run):
    """Round 2's complaints by sender."""
    return {
        m.sender: m.complaints for m in run.posted if isinstance(m, Complaints) and m.round == 2
    }


def _share_to_victim(m):
    return isinstance(m, EncryptedShare) and (m.sender, m.recipient) == (DEALER, VICTIM)


def _resealed(config, keys, m, value, *, to=VICTIM, seed=7):
    """The share `m` with its ciphertext replaced: `value` sealed for trustee `to`."""
    eph, ct = channel.seal_share(
        config, DEALER, to, config.group.scalar(value), DeterministicRandom(seed)
    )
    return resign(m, keys, ephemeral=eph, ciphertext=ct)


#: The dealer sends the victim a share that fails the Feldman check, the victim complains, and
#: the dealer answers the complaint: (ceremony seed, the bad share, the dealer's reveal as it
#: is posted, who is disqualified and why).
BAD_SHARE_ANSWERS = {
    "valid reveal keeps the dealer": ("bad-share", 12345, lambda m, keys, group: [m], {}),
    "invalid reveal disqualifies": (
        "bad-reveal",
        99,
        lambda m, keys, group: [resign(m, keys, shares=((VICTIM, group.scalar(99)),))],
        {DEALER: f"revealed share for trustee {VICTIM} fails g^s = ∏ A_k^(j^k)"},
    ),
    "no reveal disqualifies": (
        "no-reveal",
        5,
        lambda m, keys, group: [],  # the dealer stays silent
        {DEALER: f"did not answer the complaint of trustee {VICTIM}"},
    ),
}


@pytest.mark.parametrize("answer", BAD_SHARE_ANSWERS)
def test_bad_share_then_the_dealers_answer(group, size, answer):
    seed, value, reveal, disqualified = BAD_SHARE_ANSWERS[answer]
    config, keys = _setup(group, size, seed)

    def intercept(m):
        if _share_to_victim(m):
            return [_resealed(config, keys, m, value)]
        if isinstance(m, Reveal) and m.sender == DEALER:
            return reveal(m, keys, group)
        return [m]

    run = run_ceremony(config, keys, seed=seed, intercept=intercept)
    assert _complaints(run)[VICTIM] == ((DEALER, "inconsistent"),)
    outcome = run.outcome()
    assert outcome.disqualified == disqualified
    assert outcome.qualified == tuple(i for i in config.indices if i not in disqualified)
    if not disqualified:
        reveals = [m for m in run.posted if isinstance(m, Reveal)]
        assert [(m.sender, [j for j, _ in m.shares]) for m in reveals] == [(DEALER, [VICTIM])]
        assert run.trustees[VICTIM].key_share is not None  # uses the revealed share
    assert derive_public_outcome(run.events, config) == outcome
    assert_every_subset_decrypts(run)


def test_false_complaint_costs_the_honest_dealer_nothing(group, size):
    config, keys = _setup(group, size, "false-complaint")

    def intercept(m):
        if isinstance(m, Complaints) and m.sender == VICTIM:
            return [resign(m, keys, complaints=((DEALER, "inconsistent"),))]
        return [m]

    run = run_ceremony(config, keys, seed="false-complaint", intercept=intercept)
    assert run.outcome().qualified == tuple(config.indices)
    assert_every_subset_decrypts(run)


def test_bad_schnorr_proof_disqualifies_the_dealer(group, size):
    config, keys = _setup(group, size, "bad-proof")

    def intercept(m):
        if isinstance(m, Commitments) and m.sender == DEALER:
            p = m.proofs[0]
            bad = schnorr.Proof(p.t, p.s + 1)
            return [resign(m, keys, proofs=(bad, *m.proofs[1:]))]
        return [m]

    run = run_ceremony(config, keys, seed="bad-proof", intercept=intercept)
    outcome = run.outcome()
    assert outcome.disqualified == {
        DEALER: "proof of knowledge for coefficient 0 fails (S1 base^s = t·y^c)"
    }
    # nobody needs to complain about a dealer the proofs already disqualify
    assert all(DEALER not in [i for i, _ in c] for c in _complaints(run).values())
    assert derive_public_outcome(run.events, config) == outcome
    assert_every_subset_decrypts(run)


def test_proof_for_another_coefficient_index_fails(group, size):
    """The transcript binds the coefficient index: swapping two proofs is caught."""
    config, keys = _setup(group, size, "swap-proof")

    def intercept(m):
        if isinstance(m, Commitments) and m.sender == DEALER:
            return [
                resign(
                    m,
                    keys,
                    proofs=(m.proofs[1], m.proofs[0], *m.proofs[2:]),
                    commitments=(m.commitments[1], m.commitments[0], *m.commitments[2:]),
                )
            ]
        return [m]

    run = run_ceremony(config, keys, seed="swap-proof", intercept=intercept)
    assert "coefficient 0 fails" in run.outcome().disqualified[DEALER]
    assert_every_subset_decrypts(run)


def test_share_with_bad_signature_is_refused_then_complained_about(group, size):
    """The share is damaged in transit once: the board refuses it, the victim complains that it
    is missing, the dealer re-sends it encrypted in round 3 — nothing is revealed."""
    config, keys = _setup(group, size, "bad-sig")
    damaged = []

    def intercept(m):
        if _share_to_victim(m) and not damaged:
            damaged.append(m)
            sig = bytes([m.signature[0] ^ 1]) + m.signature[1:]
            return [type(m)(**{**m.__dict__, "signature": sig})]
        return [m]

    run = run_ceremony(config, keys, seed="bad-sig", intercept=intercept)
    refused = _refused(run, "DKG3 signature")
    assert {i for i, _ in refused} == {0, *run.trustees}  # the board and every trustee
    assert _complaints(run)[VICTIM] == ((DEALER, "missing"),)
    assert run.trustees[VICTIM].record.resent == {(DEALER, VICTIM)}
    assert not any(isinstance(m, Reveal) for m in run.posted)
    assert run.outcome().qualified == tuple(config.indices)  # the re-sent share keeps it
    assert_every_subset_decrypts(run)


def test_share_encrypted_to_the_wrong_recipient(group, size):
    config, keys = _setup(group, size, "wrong-key")
    other = 3

    def intercept(m):
        return [_resealed(config, keys, m, 1, to=other, seed=3)] if _share_to_victim(m) else [m]

    run = run_ceremony(config, keys, seed="wrong-key", intercept=intercept)
    assert _complaints(run)[VICTIM] == ((DEALER, "undecryptable"),)
    assert run.outcome().qualified == tuple(config.indices)
    assert_every_subset_decrypts(run)


@pytest.mark.parametrize("recipient", [DEALER, 9])
def test_share_addressed_to_its_sender_or_nobody_is_refused(group, size, recipient):
    config, keys = _setup(group, size, "no-recipient")

    def intercept(m):
        if _share_to_victim(m):
            return [m, resign(m, keys, recipient=recipient)]
        return [m]

    run = run_ceremony(config, keys, seed="no-recipient", intercept=intercept)
    refused = _refused(run, "DKG2 sender")
    assert refused and all(m.recipient == recipient for _, m in refused)
    assert run.outcome().qualified == tuple(config.indices)
    assert_every_subset_decrypts(run)


def test_replayed_message_is_refused_and_changes_nothing(group, size):
    config, keys = _setup(group, size, "replay")

    def intercept(m):
        return [m, m] if m.KIND in ("dkg.commitments", "dkg.share", "dkg.complaints") else [m]

    run = run_ceremony(config, keys, seed="replay", intercept=intercept)
    refused = _refused(run, "DKG5 unique")
    assert refused
    assert all(e.detail.startswith("replay of") for _, _, e in run.refusals)
    assert run.outcome().qualified == tuple(config.indices)
    assert_every_subset_decrypts(run)


def test_equivocating_dealer_is_held_to_its_first_message(group, size):
    config, keys = _setup(group, size, "equivocate")

    def intercept(m):
        if isinstance(m, Commitments) and m.sender == DEALER:
            p = m.proofs[-1]
            return [m, resign(m, keys, proofs=(*m.proofs[:-1], schnorr.Proof(p.t, p.s + 1)))]
        return [m]

    run = run_ceremony(config, keys, seed="equivocate", intercept=intercept)
    assert {e.detail for _, _, e in run.refusals} == {
        f"a second, different dkg.commitments from trustee {DEALER}"
    }
    assert run.outcome().qualified == tuple(config.indices)
    assert_every_subset_decrypts(run)


def test_message_replayed_from_another_election_is_refused(group, size):
    t, _n = size
    config, keys = _setup(group, size, "cross-election")
    other = CeremonyConfig(group, bytes(32), t, config.trustees)  # same trustees, other election
    old = run_ceremony(other, keys, seed="old-election")
    stale = next(m for m in old.posted if isinstance(m, Commitments) and m.sender == DEALER)

    def intercept(m):
        return [stale, m] if isinstance(m, Commitments) and m.sender == DEALER else [m]

    run = run_ceremony(config, keys, seed="cross-election", intercept=intercept)
    assert {e.step for _, _, e in run.refusals} == {"DKG1 election"}
    assert run.outcome().qualified == tuple(config.indices)
    assert_every_subset_decrypts(run)
