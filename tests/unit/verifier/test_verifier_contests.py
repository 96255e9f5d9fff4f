"""One list per contest on the record: the verifier (and the board) refuse what breaks it.

A two-contest election (mayor and council, each one slot) in memory (`simulations.world`); one
entry of its record is changed at a time, re-signed by its author (a dishonest admin or mix
server holding its own key), and the verifier (`tohyo verify`'s steps V1–V12) must name the
check that fails:

- a shuffle whose part for the mayor's list (outputs and proof) is replayed in the council's
  slot, relabelled: the proof is bound to its contest (`mix_context(E, k, contest)`) and the
  council's inputs, so V10 fails with the proof's check, naming the council;
- the same part in the council's slot under its own label: V10.contest;
- a mix input whose contest lists are not the ballots' (the two lists exchanged; one list
  reordered, which would re-link rows across contests as the admin likes; the old whole-row
  shape): V9.rows, V9.rows, V9.body; contests out of the manifest's order: V9.contests.

The board's policy refuses every such mix input and the relabelled slot, with `bad_body`; it
does not check proofs (the next mix server and the verifier do), so the replayed proof is
accepted there and caught by the verifier.
"""

from __future__ import annotations

import copy
import dataclasses
import json
from collections.abc import Callable
from typing import Any

import pytest

from bulletin_board.entry import Envelope, decode_envelope, sign_envelope
from bulletin_board.policy import Refusal
from election.manifest import Contest, Option
from mixnet.groups import get_group
from simulations.attacks import _election
from simulations.audit import run_verifier
from simulations.world import MemoryBoard, SimulatedElection, ensure_groups
from trustees.decryption import make_share

ensure_groups()
GROUP = "test-schnorr-512-128"
VOTERS = 5
COUNCIL = Contest(
    "council", "議会", "public_office", "single", (Option("x", "甲"), Option("y", "乙"))
)


def _through_the_mix_input() -> SimulatedElection:
    sim = _election(get_group(GROUP), "contests/verifier", VOTERS, more_contests=(COUNCIL,))
    sim.key_ceremony()
    votes = sim.make_votes(VOTERS, 0)
    sim.cast(votes, sim.make_ballots(votes))
    sim.close()
    return sim


def _whole(sim: SimulatedElection) -> None:
    """The rest of an honest election, from the first shuffle to the result."""
    for k in range(1, len(sim.people.mixers) + 1):
        outputs, proofs = sim.shuffle_and_prove(k)
        sim.post_shuffle(k, outputs, proofs)
    sim.finish_mixing()
    for j in sorted(sim.machines)[: sim.people.manifest.threshold]:
        sim.post_share(sim.make_share(j))
    sim.combine()
    sim.post_result()


@pytest.fixture(scope="module")
def honest() -> SimulatedElection:
    sim = _through_the_mix_input()
    _whole(sim)
    report = run_verifier(sim.board.entries, sim.people.board, sim.people.election_id)
    assert report.passed, [(s.id, s.check, s.reason) for s in report.steps if s.status != "pass"]
    return sim


def _doctored(
    sim: SimulatedElection, type_: str, edit: Callable[[dict[str, Any]], None]
) -> tuple[list[bytes], Envelope]:
    """The record with the first entry of `type_` edited and re-signed by its author."""
    entries = list(sim.board.entries)
    i = next(k for k, e in enumerate(entries) if decode_envelope(e).type == type_)
    env = decode_envelope(entries[i])
    body = json.loads(json.dumps(env.body))
    edit(body)
    keys = {"admin": sim.people.admin, "mix-1": sim.people.mixers[0], "mix-2": sim.people.mixers[1]}
    keys |= {f"trustee-{j}": k.ed25519_key() for j, k in enumerate(sim.people.trustee_keys, 1)}
    new = sign_envelope(keys[env.author], env.election, env.type, env.author, body)
    entries[i] = new.to_bytes()
    return entries, new


def _board_refusal(sim: SimulatedElection, entries: list[bytes], env: Envelope) -> Refusal:
    """The board's refusal of `env`, posted after the entries before it (as accepted)."""
    board = MemoryBoard(sim.people.election_id)
    for data in entries[: entries.index(env.to_bytes())]:
        board.post(data, cheat=True)  # the honest board accepted these
    with pytest.raises(Refusal) as info:
        board.post(env)
    return info.value


def _first_failure(sim: SimulatedElection, entries: list[bytes]) -> Any:
    report = run_verifier(entries, sim.people.board, sim.people.election_id)
    failed = [s for s in report.steps if s.status == "fail"]
    assert failed, "not detected"
    return failed[0]


def _replay_mayor_in_council(body: dict[str, Any]) -> None:
    body["contests"][1] = {**copy.deepcopy(body["contests"][0]), "contest": "council"}


