"""The election's rules (`election.rules`), and the parties that apply them agreeing.

- For each rule, the board's policy (`ElectionPolicy`, the object the board server runs) and
  the verifier (`tohyo verify`'s steps, over the record with the entry forced in by a board
  that skips its checks) agree: the same inputs accepted, the same refused, each refusal with
  the board's reason code and the verifier's check id of the table.
- Any plaintext is safe: out-of-range (n + 1, 1000, −1), random-element, duplicate-rank,
  too-many-choices and unordered plaintexts, in every test group, secp256k1 and ffdhe3072:
  the administrator's tally completes, the verifier passes, the contest is counted invalid,
  and the published row shows the fixed marker in every slot of that contest.
- A ballot that reuses one randomness in two slots is refused by the board
  (`duplicate_ciphertext`) and, forced into a record, named by the verifier
  (V8.repeated_ciphertext).
"""

from __future__ import annotations

import dataclasses
from collections.abc import Callable
from typing import Any

import pytest

from bulletin_board.entry import Envelope, sign_envelope
from bulletin_board.policy import Refusal
from election import rules
from election.entries import Ballot, submission_message
from election.manifest import Contest, Option
from jpki.registrar import sign_attestation
from mixnet import elgamal
from mixnet.groups import Element, Group, get_group
from simulations.attacks import _election, encrypt_elements, out_of_range_element
from simulations.audit import check_record, run_verifier, verdict
from simulations.world import SimulatedElection, ed25519_key, ensure_groups, raw_public

ensure_groups()
GROUP = "test-schnorr-512-128"
VOTERS = 3


# ---------------------------------------------------------------- the pure rules


def test_slot_value_never_raises_and_marks_what_encodes_no_value() -> None:
    for name in ("test-safe-256", "test-schnorr-512-128", "secp256k1"):
        group = get_group(name)
        assert rules.slot_value(group, group.encode_message(3), 5) == 3
        assert rules.slot_value(group, group.encode_message(0), 5) == 0
        for element in (
            group.encode_message(5),
            group.encode_message(1000),
            group.identity() / group.encode_message(1),
            group.hash_to_element(b"any element at all"),
        ):
            assert rules.slot_value(group, element, 5) == rules.INVALID_SLOT


def test_counted_ballots_last_or_first() -> None:
    ballots = [(b"a", 1), (b"b", 2), (b"a", 3), (b"c", 4), (b"b", 5)]
    assert rules.counted_ballots("last_counts", ballots) == [3, 4, 5]
    assert rules.counted_ballots("first_counts", ballots) == [1, 2, 4]


def test_fresh_ciphertexts_within_and_across_ballots() -> None:
    rules.check_fresh_ciphertexts([b"1", b"2"], {b"3"})
    with pytest.raises(rules.RuleBroken) as within:
        rules.check_fresh_ciphertexts([b"1", b"1"], set())
    assert (within.value.code, within.value.check) == (
        "duplicate_ciphertext",
        "V8.repeated_ciphertext",
    )
    with pytest.raises(rules.RuleBroken) as across:
        rules.check_fresh_ciphertexts([b"1", b"2"], {b"2"})
    assert (across.value.code, across.value.check) == (
        "duplicate_ciphertext",
        "V8.duplicate_ciphertext",
    )


def test_the_role_table_has_the_ceremony_round_marker() -> None:
    assert rules.poster_of("key_ceremony", "dkg_round") == "admin"
    assert rules.poster_of("voting", "ballot") == "registrar"
    assert rules.poster_of("closed", "ballot") is None
    assert rules.poster_of("tallied", "phase") == "admin"


# ---------------------------------------------------------------- board and verifier agree


def _sim(seed: str, **kw: Any) -> SimulatedElection:
    sim = _election(get_group(GROUP), f"rules/{seed}", VOTERS, **kw)
    sim.key_ceremony()
    votes = sim.make_votes(VOTERS, 0)
    sim.cast(votes, sim.make_ballots(votes))
    return sim


