"""Kill -9 the board mid-stream; every acknowledged entry survives and history stays consistent.

The board runs as a child process (`python -m tohyo board serve`) on a SQLite file or a
PostgreSQL database, under the registry policy (bare signed entries) and under the election
policy production serves (real attested ballots); concurrent clients post ballots and keep
every receipt; the process is
killed with SIGKILL while posts are in flight, restarted on the same database, and checked.
"""

from __future__ import annotations

import asyncio
from pathlib import Path

import aiohttp
import pytest

from bulletin_board.client import BoardClient, BoardRefusedError
from bulletin_board.log import MerkleLog, hash_leaf, verify_consistency
from bulletin_board.receipt import Receipt, verify_receipt
from tests.integration.board.election_board import Scenario

E = "crash-test"
WORKERS = 8
KILL_AFTER = 120


async def _post_forever(client: BoardClient, scenario: Scenario, receipts: list[Receipt]) -> None:
    while True:
        try:
            receipts.append(await client.post(scenario.entry()))
        except (TimeoutError, aiohttp.ClientError, OSError, BoardRefusedError):
            return


@pytest.mark.slow
@pytest.mark.parametrize("policy", ["registry", "election"])
def test_sigkill_mid_stream_loses_no_acknowledged_entry(
    storage_url: str, tmp_path: Path, policy: str
) -> None:
    scenario = Scenario(policy, tmp_path, E)
    board = scenario.process(storage_url)

    async def before_crash() -> tuple[list[Receipt], str]:
        url = board.start()
        async with BoardClient(url) as admin:
            await scenario.open(admin)
            board_key = await admin.board_key_hex()
        receipts: list[Receipt] = []
        clients = [BoardClient(url, board_key, timeout=10) for _ in range(WORKERS)]
        tasks = [asyncio.create_task(_post_forever(c, scenario, receipts)) for c in clients]
        try:
            async with asyncio.timeout(60):
                while len(receipts) < KILL_AFTER:
                    await asyncio.sleep(0.005)
            board.kill()  # SIGKILL while WORKERS posts are in flight
            async with asyncio.timeout(30):
                await asyncio.gather(*tasks)
        finally:
            for t in tasks:
                t.cancel()
            for c in clients:
                await c.close()
        return receipts, board_key

    receipts, board_key = asyncio.run(before_crash())
    assert len(receipts) >= KILL_AFTER

    async def after_restart() -> None:
        url = board.start()
        try:
            async with BoardClient(url, board_key) as client:
                entries, sth = await client.all_entries(E)  # rebuilds the signed root
                log = MerkleLog(hash_leaf(e) for e in entries)
                for r in receipts:
                    verify_receipt(r, await client.board_key())
                    assert r.index < sth.tree_size
                    assert hash_leaf(entries[r.index]) == r.entry_hash
                    old = r.tree_head
                    proof = await client.consistency_proof(E, old.tree_size, sth.tree_size)
                    verify_consistency(
                        old.tree_size, sth.tree_size, proof, old.root_hash, sth.root_hash
                    )
                    assert log.root(old.tree_size) == old.root_hash
                # the board keeps working after the crash
                more = await client.post(scenario.entry())
                assert more.index == sth.tree_size
        finally:
            board.stop()

    asyncio.run(after_restart())
