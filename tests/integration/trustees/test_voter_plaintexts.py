"""Voters who encrypt what is no choice, through the real board and the real daemons.

A board process (`tohyo board serve --policy election`), `tohyo trustee run` daemons for three
trustees (t = 2) and two mix servers, the test as administrator (`Coordinator`) and registrar,
over HTTP on 127.0.0.1. The ballot has two contests. Besides the honest ballots, one voter
encrypts 1000 for the mayor and another a random group element (both with valid proofs of
knowledge: the board cannot see the plaintext), and a third reuses one randomness in its two
slots. Checked: the board refuses the third (409 `duplicate_ciphertext`); the administrator's
tally completes; the exported record verifies (`tohyo verify`'s steps) with the two ballots
counted invalid for the mayor, published as the fixed marker, and every honest vote counted.
"""

from __future__ import annotations

import asyncio
import dataclasses
from pathlib import Path

import pytest
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey
from daemon_support import (
    WAIT,
    BoardProcess,
    DaemonElection,
    expected_counts,
    open_with_joint_key,
    votes,
)

from bulletin_board.client import BoardClient, BoardRefusedError
from bulletin_board.entry import sign_envelope
from election import rules
from election.entries import Ballot
from election.manifest import Contest, Manifest, Option
from jpki.registrar import sign_attestation
from mixnet import elgamal
from mixnet.groups import Element
from mixnet.rng import DeterministicRandom
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
            co = await open_with_joint_key(client, el)
            await co.phase("voting")
            pk = co.state.pk
            assert pk is not None
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
            await co.phase("closed")
            await co.mix_input()
            await co.phase("mixing")
            for p in el.mixers:
                el.daemon(p, role="mix").start()
            await co.wait_until(lambda f: f.shuffles == 2, "two shuffles", WAIT)
            await co.phase("decrypting")
            result = await co.result(WAIT)  # the administrator's tally path
            await co.phase("tallied")
            out = tmp_path / "record"
            await client.export(el.election_id, out)
        report = verify_record(load_record(out), Options(allow_test_groups=True, progress=False))
        assert report.passed, [
            (s.id, s.check, s.reason) for s in report.steps if s.status != "pass"
        ]
        mayor, council = result["tally"]["mayor"], result["tally"]["council"]
        assert mayor["counts"] == expected_counts(HONEST)
        assert (mayor["ballots"], mayor["valid"], mayor["invalid"]) == (HONEST + 2, HONEST, 2)
        assert council["counts"] == {"x": 1, "y": 1} and council["blank"] == HONEST
        marked = [row for row in result["plaintexts"] if rules.INVALID_SLOT in row]
        assert sorted(marked, key=repr) == [[rules.INVALID_SLOT, 1], [rules.INVALID_SLOT, 2]]
    finally:
        el.stop_all()
