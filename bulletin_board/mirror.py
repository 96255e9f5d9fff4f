"""A mirror: follows a board, keeps its own copy, checks every head, co-signs (docs/board.md §10).

For each election the mirror (1) fetches the board's signed tree head and checks it against
the last head it holds with a consistency proof (`BoardClient.accept_head`); (2) downloads the
new entries and checks that its own copy rebuilds the head's root; (3) stores entries and head
in its own storage; (4) co-signs the head and posts the co-signature back. A board that shows a
history incompatible with one it showed before raises `InconsistentBoardError`, whose
`evidence()` holds the two conflicting signed heads; `tohyo board mirror` prints it and exits 3.
"""

from __future__ import annotations

import asyncio
import logging

import aiohttp
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey

from bulletin_board.client import BoardClient, BoardRefusedError
from bulletin_board.log import MerkleLog, SignedTreeHead, cosign_tree_head, hash_leaf
from bulletin_board.storage import Storage
from mixnet.encoding import canonical_json, parse_canonical_json
from mixnet.errors import VerificationError

__all__ = ["Mirror"]

log = logging.getLogger("tohyo.board.mirror")


class Mirror:
    def __init__(
        self,
        client: BoardClient,
        storage: Storage,
        key: Ed25519PrivateKey,
        elections: list[str] | None = None,
        *,
        post_cosignatures: bool = True,
    ) -> None:
        self.client = client
        self.storage = storage
        self.key = key
        self.only = elections
        self.post_cosignatures = post_cosignatures
        self.logs: dict[str, MerkleLog] = {}

    async def load(self) -> None:
        """Restore the copy and the last board head of every election held (storage open)."""
        for election in await self.storage.elections():
            self.logs[election] = MerkleLog(await self.storage.leaf_hashes(election))
            raw = await self.storage.tree_head(election)
            if raw is not None:
                sth = SignedTreeHead.from_json(parse_canonical_json(raw))
                if self.logs[election].root(sth.tree_size) != sth.root_hash:
                    raise VerificationError("mirror.local_copy", f"{election}: copy is corrupt")
                self.client.heads[election] = sth

    async def sync_once(self) -> dict[str, int]:
        """Follow every election once; return the size held per election."""
        names = set(self.only) if self.only is not None else set(await self.client.elections())
        names |= set(self.logs) if self.only is None else set()
        out = {}
        for election in sorted(names):
            out[election] = await self.sync(election)
        return out

    async def sync(self, election: str) -> int:
        sth = await self.client.tree_head(election)  # signature + consistency with last head
        local = self.logs.setdefault(election, MerkleLog())
        held = len(local)
        if sth.tree_size <= held:
            if local.root(sth.tree_size) != sth.root_hash:
                raise VerificationError("mirror.root", f"{election}: head differs from the copy")
            return held
        entries = await self.client.entries_range(election, held, sth.tree_size)
        for e in entries:
            local.append(hash_leaf(e))
        if local.root() != sth.root_hash:
            local.truncate(held)
            raise VerificationError(
                "mirror.entries_root", f"{election}: served entries do not rebuild the head"
            )
        for offset, e in enumerate(entries):
            await self.storage.append(election, held + offset, e, hash_leaf(e))
        await self.storage.put_tree_head(
            election, sth.tree_size, canonical_json(sth.to_json(with_cosignatures=False))
        )
        cos = cosign_tree_head(self.key, sth)
        await self.storage.add_cosignature(election, sth.tree_size, cos.signer, cos.signature)
        if self.post_cosignatures:
            try:
                await self.client.cosign(self.key, sth)
            except BoardRefusedError as exc:  # the copy stays valid; the board refused ours
                log.warning(
                    "board refused the co-signature of %s/%d: %s", election, sth.tree_size, exc
                )
        log.info("%s: %d entries, root %s", election, sth.tree_size, sth.root_hash.hex())
        return sth.tree_size

    async def run(self, interval: float, stop: asyncio.Event | None = None) -> None:
        """Follow until `stop` is set; raises on the first inconsistency, rides out outages."""
        stop = stop or asyncio.Event()
        while not stop.is_set():
            try:
                await self.sync_once()
            except (aiohttp.ClientError, OSError, TimeoutError) as exc:
                log.warning("board unreachable, retrying: %s", exc)  # an outage is no fork
            try:
                await asyncio.wait_for(stop.wait(), interval)
            except TimeoutError:
                pass
