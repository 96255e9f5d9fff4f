"""Voters who encrypt what is no choice, through the real board and the real daemons.

A board process (`tohyo board serve --policy election`), `tohyo trustee run` daemons for three
trustees (t = 2) and two mix servers, the test as administrator (`Coordinator`) and registrar,
over HTTP on 127.0.0.1. The ballot has two contests. Besides the honest ballots, one voter
encrypts 1000 for the mayor and another a random group element (both with valid proofs of
knowledge: the board cannot see the plaintext), and a third reuses one randomness in its two
slots. Checked: the board refuses the third (409 `duplicate_ciphertext`); the administrator's
tally completes; the exported record verifies (`tohyo verify`'s steps) with the two ballots
counted invalid for the mayor, published as the fixed marker, and every honest vote counted.

A marked ballot (the "Italian attack"), in a second election: the council's list shows the
mark, and nothing links it to the voter's mayor's choice (one list, one permutation and one
proof per contest per mix server; one share per contest; plaintexts per contest).
"""

from __future__ import annotations

import asyncio
import dataclasses
from pathlib import Path
from typing import Any

import pytest
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey
from daemon_support import (
    WAIT,
    BoardProcess,
    DaemonElection,
    cli,
    expected_counts,
    open_with_joint_key,
    votes,
)

from bulletin_board.client import BoardClient, BoardRefusedError
from bulletin_board.entry import decode_envelope, sign_envelope
from election import rules
from election.entries import Ballot
from election.manifest import Contest, Manifest, Option
from jpki.registrar import sign_attestation
from mixnet import elgamal
from mixnet.groups import Element
from mixnet.rng import DeterministicRandom
from trustees.coordinator import Coordinator
from trustees.mixer import ShuffleRejected, verify_chain
from verifier import Options, verify_record
from verifier.record import load_record

pytestmark = pytest.mark.slow
HONEST = 6
COUNCIL = Contest(
    "council", "議会", "public_office", "single", (Option("x", "甲"), Option("y", "乙"))
)


class TwoContestElection(DaemonElection):
    def manifest(self) -> Manifest:
        base = super().manifest()
        return dataclasses.replace(base, contests=(*base.contests, COUNCIL))


def _ballot(
    manifest: Manifest,
    pk: Element,
    elements: list[Element],
    rng: DeterministicRandom,
    *,
    one_randomness: bool = False,
) -> Ballot:
    group, g = pk.group, pk.group.generator()
    first = group.random_scalar(rng)
    rs = [
        first if one_randomness or k == 0 else group.random_scalar(rng)
        for k in range(len(elements))
    ]
    row = tuple(elgamal.Ciphertext(m * pk**r, g**r) for m, r in zip(elements, rs))
    return Ballot.create(manifest.fingerprint(), pk, row, rs, Ed25519PrivateKey.generate(), rng)


async def _post(client: BoardClient, el: DaemonElection, voter: int, ballot: Ballot) -> None:
    fingerprint = el.manifest().fingerprint()
    att = sign_attestation(
        el.registrar, fingerprint, voter.to_bytes(32, "big"), ballot.hash(fingerprint)
    )
    await client.post(
        sign_envelope(
            el.registrar,
            el.election_id,
            "ballot",
            "registrar",
            {"v": 1, "ballot": ballot.to_json(), "attestation": att.to_json()},
        )
    )


async def _open_voting(client: BoardClient, el: DaemonElection) -> tuple[Coordinator, Element]:
    """Open the election with the trustees' daemons, wait for the joint key, open voting."""
    co = await open_with_joint_key(client, el)
    await co.phase("voting")
    pk = co.state.pk
    assert pk is not None
    return co, pk


async def _mix_and_tally(
    client: BoardClient, co: Coordinator, el: DaemonElection, tmp_path: Path
) -> tuple[dict[str, Any], Path]:
    """Close, post the mix input, let the mix servers' daemons shuffle, decrypt with the
    trustees' daemons, post the result (the administrator's tally path) and export the
    record; returns the result's body and the export's directory."""
    await co.phase("closed")
    await co.mix_input()
    await co.phase("mixing")
    for p in el.mixers:
        el.daemon(p, role="mix").start()
    await co.wait_until(lambda f: f.shuffles == 2, "two shuffles", WAIT)
    await co.phase("decrypting")
    result = await co.result(WAIT)
    await co.phase("tallied")
    out = tmp_path / "record"
    await client.export(el.election_id, out)
    return result, out


def test_invalid_plaintexts_counted_and_self_repeating_refused(
    board: BoardProcess, tmp_path: Path
) -> None:
    asyncio.run(_run(board, tmp_path))


async def _run(board: BoardProcess, tmp_path: Path) -> None:
    el = TwoContestElection.create("city-plaintexts", tmp_path, board, mixers=2)
    manifest = el.manifest()
    rng = DeterministicRandom("voters of city-plaintexts")
    try:
        async with BoardClient(board.url, board.key_hex) as client:
            co, pk = await _open_voting(client, el)
            group = pk.group
            e = group.encode_message
            for voter, choice in enumerate(votes(HONEST)):
                await _post(client, el, voter, _ballot(manifest, pk, [e(choice + 1), e(0)], rng))
            await _post(client, el, 100, _ballot(manifest, pk, [e(1000), e(1)], rng))
            random = group.hash_to_element(b"a random plaintext")
            await _post(client, el, 101, _ballot(manifest, pk, [random, e(2)], rng))
            repeating = _ballot(manifest, pk, [e(1), e(1)], rng, one_randomness=True)
            with pytest.raises(BoardRefusedError) as info:
                await _post(client, el, 102, repeating)
            assert (info.value.status, info.value.code) == (409, "duplicate_ciphertext")
            result, out = await _mix_and_tally(client, co, el, tmp_path)
        report = verify_record(load_record(out), Options(allow_test_groups=True, progress=False))
        assert report.passed, [
            (s.id, s.check, s.reason) for s in report.steps if s.status != "pass"
        ]
        mayor, council = result["tally"]["mayor"], result["tally"]["council"]
        assert mayor["counts"] == expected_counts(HONEST)
        assert (mayor["ballots"], mayor["valid"], mayor["invalid"]) == (HONEST + 2, HONEST, 2)
        assert council["counts"] == {"x": 1, "y": 1} and council["blank"] == HONEST
        # each contest's list on its own: the two invalid mayor's rows, and the council's rows
        lists = {p["contest"]: p["rows"] for p in result["plaintexts"]}
        assert lists["mayor"].count([rules.INVALID_SLOT]) == 2
        assert sorted(lists["council"]) == [[0]] * HONEST + [[1], [2]]
    finally:
        el.stop_all()