def _ballot_entry(
    sim: SimulatedElection, ballot: Ballot, pseudonym: int = 77, author: str = "registrar"
) -> Envelope:
    p = sim.people
    att = sign_attestation(
        p.registrar, sim.fingerprint, pseudonym.to_bytes(32, "big"), ballot.hash(sim.fingerprint)
    )
    body = {"v": 1, "ballot": ballot.to_json(), "attestation": att.to_json()}
    key = p.registrar if author == "registrar" else p.trustee_keys[0].ed25519_key()
    return sign_envelope(key, p.election_id, "ballot", author, body)


def _fresh(sim: SimulatedElection) -> Ballot:
    return encrypt_elements(sim, [sim.group.encode_message(1)])


def _copied(sim: SimulatedElection) -> Envelope:
    """Voter 0's ballot, as it is, attested again for another pseudonym."""
    _, victim = sim.cast_ballots[0]
    return _ballot_entry(sim, victim)


def _bad_proof(sim: SimulatedElection) -> Envelope:
    ballot = _fresh(sim)
    s = list(ballot.proof.s)
    s[0] = s[0] + sim.group.scalar(1)
    proof = dataclasses.replace(ballot.proof, s=tuple(s))
    key = ed25519_key(sim.rng)
    doctored = Ballot(ballot.row, proof, bytes.fromhex(raw_public(key)), b"")
    doctored = dataclasses.replace(
        doctored,
        signature=key.sign(submission_message(sim.fingerprint, doctored.hash(sim.fingerprint))),
    )
    return _ballot_entry(sim, doctored)


def _other_attestation(sim: SimulatedElection) -> Envelope:
    entry = _ballot_entry(sim, _fresh(sim))
    other = _ballot_entry(sim, _fresh(sim))
    body = dict(entry.body) | {"attestation": other.body["attestation"]}
    return sign_envelope(sim.people.registrar, sim.people.election_id, "ballot", "registrar", body)


def _forged_attestation(sim: SimulatedElection) -> Envelope:
    ballot = _fresh(sim)
    att = sign_attestation(
        ed25519_key(sim.rng),
        sim.fingerprint,
        (78).to_bytes(32, "big"),
        ballot.hash(sim.fingerprint),
    )
    body = {"v": 1, "ballot": ballot.to_json(), "attestation": att.to_json()}
    return sign_envelope(sim.people.registrar, sim.people.election_id, "ballot", "registrar", body)


def _version(sim: SimulatedElection) -> Envelope:
    entry = _ballot_entry(sim, _fresh(sim))
    return sign_envelope(
        sim.people.registrar,
        sim.people.election_id,
        "ballot",
        "registrar",
        dict(entry.body) | {"v": 2},
    )


def _closed_ballot(sim: SimulatedElection) -> Envelope:
    sim.board.post(sim.people.admin_entry("phase", {"phase": "closed"}))
    return _ballot_entry(sim, _fresh(sim))


def _self_repeating(sim: SimulatedElection) -> Envelope:
    one = sim.group.encode_message(1)
    return _ballot_entry(sim, encrypt_elements(sim, [one, one], one_randomness=True))


def _two_slots(sim: SimulatedElection) -> Envelope:
    return _ballot_entry(
        sim, encrypt_elements(sim, [sim.group.encode_message(1), sim.group.encode_message(2)])
    )


def _revote(sim: SimulatedElection) -> Envelope:
    return _ballot_entry(sim, _fresh(sim), pseudonym=0)  # voter 0 votes again


def _phase_skip(sim: SimulatedElection) -> Envelope:
    return sim.people.admin_entry("phase", {"phase": "mixing"})


def _mixing_first(sim: SimulatedElection) -> Envelope:
    sim.board.post(sim.people.admin_entry("phase", {"phase": "closed"}))
    return sim.people.admin_entry("phase", {"phase": "mixing"})


