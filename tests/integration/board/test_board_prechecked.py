"""The intake's shortcut: an entry the board service built and checked itself is appended
without a second decoding and signature check, and only that very object is."""

from __future__ import annotations

import asyncio
import json
from pathlib import Path
from typing import Any

import aiohttp
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey

from bulletin_board.board import Board
from bulletin_board.client import BoardClient
from bulletin_board.entry import decode_envelope, sign_envelope
from bulletin_board.server import BoardServer
from bulletin_board.storage import SqliteStorage
from election.entries import Ballot
from election.policy import ElectionPolicy, ElectionRecordState
from jpki.registrar import sign_attestation
from mixnet import elgamal
from mixnet.rng import DeterministicRandom
from tests.integration.election_helpers import Election
from tests.integration.test_ballot_intake import open_voting


def test_only_the_object_the_intake_checked_skips_the_checks(tmp_path: Path) -> None:
    rng = DeterministicRandom(b"prechecked")
    el = Election(rng, election_id="prechecked-2026")
    board = Board(
        SqliteStorage(tmp_path / "board.sqlite"), el.board, ElectionPolicy(allow_test_groups=True)
    )

    async def main() -> None:
        server = BoardServer(board)
        await server.start()
        try:
            async with BoardClient(server.url) as client:
                pk = await open_voting(client, el, rng)
                row, rs = elgamal.encrypt_row(pk, [1], rng)
                ballot = Ballot.create(
                    el.fingerprint, pk, row, rs, Ed25519PrivateKey.generate(), rng
                ).to_json()
                ballot["proof"]["s"][0] = "00" * (len(ballot["proof"]["s"][0]) // 2)
                att = sign_attestation(
                    el.registrar, el.fingerprint, bytes(32), bytes.fromhex(ballot["signature"][:64])
                )
                envelope = sign_envelope(
                    el.registrar,
                    el.id,
                    "ballot",
                    "registrar",
                    {"v": 1, "ballot": ballot, "attestation": att.to_json()},
                )
                state = board.policy_state(el.id)
                assert isinstance(state, ElectionRecordState)
                state.prechecked[id(envelope)] = envelope
                size = board.size(el.id)
                # the same bytes posted by anyone else are decoded and checked in full
                async with (
                    aiohttp.ClientSession() as session,
                    session.post(
                        f"{server.url}/v1/elections/{el.id}/entries",
                        data=envelope.to_bytes(),
                        headers={"Content-Type": "application/json"},
                    ) as resp,
                ):
                    status, doc = resp.status, json.loads(await resp.read())
                assert (status, doc["error"]) == (422, "bad_proof")
                copy = decode_envelope(envelope.to_bytes())
                assert copy == envelope and not state.is_prechecked(copy)
                assert board.size(el.id) == size
                # the registered object itself is taken as checked, then forgotten
                receipt = await board.post_envelope(el.id, envelope, envelope.to_bytes())
                assert receipt.index == size and not state.prechecked
        finally:
            await server.stop()

    asyncio.run(main())


def test_ballot_entries_are_checked_in_worker_processes(tmp_path: Path) -> None:
    """With `board serve --processes N` (the election policy), attested ballot entries posted
    to /entries are checked by `BallotPrecheck` in a `WorkerPool`: the same answers as the
    policy gives in the board process, nothing written on a refusal, nothing left registered."""
    from bulletin_board.workers import WorkerPool
    from election.prechecks import BallotPrecheck, check_ballot_entry

    rng = DeterministicRandom(b"prechecks")
    el = Election(rng, election_id="prechecks-2026")
    board = Board(
        SqliteStorage(tmp_path / "board.sqlite"), el.board, ElectionPolicy(allow_test_groups=True)
    )
    pool = WorkerPool(2)
    precheck = BallotPrecheck(pool)
    board.precheck = precheck
    calls: list[tuple[Any, ...]] = []

    async def counting_run(function: Any, *args: Any) -> Any:
        calls.append(args)
        assert function is check_ballot_entry
        return await pool.run(function, *args)

    precheck.jobs.runner = counting_run

    async def post(client: aiohttp.ClientSession, url: str, data: bytes) -> tuple[int, Any]:
        async with client.post(
            f"{url}/v1/elections/{el.id}/entries",
            data=data,
            headers={"Content-Type": "application/json"},
        ) as resp:
            return resp.status, json.loads(await resp.read())

    def ballot_entry(pk: Any, voter: int, key: Any = None, **change: Any) -> Any:
        row, rs = elgamal.encrypt_row(pk, [1 + voter % 2], rng)
        ballot = Ballot.create(el.fingerprint, pk, row, rs, Ed25519PrivateKey.generate(), rng)
        att = sign_attestation(
            el.registrar, el.fingerprint, voter.to_bytes(32, "big"), ballot.hash(el.fingerprint)
        )
        body = {"v": 1, "ballot": ballot.to_json(), "attestation": att.to_json()} | change
        return sign_envelope(key or el.registrar, el.id, "ballot", "registrar", body)

    async def main() -> None:
        server = BoardServer(board)
        await server.start()
        try:
            async with BoardClient(server.url) as client, aiohttp.ClientSession() as session:
                pk = await open_voting(client, el, rng)
                state = board.policy_state(el.id)
                first = len(calls)
                for voter in range(6):
                    status, doc = await post(
                        session, server.url, ballot_entry(pk, voter).to_bytes()
                    )
                    assert status == 201, doc
                assert len(calls) >= 6 + first  # checked in the workers (plus "missing" rounds)
                size = board.size(el.id)
                bad_proof = ballot_entry(pk, 7)
                s0 = bad_proof.body["ballot"]["proof"]["s"]
                s0[0] = "00" * (len(s0[0]) // 2)
                resigned = sign_envelope(el.registrar, el.id, "ballot", "registrar", bad_proof.body)
                forged = ballot_entry(pk, 8, key=Ed25519PrivateKey.generate())
                no_attestation = sign_envelope(
                    el.registrar,
                    el.id,
                    "ballot",
                    "registrar",
                    {"v": 1, "ballot": resigned.body["ballot"]},
                )
                for entry, expected in (
                    (resigned, (422, "bad_proof")),
                    (forged, (403, "bad_signature")),
                    (no_attestation, (422, "bad_body")),
                ):
                    status, doc = await post(session, server.url, entry.to_bytes())
                    assert (status, doc["error"]) == expected, doc
                assert board.size(el.id) == size
                assert isinstance(state, ElectionRecordState) and not state.prechecked
                # a copied ciphertext passes the workers and is refused under the lock
                copy = decode_envelope((await client.entries(el.id, size - 1, 1))[0])
                att = sign_attestation(
                    el.registrar,
                    el.fingerprint,
                    (99).to_bytes(32, "big"),
                    bytes.fromhex(copy.body["attestation"]["ballot_hash"]),
                )
                stolen = sign_envelope(
                    el.registrar,
                    el.id,
                    "ballot",
                    "registrar",
                    {**copy.body, "attestation": att.to_json()},
                )
                status, doc = await post(session, server.url, stolen.to_bytes())
                assert (status, doc["error"]) == (409, "duplicate_ciphertext"), doc
                assert board.size(el.id) == size and not state.prechecked
        finally:
            await server.stop()
            pool.close()

    asyncio.run(main())