def _mayor_in_council_slot(body: dict[str, Any]) -> None:
    body["contests"][1] = copy.deepcopy(body["contests"][0])


def test_a_proof_replayed_in_another_contests_slot_is_refused(honest: SimulatedElection) -> None:
    entries, _env = _doctored(honest, "shuffle", _replay_mayor_in_council)
    failed = _first_failure(honest, entries)
    assert failed.id == "V10" and failed.check.startswith("TW"), (failed.check, failed.reason)
    assert "mix server 1, contest council" in failed.reason


def test_a_contests_part_in_another_slot_is_named(honest: SimulatedElection) -> None:
    entries, _env = _doctored(honest, "shuffle", _mayor_in_council_slot)
    failed = _first_failure(honest, entries)
    assert (failed.id, failed.check) == ("V10", "V10.contest"), failed.reason
    assert "contest council" in failed.reason


def _exchange(body: dict[str, Any]) -> None:
    a, b = body["contests"]
    a["rows"], b["rows"] = b["rows"], a["rows"]


def _reorder_council(body: dict[str, Any]) -> None:
    rows = body["contests"][1]["rows"]
    rows.append(rows.pop(0))


def _whole_rows(body: dict[str, Any]) -> None:
    a, b = body.pop("contests")
    body["rows"] = [ra + rb for ra, rb in zip(a["rows"], b["rows"])]


def _out_of_order(body: dict[str, Any]) -> None:
    body["contests"].reverse()


MIX_INPUTS: dict[str, tuple[Callable[[dict[str, Any]], None], str, str]] = {
    "the two contests' lists exchanged": (_exchange, "V9.rows", "contest mayor, row 0"),
    "the council's list reordered": (_reorder_council, "V9.rows", "contest council, row 0"),
    "whole rows (the old shape)": (_whole_rows, "V9.body", "{v, entries, contests}"),
    "contests out of the manifest's order": (_out_of_order, "V9.contests", "mayor, council"),
}


@pytest.mark.parametrize("name", sorted(MIX_INPUTS))
def test_a_mix_input_whose_lists_are_not_the_ballots_is_refused(name: str) -> None:
    edit, check, detail = MIX_INPUTS[name]
    sim = _through_the_mix_input()
    entries, env = _doctored(sim, "mix_input", edit)
    # the board refuses it (checked against its state before the mix input was accepted)
    assert _board_refusal(sim, entries, env).code == "bad_body"
    failed = _first_failure(sim, entries)
    assert (failed.id, failed.check) == ("V9", check), failed.reason
    assert detail in failed.reason


def test_the_board_refuses_a_part_in_another_contests_slot() -> None:
    sim = _through_the_mix_input()
    outputs, proofs = sim.shuffle_and_prove(1)
    sim.post_shuffle(1, outputs, proofs)  # accepted: the honest entry
    entries, env = _doctored(sim, "shuffle", _mayor_in_council_slot)
    refusal = _board_refusal(sim, entries, env)
    assert refusal.code == "bad_body" and "council" in refusal.detail


def test_a_share_entry_of_another_trustee_is_refused(honest: SimulatedElection) -> None:
    """Trustee 1 posts an entry that says it is trustee 2's: V4.sender, and the board says
    `unauthorised_signer`."""

    def claim_two(body: dict[str, Any]) -> None:
        body["trustee"] = 2

    entries, env = _doctored(honest, "decryption_share", claim_two)
    failed = _first_failure(honest, entries)
    assert (failed.id, failed.check) == ("V4", "V4.sender"), failed.reason
    assert _board_refusal(honest, entries, env).code == "unauthorised_signer"


def test_a_contest_share_labelled_with_another_trustee_is_refused(
    honest: SimulatedElection,
) -> None:
    """Trustee 1's entry holds, for the council, a share labelled trustee 2 whose proof holds
    for trustee 1's key in that label's context: each share of an entry must be its author's
    (V11.trustee; the board: `bad_body`)."""
    machine = honest.machines[1]
    assert machine.key_share is not None
    council = honest.mix_lists[-1][1][1]
    forged = make_share(
        dataclasses.replace(machine.key_share, index=2),
        council,
        election=honest.fingerprint,
        rng=honest.rng,
    )

    def relabel(body: dict[str, Any]) -> None:
        assert body["trustee"] == 1
        body["contests"][1]["share"] = forged.to_json_value()

    entries, env = _doctored(honest, "decryption_share", relabel)
    failed = _first_failure(honest, entries)
    # a used share that fails is reported under its own check (docs/record.md §7.1)
    assert (failed.id, failed.check) == ("V11", "V11.trustee"), failed.reason
    assert "another trustee" in failed.reason
    refusal = _board_refusal(honest, entries, env)
    assert refusal.code == "bad_body" and "another trustee" in refusal.detail