def test_a_marked_ballot_is_not_linked_across_contests(board: BoardProcess, tmp_path: Path) -> None:
    asyncio.run(_marked(board, tmp_path))


async def _marked(board: BoardProcess, tmp_path: Path) -> None:
    """The "Italian attack": a coercer tells one voter to mark the council contest with a
    pattern no honest voter uses (1000, published as the marker) and hopes to read the voter's
    mayor's choice next to the mark. Each contest is mixed as its own list, with its own
    permutation and its own proof per mix server, decrypted and published as its own list:
    the mark shows in the council's list, and nothing on the record puts it beside a mayor's
    choice. (On whole-row mixing the published row was [mayor choice, "invalid"].)"""
    el = TwoContestElection.create("city-marked", tmp_path, board, mixers=2)
    manifest = el.manifest()
    rng = DeterministicRandom("voters of city-marked")
    coerced = 2  # the marked voter's mayor's choice (0-based), what the coercer wants
    council = [v % 3 for v in range(HONEST)]  # blank, x, y
    try:
        async with BoardClient(board.url, board.key_hex) as client:
            co, pk = await _open_voting(client, el)
            e = pk.group.encode_message
            for voter, choice in enumerate(votes(HONEST)):
                ballot = _ballot(manifest, pk, [e(choice + 1), e(council[voter])], rng)
                await _post(client, el, voter, ballot)
            await _post(client, el, 100, _ballot(manifest, pk, [e(coerced + 1), e(1000)], rng))
            result, out = await _mix_and_tally(client, co, el, tmp_path)
        verified = cli("verify", str(out), "--allow-test-groups")
        assert verified.returncode == 0, verified.stdout + verified.stderr
        assert "RESULT: PASS" in verified.stdout
        envs = [decode_envelope(x) for x in load_record(out).entries]
        rows = HONEST + 1
        # the mix input: one list per contest, each row that contest's one ciphertext
        (mix_input,) = [x.body for x in envs if x.type == "mix_input"]
        assert [p["contest"] for p in mix_input["contests"]] == ["mayor", "council"]
        for part in mix_input["contests"]:
            assert len(part["rows"]) == rows and {len(r) for r in part["rows"]} == {1}
        # each mix server: one {outputs, proof} per contest, each proof its own
        shuffles = [x.body for x in envs if x.type == "shuffle"]
        assert [b["position"] for b in shuffles] == [1, 2]
        for body in shuffles:
            assert [p["contest"] for p in body["contests"]] == ["mayor", "council"]
            assert body["contests"][0]["proof"] != body["contests"][1]["proof"]
        # every proof holds for its contest's list in its contest's context, and in no other
        lists = [
            (p["contest"], elgamal.rows_from_json(pk.group, p["rows"], 1))
            for p in mix_input["contests"]
        ]
        fingerprint = manifest.fingerprint()
        verify_chain(pk, lists, shuffles, fingerprint)
        swapped = [("council", lists[0][1]), ("mayor", lists[1][1])]
        relabelled = [
            {
                **b,
                "contests": [
                    {**b["contests"][0], "contest": "council"},
                    {**b["contests"][1], "contest": "mayor"},
                ],
            }
            for b in shuffles
        ]
        with pytest.raises(ShuffleRejected) as info:
            verify_chain(pk, swapped, relabelled, fingerprint)
        assert info.value.position == 1 and info.value.check.startswith("TW")
        # one decryption share per contest list, each for its own list
        for x in envs:
            if x.type == "decryption_share":
                parts = x.body["contests"]
                assert [p["contest"] for p in parts] == ["mayor", "council"]
                assert parts[0]["share"]["rows"] != parts[1]["share"]["rows"]
        # the result: one list per contest, no row spanning two contests
        published = result["plaintexts"]
        assert [p["contest"] for p in published] == ["mayor", "council"]
        by_contest = {p["contest"]: p["rows"] for p in published}
        assert all(len(r) == 1 for part in by_contest.values() for r in part)
        assert by_contest["council"].count([rules.INVALID_SLOT]) == 1  # the mark, alone
        assert sorted(by_contest["mayor"]) == sorted(
            [[c + 1] for c in votes(HONEST)] + [[coerced + 1]]
        )
        # the tally counts every choice; the marked ballot counts for the mayor
        mayor, tally_council = result["tally"]["mayor"], result["tally"]["council"]
        expected = expected_counts(HONEST)
        expected[list(expected)[coerced]] += 1
        assert mayor["counts"] == expected and mayor["invalid"] == 0
        assert tally_council["invalid"] == 1 and tally_council["counts"] == {
            "x": council.count(1),
            "y": council.count(2),
        }
    finally:
        el.stop_all()
