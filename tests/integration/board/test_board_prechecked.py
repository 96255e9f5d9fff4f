"""The intake's shortcut: an entry the board service built and checked itself is appended
without a second decoding and signature check, and only that very object is."""

from __future__ import annotations

import asyncio
import json
from pathlib import Path

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
    board = Board(SqliteStorage(tmp_path / "board.sqlite"), el.board,
                  ElectionPolicy(allow_test_groups=True))

    async def main() -> None:
        server = BoardServer(board)
        await server.start()
        try:
            async with BoardClient(server.url) as client:
                pk = await open_voting(client, el, rng)
                row, rs = elgamal.encrypt_row(pk, [1], rng)
                ballot = Ballot.create(el.fingerprint, pk, row, rs, Ed25519PrivateKey.generate(),
                                       rng).to_json()
                ballot["proof"]["s"][0] = "00" * (len(ballot["proof"]["s"][0]) // 2)
                att = sign_attestation(el.registrar, el.fingerprint, bytes(32),
                                       bytes.fromhex(ballot["signature"][:64]))
                envelope = sign_envelope(el.registrar, el.id, "ballot", "registrar",
                                         {"v": 1, "ballot": ballot, "attestation": att.to_json()})
                state = board.policy_state(el.id)
                assert isinstance(state, ElectionRecordState)
                state.prechecked[id(envelope)] = envelope
                size = board.size(el.id)
                # the same bytes posted by anyone else are decoded and checked in full
                async with aiohttp.ClientSession() as session, session.post(
                    f"{server.url}/v1/elections/{el.id}/entries", data=envelope.to_bytes(),
                    headers={"Content-Type": "application/json"},
                ) as resp:
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
