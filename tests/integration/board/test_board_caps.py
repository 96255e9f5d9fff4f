"""Per-entry-type size caps: small ballots, record entries sized by the rows to mix."""

from __future__ import annotations

import asyncio
import json
from pathlib import Path

import aiohttp
import pytest

from bulletin_board.board import Board, Limits
from bulletin_board.client import BoardClient
from bulletin_board.entry import decode_envelope, sign_envelope
from bulletin_board.policy import Refusal
from bulletin_board.server import BoardServer
from bulletin_board.storage import SqliteStorage
from election.policy import ElectionPolicy
from mixnet.rng import DeterministicRandom
from tests.integration.election_helpers import E, Election, run_election

MAX_BODY = 8 * 1024  # below any shuffle of this election, above every admin and DKG entry


async def post_raw(url: str, data: bytes) -> tuple[int, dict[str, str]]:
    async with (
        aiohttp.ClientSession() as session,
        session.post(
            f"{url}/v1/elections/{E}/entries",
            data=data,
            headers={"Content-Type": "application/json"},
        ) as resp,
    ):
        return resp.status, json.loads(await resp.read())


def test_ballots_are_capped_small_and_shuffles_by_the_rows(tmp_path: Path) -> None:
    el = Election(DeterministicRandom(b"board caps"))
    limits = Limits(max_body_bytes=MAX_BODY)
    board = Board(
        SqliteStorage(tmp_path / "board.sqlite"),
        el.board,
        ElectionPolicy(allow_test_groups=True),
        limits=limits,
    )

    async def main() -> None:
        server = BoardServer(board)
        await server.start()
        try:
            async with BoardClient(server.url) as client:
                await run_election(client, board, el, voters=30)
                entries = [decode_envelope(x) for x in await client.entries(E, 0)]
                state = board.policy_state(E)
                ballot_cap = board.body_cap(state, "ballot")
                shuffle_cap = board.body_cap(state, "shuffle")
                sizes = {e.type: len(e.to_bytes()) for e in entries}
                # every shuffle was accepted although larger than a ballot may be
                assert sizes["shuffle"] > max(ballot_cap, MAX_BODY)
                assert sizes["shuffle"] < shuffle_cap <= limits.max_record_body_bytes
                assert sizes["ballot"] < ballot_cap < 32 * 1024

                # a ballot over its cap: 413 too_large naming the cap, nothing written
                ballot = next(e for e in entries if e.type == "ballot")
                before = board.size(E)
                pad = "0" * (ballot_cap - len(ballot.to_bytes()))
                big = sign_envelope(
                    el.registrar, E, "ballot", "registrar", {**ballot.body, "pad": pad}
                )
                assert len(big.to_bytes()) > ballot_cap
                # over HTTP a tallied election takes no entry type: its raw cap is the
                # default one, and the body is refused on its length, before any decoding
                status, doc = await post_raw(server.url, big.to_bytes())
                assert (status, doc["error"]) == (413, "too_large")
                assert f"bodies are at most {MAX_BODY} bytes here" in doc["detail"]
                assert board.raw_cap(E) == MAX_BODY
                # past the raw cap, the cap of the entry's type
                with pytest.raises(Refusal) as refusal:
                    await board.post(E, big.to_bytes())
                assert refusal.value.code == "too_large"
                assert f"a ballot entry is at most {ballot_cap} bytes" in refusal.value.detail
                assert board.size(E) == before
                assert not state.prechecked
                # just under the cap it reaches the policy (which refuses it after tallying)
                small = sign_envelope(
                    el.registrar, E, "ballot", "registrar", {**ballot.body, "pad": pad[:-200]}
                )
                with pytest.raises(Refusal) as refusal:
                    await board.post(E, small.to_bytes())
                assert refusal.value.code == "wrong_phase"
                assert board.size(E) == before
        finally:
            await server.stop()

    asyncio.run(main())


def test_the_board_lists_its_caps(tmp_path: Path) -> None:
    async def main() -> None:
        board = Board(
            SqliteStorage(tmp_path / "b.sqlite"),
            Election(DeterministicRandom(b"caps")).board,
            limits=Limits(max_body_bytes=1000, max_record_body_bytes=5000),
        )
        server = BoardServer(board)
        await server.start()
        try:
            async with (
                aiohttp.ClientSession() as session,
                session.get(f"{server.url}/v1/board") as resp,
            ):
                limits = (await resp.json())["limits"]
            assert limits["max_body_bytes"] == 1000
            assert limits["max_record_body_bytes"] == 5000
            assert "shuffle" in limits["record_types"]
            assert board.body_cap(None, "shuffle") == 5000
            assert board.body_cap(None, "ballot") == 1000
        finally:
            await server.stop()

    asyncio.run(main())
