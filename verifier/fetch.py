"""Fetching a record from a board URL into an export directory (docs/record.md §1.2).

The only module of `verifier` that talks to the network. It uses `bulletin_board.client`, whose
`export` also writes the directory through `bulletin_board.export`, which imports the board's
storage; the import-linter contract therefore ignores this one import
(`verifier.fetch -> bulletin_board.client`). Nothing fetched is trusted: the directory is then
verified like any other, from its first step.
"""

from __future__ import annotations

import asyncio
from pathlib import Path

__all__ = ["fetch_record"]


def fetch_record(url: str, election: str, directory: Path, board_key: str | None = None) -> None:
    """Download election `election` from the board at `url` into `directory`."""
    from bulletin_board.client import BoardClient

    async def run() -> None:
        async with BoardClient(url, board_key) as client:
            await client.export(election, directory)

    asyncio.run(run())