def _second_joint_key(sim: SimulatedElection) -> Envelope:
    from election.policy import joint_key_body

    assert sim.outcome is not None
    return sim.people.admin_entry("joint_key", joint_key_body(sim.outcome))


def _mixer_two_first(sim: SimulatedElection) -> Envelope:
    sim.close()
    outputs, proofs = sim.shuffle_and_prove(1)
    body = {
        "v": 1,
        "position": 2,
        "contests": [
            {
                "contest": c,
                "outputs": [elgamal.row_to_json(r) for r in rows],
                "proof": proof.to_json(),
            }
            for (c, rows), proof in zip(outputs, proofs)
        ],
    }
    return sign_envelope(sim.people.mixers[1], sim.people.election_id, "shuffle", "mix-2", body)


def _to_decrypting(sim: SimulatedElection, shares: int) -> None:
    sim.close()
    for k in (1, 2):
        outputs, proof = sim.shuffle_and_prove(k)
        sim.post_shuffle(k, outputs, proof)
    sim.finish_mixing()
    for j in sorted(sim.machines)[:shares]:
        sim.post_share(sim.make_share(j))


def _result_before_t_shares(sim: SimulatedElection) -> Envelope:
    _to_decrypting(sim, 1)
    rows: list[list[int | str]] = [[1]] * VOTERS
    body = {
        "v": 1,
        "trustees": [1],
        "plaintexts": [{"contest": "mayor", "rows": rows}],
        "tally": rules.count_plaintexts(sim.people.manifest, {"mayor": rows}),
    }
    return sim.people.admin_entry("result", body)


def _result_with_hex(sim: SimulatedElection) -> Envelope:
    """The published plaintexts hold an element's hex where the marker belongs."""
    _to_decrypting(sim, 2)
    sim.combine()
    assert sim.result is not None
    plaintexts = rules.published_plaintexts(sim.result.plaintexts)
    plaintexts[0]["rows"][0][0] = sim.group.generator().to_hex()
    body = {
        "v": 1,
        "trustees": list(sim.result.used),
        "plaintexts": plaintexts,
        "tally": sim.counted(),
    }
    return sim.people.admin_entry("result", body)


TWO_CONTESTS = (
    Contest("council", "議会", "public_office", "single", (Option("x", "甲"), Option("y", "乙"))),
)

#: name → (how to make the entry, election options, board's code or None, verifier's check)
CASES: dict[
    str, tuple[Callable[[SimulatedElection], Envelope], dict[str, Any], str | None, str | None]
] = {
    "valid ballot": (lambda sim: _ballot_entry(sim, _fresh(sim)), {}, None, None),
    "valid two-slot ballot": (_two_slots, {"more_contests": TWO_CONTESTS}, None, None),
    "re-vote": (_revote, {}, None, None),
    "ballot by a trustee": (
        lambda sim: _ballot_entry(sim, _fresh(sim), author="trustee-1"),
        {},
        "unauthorised_signer",
        "V4.role",
    ),
    "ballot after closing": (_closed_ballot, {}, "wrong_phase", "V4.phase"),
    "ballot body version 2": (_version, {}, "bad_body", "V4.body"),
    "phase skipped": (_phase_skip, {}, "wrong_phase", "V4.phase_order"),
    "mixing before the mix input": (_mixing_first, {}, "wrong_phase", "V4.phase_order"),
    "second joint key": (_second_joint_key, {}, "wrong_phase", "V4.phase"),
    "mix server 2 first": (_mixer_two_first, {}, "wrong_phase", "V4.mix_order"),
    "copied ciphertext": (_copied, {}, "duplicate_ciphertext", "V8.duplicate_ciphertext"),
    "one randomness in two slots": (
        _self_repeating,
        {"more_contests": TWO_CONTESTS},
        "duplicate_ciphertext",
        "V8.repeated_ciphertext",
    ),
    "proof does not verify": (_bad_proof, {}, "bad_proof", "B1 proof"),
    "result before t shares": (_result_before_t_shares, {}, "wrong_phase", "V4.phase_order"),
    "result with an element's hex": (_result_with_hex, {}, "bad_body", "V12.plaintexts"),
    "attestation of another ballot": (_other_attestation, {}, "bad_body", "V8.attestation_hash"),
    "attestation not by the registrar": (
        _forged_attestation,
        {},
        "bad_signature",
        "attestation-signature",
    ),
}


