"""The observer's `derive_public_outcome`: one tampering per test, each named by its step."""

from __future__ import annotations

import dataclasses
import json

import pytest
from trustees_unit_support import resign

from mixnet.errors import VerificationError
from trustees.dkg import CLOSED, RoundClose, derive_public_outcome
from trustees.messages import Commitments, Complaints, EncryptedShare, Reveal
from trustees.testing import make_config, run_ceremony


def _index(posted, kind, sender=None):
    return next(
        k
        for k, m in enumerate(posted)
        if getattr(m, "KIND", None) == kind and sender in (None, m.sender)
    )


def _as_bytes(events):
    return [e if isinstance(e, RoundClose) else e.to_json() for e in events]


def _fails(posted, config, step, position=None):
    with pytest.raises(VerificationError) as info:
        derive_public_outcome(posted, config)
    assert info.value.check == step
    if position is not None:
        assert info.value.detail.startswith(f"message {position}:")
    return info.value


def test_untampered_transcript_as_bytes_and_objects(ceremony):
    config, _, run = ceremony
    assert derive_public_outcome(run.events, config) == run.outcome()
    assert derive_public_outcome(_as_bytes(run.events), config) == run.outcome()
    assert [e for e in run.events if isinstance(e, RoundClose)] == [
        RoundClose(2),
        RoundClose(3),
        RoundClose(CLOSED),
    ]


def test_changed_commitment_breaks_the_signature(ceremony):
    config, _, run = ceremony
    posted = list(run.events)
    k = _index(posted, "dkg.commitments", 2)
    m = posted[k]
    g = config.group.generator()
    posted[k] = dataclasses.replace(m, commitments=(m.commitments[0] * g, *m.commitments[1:]))
    _fails(posted, config, "DKG3 signature", k)


def test_changed_sender_breaks_the_signature(ceremony):
    config, _, run = ceremony
    posted = list(run.events)
    k = _index(posted, "dkg.complaints", 1)
    posted[k] = dataclasses.replace(posted[k], sender=2)
    _fails(posted, config, "DKG3 signature", k)


def test_unknown_sender(ceremony):
    config, _, run = ceremony
    posted = list(run.events)
    posted[0] = dataclasses.replace(posted[0], sender=config.n + 1)
    _fails(posted, config, "DKG2 sender", 0)


def test_duplicated_message(ceremony):
    config, _, run = ceremony
    posted = list(run.events)
    k = _index(posted, "dkg.share")
    posted.insert(k + 1, posted[k])
    err = _fails(posted, config, "DKG5 unique", k + 1)
    assert "replay" in err.detail


def test_complaint_moved_before_the_dealing_ends(ceremony):
    """A complaint in round 1 is refused itself; it no longer closes round 1 for the shares
    after it."""
    config, _, run = ceremony
    posted = list(run.events)
    k = _index(posted, "dkg.complaints")
    complaint = posted.pop(k)
    last_share = max(i for i, m in enumerate(posted) if isinstance(m, EncryptedShare))
    posted.insert(last_share, complaint)
    _fails(posted, config, "DKG4 round order", last_share)


def test_message_of_another_election(group):
    config, keys = make_config(group, 2, 3, seed="obs-a")
    other, _ = make_config(group, 2, 3, seed="obs-b")
    run = run_ceremony(config, keys, seed="obs-a")
    posted = list(run.events)
    k = _index(posted, "dkg.commitments", 1)
    posted[k] = resign(posted[k], keys, election=other.election)
    _fails(posted, config, "DKG1 election", k)


def test_unrequested_reveal(ceremony):
    config, keys, run = ceremony
    posted = list(run.events)
    reveal = Reveal(config.election, 1, ((2, config.group.scalar(7)),), round=3)
    posted.insert(len(posted) - 1, resign(reveal, keys))  # in round 3, before the close
    _fails(posted, config, "DKG7 reveal", len(posted) - 2)


def test_wrong_number_of_commitments(ceremony):
    config, keys, run = ceremony
    posted = list(run.events)
    k = _index(posted, "dkg.commitments", 3)
    m = posted[k]
    posted[k] = resign(m, keys, commitments=m.commitments[:-1], proofs=m.proofs[:-1])
    _fails(posted, config, "DKG6 shape", k)


def test_non_canonical_bytes(ceremony):
    config, _, run = ceremony
    posted = _as_bytes(run.events)
    posted[1] = json.dumps(json.loads(posted[1]), indent=1).encode()
    _fails(posted, config, "DKG0 decode", 1)


def test_element_outside_the_group(ceremony):
    config, _, run = ceremony
    posted = _as_bytes(run.events)
    value = json.loads(posted[0])
    value["commitments"][0] = "00" * config.group.element_bytes  # zero is no member
    posted[0] = json.dumps(value, sort_keys=True, separators=(",", ":")).encode()
    _fails(posted, config, "DKG0 decode", 0)


def test_suppressed_commitments_show_in_the_outcome(ceremony):
    """The observer cannot know a message is missing (that is the board's signed log's job),
    but a suppressed dealer shows up, with the reason, in the outcome it reports."""
    config, _, run = ceremony
    posted = [m for m in run.events if not (isinstance(m, Commitments) and m.sender == 2)]
    outcome = derive_public_outcome(posted, config)
    assert outcome.disqualified == {2: "posted no commitments"}
    assert outcome.pk != run.outcome().pk


def test_complaints_without_reveal_in_the_record(ceremony):
    config, keys, run = ceremony
    posted = list(run.events)
    k = _index(posted, "dkg.complaints", 1)
    posted[k] = resign(posted[k], keys, complaints=((3, "inconsistent"),))
    outcome = derive_public_outcome(posted, config)
    assert outcome.disqualified == {3: "did not answer the complaint of trustee 1"}
    assert isinstance(posted[k], Complaints)


def test_missing_share_not_re_sent_in_the_record(ceremony):
    """A share that is not on the record, a "missing" complaint, no re-sent share: the dealer
    is disqualified for it, and nothing was revealed."""
    config, keys, run = ceremony
    posted = [
        m
        for m in run.events
        if not (isinstance(m, EncryptedShare) and (m.sender, m.recipient) == (3, 1))
    ]
    k = _index(posted, "dkg.complaints", 1)
    posted[k] = resign(posted[k], keys, complaints=((3, "missing"),))
    outcome = derive_public_outcome(posted, config)
    assert outcome.disqualified == {3: "did not re-send the missing share of trustee 1"}
    assert not any(isinstance(m, Reveal) for m in posted)
