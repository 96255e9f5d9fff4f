"""A whole election through a real board over HTTP on 127.0.0.1 with the manifest policy.

Manifest → key ceremony (DKG messages posted and read back) → joint key → ballots (with
registrar attestations; re-votes; refused copies, forgeries and wrong phases) → close →
mix input → two mix servers → decryption shares (t of n) → result → tallied.
The election itself is in `election_helpers` (shared with the verifier's tests).
"""

from __future__ import annotations

import asyncio
from pathlib import Path

from election_helpers import E, Election, election_on_board

from bulletin_board.board import Board
from bulletin_board.server import BoardServer
from bulletin_board.storage import SqliteStorage
from election.policy import ElectionPolicy
from mixnet.rng import DeterministicRandom


def test_whole_election_through_the_board(tmp_path: Path) -> None:
    asyncio.run(_whole_election(tmp_path))


async def _whole_election(tmp_path: Path) -> None:
    el = Election(DeterministicRandom(b"election on board"))
    await election_on_board(tmp_path, el)

    # the policy state is rebuilt from storage after a restart
    board2 = Board(
        SqliteStorage(tmp_path / "board.sqlite"), el.board, ElectionPolicy(allow_test_groups=True)
    )
    server2 = BoardServer(board2)
    await server2.start()
    try:
        info = board2.describe(E)["policy"]
        assert info["phase"] == "tallied" and info["superseded"] == 2
    finally:
        await server2.stop()