@pytest.mark.parametrize("name", sorted(CASES))
def test_board_and_verifier_agree(name: str) -> None:
    make, options, code, check = CASES[name]
    sim = _sim(name, **options)
    entry = make(sim)
    try:
        sim.board.policy.check(sim.board.state, entry)
        refused = None
    except Refusal as exc:
        refused = exc.code
    assert refused == code
    # the same entry in a record (a board that skips its checks appends it)
    sim.board.post(entry, cheat=True)
    report = run_verifier(sim.board.entries, sim.people.board, sim.people.election_id)
    failed = [s for s in report.steps if s.status == "fail"]
    if check is None:
        assert failed == [], [(s.id, s.check, s.reason) for s in failed]
    elif check.startswith("V12"):  # the plaintexts also differ from the decryption (V11)
        assert check in [s.check for s in failed], [(s.id, s.check) for s in failed]
    else:
        assert failed and failed[0].check == check, [(s.id, s.check, s.reason) for s in failed]
    # the simulations' own pass applies the same rules
    if check is not None:
        audit = {"V12": "A7", "V4.": "A2"}.get(check[:3], "A4")
        found = [c for c in check_record(sim.board.entries) if c.id == audit]
        assert found and not found[0].ok


# ---------------------------------------------------------------- any plaintext is safe

GROUPS = [
    "test-safe-256",
    "test-schnorr-512-128",
    "test-schnorr-1024-160",
    "secp256k1",
    pytest.param("ffdhe3072", marks=pytest.mark.slow),  # a production group (QR encoding)
]

#: a ballot with a ranked contest (3 options, at most 2 ranked) and an approval contest
#: (4 options, at most 2 chosen) after the mayor
CONTESTS = (
    Contest(
        "council",
        "議会",
        "public_office",
        "ranked",
        tuple(Option(f"c{i}", f"候補{i}") for i in range(1, 4)),
        max_choices=2,
    ),
    Contest(
        "panel",
        "委員",
        "public_office",
        "k_of_n",
        tuple(Option(f"p{i}", f"委員{i}") for i in range(1, 5)),
        max_choices=2,
    ),
)


def _plaintexts(group: Group, run: int) -> dict[str, tuple[list[Element], str]]:
    """kind → (the 6 slots of a ballot: mayor, council ×3, panel ×2; the invalid contest)."""
    e = group.encode_message
    ok_council, ok_panel = [e(1), e(2), e(0)], [e(1), e(3)]
    return {
        "out-of-range n+1": ([out_of_range_element(group, 4, 0), *ok_council, *ok_panel], "mayor"),
        "out-of-range 1000": ([out_of_range_element(group, 4, 1), *ok_council, *ok_panel], "mayor"),
        "negative": ([out_of_range_element(group, 4, 2), *ok_council, *ok_panel], "mayor"),
        "random element": (
            [group.hash_to_element(f"random {run}".encode()), *ok_council, *ok_panel],
            "mayor",
        ),
        "duplicate rank": ([e(2), e(1), e(1), e(0), *ok_panel], "council"),
        "too many choices": ([e(2), e(1), e(2), e(3), *ok_panel], "council"),
        "duplicate choice": ([e(2), *ok_council, e(3), e(3)], "panel"),
        "random in approval": (
            [e(2), *ok_council, e(1), group.hash_to_element(b"random approval")],
            "panel",
        ),
    }


