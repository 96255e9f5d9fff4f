"""The board policy of the key ceremony's rounds (docs/record.md §4.3, §5): only the
administrator's `dkg_round` entries close a round, in order; the joint key closes the ceremony
once its last round is due; a trustee's message of another round is `wrong_phase`."""

from __future__ import annotations

import pytest

from bulletin_board.entry import sign_envelope
from bulletin_board.policy import Refusal
from mixnet.errors import DecodeError
from mixnet.groups import get_group
from mixnet.rng import DeterministicRandom
from simulations.world import Participants, SimulatedElection
from trustees.dkg import CLOSED, RoundClose, ceremony_event
from trustees.messages import Complaints, sign_message


@pytest.fixture
def sim() -> SimulatedElection:
    rng = DeterministicRandom("policy ceremony")
    people = Participants(
        get_group("test-schnorr-512-128"), trustees=3, threshold=2, mixers=1, rng=rng
    )
    election = SimulatedElection(people, rng, progress=False)
    election.setup()
    return election


def _refused(sim: SimulatedElection, envelope) -> Refusal:  # type: ignore[no-untyped-def]
    with pytest.raises(Refusal) as info:
        sim.board.post(envelope)
    return info.value


def test_rounds_close_only_by_the_administrator_in_order(sim: SimulatedElection) -> None:
    p = sim.people
    close = p.admin_entry("dkg_round", {"v": 1, "round": 3})
    assert _refused(sim, close).code == "wrong_phase"  # round 2 comes first
    assert _refused(sim, p.admin_entry("dkg_round", {"v": 1, "round": "2"})).code == "bad_body"
    key = p.trustee_keys[0].ed25519_key()
    by_trustee = sign_envelope(key, p.election_id, "dkg_round", "trustee-1", {"v": 1, "round": 2})
    assert _refused(sim, by_trustee).code == "unauthorised_signer"
    complaint = sign_message(Complaints(p.fingerprint, 1, ()), key)
    early = sign_envelope(key, p.election_id, "dkg", "trustee-1", complaint.to_json_value())
    refusal = _refused(sim, early)
    assert refusal.code == "wrong_phase" and "trustee 1 in round 1" in refusal.detail
    sim.board.post(p.admin_entry("dkg_round", {"v": 1, "round": 2}))
    sim.board.post(early)  # now it is round 2's
    joint = p.admin_entry(
        "joint_key", {"v": 1, "pk": "00", "verification_keys": [], "qualified": []}
    )
    assert "the ceremony is not over" in _refused(sim, joint).detail


def test_the_record_reads_the_same_for_everyone() -> None:
    assert ceremony_event("dkg_round", {"v": 1, "round": 4}) == RoundClose(4)
    assert ceremony_event("joint_key", {"v": 1}) == RoundClose(CLOSED)
    assert ceremony_event("ballot", {"v": 1}) is None
    with pytest.raises(DecodeError):
        ceremony_event("dkg_round", {"v": 1, "round": True})