@pytest.mark.parametrize("group_name", GROUPS)
def test_any_plaintext_is_counted_invalid_and_verifies(group_name: str) -> None:
    group = get_group(group_name)
    sim = _election(group, f"rules/plaintexts/{group_name}", VOTERS, more_contests=CONTESTS)
    sim.key_ceremony()
    votes = sim.make_votes(VOTERS, 0)
    sim.cast(votes, sim.make_ballots(votes))
    kinds = _plaintexts(group, 0)
    for k, (elements, _) in enumerate(kinds.values()):
        ballot = encrypt_elements(sim, elements)
        sim.board.post(sim.ballot_entry((1000 + k).to_bytes(32, "big"), ballot))
    sim.close()
    outputs, proof = sim.shuffle_and_prove(1)
    sim.post_shuffle(1, outputs, proof)
    outputs, proof = sim.shuffle_and_prove(2)
    sim.post_shuffle(2, outputs, proof)
    sim.finish_mixing()
    for j in sorted(sim.machines)[:2]:
        sim.post_share(sim.make_share(j))
    sim.combine()  # the administrator's tally path: never raises
    sim.post_result()
    report = run_verifier(sim.board.entries, sim.people.board, sim.people.election_id)
    assert report.passed, [(s.id, s.check, s.reason) for s in report.steps if s.status != "pass"]
    assert verdict(check_record(sim.board.entries))
    assert sim.result is not None
    tally = sim.counted()
    invalid = {
        cid: sum(1 for _, c in kinds.values() if c == cid) for cid in ("mayor", "council", "panel")
    }
    assert {cid: t["invalid"] for cid, t in tally.items()} == invalid
    # every valid mayor's vote counts: the honest voters' and the ballots invalid elsewhere
    others = sum(1 for _, c in kinds.values() if c != "mayor")  # they vote for option 2
    expected = sim.intended_tally()
    expected[sim.people.options[1]] += others
    assert sim.tally == expected
    assert tally["council"]["blank"] == VOTERS and tally["panel"]["blank"] == VOTERS
    # published: one list per contest; integers or the marker, a whole invalid contest row
    # as the marker
    lists = dict(sim.result.plaintexts)
    assert list(lists) == ["mayor", "council", "panel"]
    marked = [r for rows in lists.values() for r in rows if rules.INVALID_SLOT in r]
    assert len(marked) == len(kinds)
    for contest in sim.people.manifest.contests:
        for row in lists[contest.id]:
            assert len(row) == contest.width
            assert all(isinstance(v, int) or v == rules.INVALID_SLOT for v in row)
            assert rules.INVALID_SLOT not in row or set(row) == {rules.INVALID_SLOT}


def test_no_marker_value_can_be_read_back() -> None:
    """Every invalid plaintext of a contest is published the same way."""
    group = get_group(GROUP)
    sim = _election(group, "rules/marker", VOTERS, more_contests=CONTESTS)
    manifest = sim.people.manifest
    part = {c.id: where for c, where in manifest.contest_slices()}
    published = {
        kind: rules.plaintext_row(manifest, elements)[part[contest]]
        for kind, (elements, contest) in _plaintexts(group, 7).items()
    }
    assert {tuple(v) for v in published.values()} == {
        (rules.INVALID_SLOT,),
        (rules.INVALID_SLOT,) * 3,
        (rules.INVALID_SLOT,) * 2,
    }


# ---------------------------------------------------------------- the self-repeating ballot


def test_self_repeating_ballot_refused_and_named() -> None:
    sim = _sim("self-repeating", more_contests=TWO_CONTESTS)
    entry = _self_repeating(sim)
    with pytest.raises(Refusal) as info:
        sim.board.post(entry)
    assert info.value.code == "duplicate_ciphertext" and info.value.status == 409
    index = sim.board.post(entry, cheat=True)
    report = run_verifier(sim.board.entries, sim.people.board, sim.people.election_id)
    v8 = next(s for s in report.steps if s.id == "V8")
    assert v8.status == "fail" and v8.check == "V8.repeated_ciphertext"
    assert f"ballot entry {index}:" in v8.reason
