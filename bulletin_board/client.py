"""An aiohttp client of the board that trusts nothing it is not shown a proof for.

Every tree head it receives is checked against the board key (pinned, or fetched once from
`/v1/board` on first use) and against the last head it saw for that election with a
consistency proof it demands from the board; every receipt and inclusion proof is verified.
A failed check raises `VerificationError`; a board that shows two incompatible histories
raises `InconsistentBoardError` carrying both signed heads (the evidence of a fork).
Refusals (4xx) raise `BoardRefusedError` with the board's code.
"""

from __future__ import annotations

import asyncio
import json
from collections.abc import AsyncIterator
from pathlib import Path
from typing import Any

import aiohttp
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey, Ed25519PublicKey

from bulletin_board.entry import Envelope
from bulletin_board.log import (
    MerkleLog,
    SignedTreeHead,
    cosign_tree_head,
    hash_leaf,
    public_key_from_hex,
    public_key_hex,
    verify_consistency,
    verify_inclusion,
    verify_tree_head,
)
from bulletin_board.receipt import Receipt, verify_receipt
from mixnet.encoding import canonical_json
from mixnet.errors import DecodeError, TohyoError, VerificationError

__all__ = ["BoardClient", "BoardRefusedError", "InconsistentBoardError"]


class BoardRefusedError(TohyoError):
    """The board answered with a refusal (4xx) or an error (5xx)."""

    def __init__(self, status: int, code: str, detail: str) -> None:
        self.status, self.code, self.detail = status, code, detail
        super().__init__(f"{status} {code}: {detail}")


class InconsistentBoardError(VerificationError):
    """Two signed tree heads of the same board that cannot both be true."""

    def __init__(self, check: str, detail: str, old: SignedTreeHead, new: SignedTreeHead):
        super().__init__(check, detail)
        self.old, self.new = old, new

    def evidence(self) -> dict[str, Any]:
        return {
            "check": self.check,
            "detail": self.detail,
            "tree_heads": [self.old.to_json(), self.new.to_json()],
        }


def _hexes(values: object, what: str) -> list[bytes]:
    if not isinstance(values, list):
        raise DecodeError(f"{what}: expected a list")
    out = []
    for v in values:
        if not isinstance(v, str) or len(v) != 64:
            raise DecodeError(f"{what}: expected 32-byte hex nodes")
        out.append(bytes.fromhex(v))
    return out


class BoardClient:
    def __init__(
        self,
        base_url: str,
        board_key: Ed25519PublicKey | str | None = None,
        *,
        session: aiohttp.ClientSession | None = None,
        timeout: float = 30.0,
        ssl: Any = None,
    ) -> None:
        self.base_url = base_url.rstrip("/")
        self._key = public_key_from_hex(board_key) if isinstance(board_key, str) else board_key
        self._session = session
        self._own_session = session is None
        self._timeout = aiohttp.ClientTimeout(total=timeout)
        self._ssl = ssl
        self.heads: dict[str, SignedTreeHead] = {}
        self._head_lock = asyncio.Lock()

    async def __aenter__(self) -> BoardClient:
        return self

    async def __aexit__(self, *exc: object) -> None:
        await self.close()

    async def close(self) -> None:
        if self._session is not None and self._own_session:
            await self._session.close()
        self._session = None

    @property
    def session(self) -> aiohttp.ClientSession:
        if self._session is None:
            self._session = aiohttp.ClientSession(timeout=self._timeout)
            self._own_session = True
        return self._session

    async def _request(
        self,
        method: str,
        path: str,
        *,
        params: dict[str, Any] | None = None,
        body: bytes | None = None,
    ) -> Any:
        headers = {"Content-Type": "application/json"} if body is not None else None
        q = {k: str(v) for k, v in (params or {}).items() if v is not None}
        async with self.session.request(
            method,
            self.base_url + path,
            params=q,
            data=body,
            headers=headers,
            ssl=True if self._ssl is None else self._ssl,
        ) as resp:
            raw = await resp.read()
            try:
                doc = json.loads(raw)
            except ValueError as exc:
                raise BoardRefusedError(
                    resp.status, "bad_response", raw[:200].decode("utf-8", "replace")
                ) from exc
            if resp.status >= 400:
                if isinstance(doc, dict):
                    raise BoardRefusedError(
                        resp.status, str(doc.get("error")), str(doc.get("detail"))
                    )
                raise BoardRefusedError(resp.status, "bad_response", "")
            return doc

    # -- the board's key and tree heads --------------------------------------------------

    async def board_key(self) -> Ed25519PublicKey:
        if self._key is None:
            info = await self._request("GET", "/v1/board")
            self._key = public_key_from_hex(info["public_key"])
        return self._key

    async def board_key_hex(self) -> str:
        return public_key_hex(await self.board_key())

    async def accept_head(self, sth: SignedTreeHead, election: str) -> SignedTreeHead:
        """Verify `sth` and its consistency with the last head seen; remember the newer one."""
        if sth.election != election:
            raise VerificationError("tree_head.election", f"head of {sth.election!r}")
        verify_tree_head(sth, await self.board_key())
        async with self._head_lock:
            last = self.heads.get(election)
            if last is None:
                self.heads[election] = sth
                return sth
            old, new = (last, sth) if last.tree_size <= sth.tree_size else (sth, last)
            if old.tree_size == new.tree_size:
                if old.root_hash != new.root_hash:
                    raise InconsistentBoardError(
                        "board.same_size_roots", "two roots for one tree size", last, sth
                    )
            else:
                proof = await self.consistency_proof(election, old.tree_size, new.tree_size)
                try:
                    verify_consistency(
                        old.tree_size, new.tree_size, proof, old.root_hash, new.root_hash
                    )
                except VerificationError as exc:
                    raise InconsistentBoardError(exc.check, exc.detail, last, sth) from exc
            if sth.tree_size >= last.tree_size:
                self.heads[election] = sth
            return sth

    async def tree_head(self, election: str) -> SignedTreeHead:
        doc = await self._request("GET", f"/v1/elections/{election}/tree-head")
        return await self.accept_head(SignedTreeHead.from_json(doc), election)

    async def tree_heads(self, election: str, start_size: int = 0) -> AsyncIterator[SignedTreeHead]:
        """Every stored tree head from `start_size` on (signatures checked, not consistency)."""
        key = await self.board_key()
        nxt: int | None = start_size
        while nxt is not None:
            doc = await self._request(
                "GET", f"/v1/elections/{election}/tree-heads", params={"start_size": nxt}
            )
            for h in doc["tree_heads"]:
                sth = SignedTreeHead.from_json(h)
                verify_tree_head(sth, key)
                yield sth
            nxt = doc["next"]

    # -- proofs ----------------------------------------------------------------------------

    async def consistency_proof(self, election: str, first: int, second: int) -> list[bytes]:
        doc = await self._request(
            "GET",
            f"/v1/elections/{election}/proofs/consistency",
            params={"first": first, "second": second},
        )
        return _hexes(doc["proof"], "consistency proof")

    async def inclusion_proof(self, election: str, index: int, tree_size: int) -> list[bytes]:
        doc = await self._request(
            "GET",
            f"/v1/elections/{election}/proofs/inclusion",
            params={"index": index, "tree_size": tree_size},
        )
        return _hexes(doc["path"], "inclusion proof")

    async def check_included(self, election: str, entry: bytes, index: int) -> SignedTreeHead:
        """Verify that `entry` is at `index` in the board's current (checked) tree head."""
        sth = await self.tree_head(election)
        proof = await self.inclusion_proof(election, index, sth.tree_size)
        verify_inclusion(hash_leaf(entry), index, sth.tree_size, proof, sth.root_hash)
        return sth

    # -- writes ----------------------------------------------------------------------------

    async def post(self, entry: Envelope | bytes, election: str | None = None) -> Receipt:
        """Post an entry (or raw bytes to `election`); return its verified receipt."""
        if isinstance(entry, Envelope):
            data, election = entry.to_bytes(), entry.election
        else:
            data = entry
        if election is None:
            raise ValueError("posting raw bytes needs the election id")
        doc = await self._request("POST", f"/v1/elections/{election}/entries", body=data)
        receipt = Receipt.from_json(doc)
        verify_receipt(receipt, await self.board_key(), data)
        await self.accept_head(receipt.tree_head, election)
        return receipt

    async def cosign(self, key: Ed25519PrivateKey, sth: SignedTreeHead) -> SignedTreeHead:
        cos = cosign_tree_head(key, sth)
        doc = await self._request(
            "POST",
            f"/v1/elections/{sth.election}/tree-heads/{sth.tree_size}/cosignatures",
            body=canonical_json(cos.to_json()),
        )
        return SignedTreeHead.from_json(doc)

    # -- reads -----------------------------------------------------------------------------

    async def election(self, election: str) -> dict[str, Any]:
        """The board's summary of one election (tree size, the policy's phase and counts)."""
        doc = await self._request("GET", f"/v1/elections/{election}")
        return dict(doc)

    async def elections(self) -> list[str]:
        """Every election id on the board, page by page."""
        names: list[str] = []
        after = ""
        while True:
            doc = await self._request(
                "GET", "/v1/elections", params={"after": after} if after else None
            )
            names.extend(e["election"] for e in doc["elections"])
            after = doc.get("next") or ""
            if not after or not doc["elections"]:
                return names

    async def entries(self, election: str, start: int = 0, limit: int | None = None) -> list[bytes]:
        """One page of entries as their canonical bytes (unverified; see `all_entries`)."""
        doc = await self._request(
            "GET", f"/v1/elections/{election}/entries", params={"start": start, "limit": limit}
        )
        return [canonical_json(e) for e in doc["entries"]]

    async def entries_range(self, election: str, start: int, end: int) -> list[bytes]:
        out: list[bytes] = []
        while start + len(out) < end:
            page = await self.entries(election, start + len(out))
            if not page:
                raise VerificationError("entries.missing", f"board has no entry {start + len(out)}")
            out.extend(page)
        return out[: end - start]

    async def all_entries(self, election: str) -> tuple[list[bytes], SignedTreeHead]:
        """Every entry up to the current head; raises unless they rebuild its root."""
        sth = await self.tree_head(election)
        entries = await self.entries_range(election, 0, sth.tree_size)
        if MerkleLog(hash_leaf(e) for e in entries).root() != sth.root_hash:
            raise VerificationError("entries.root", "entries do not rebuild the tree head")
        return entries, sth

    async def export(self, election: str, directory: str | Path) -> SignedTreeHead:
        """Download, verify and write the election record (layout: docs/board.md §9)."""
        from bulletin_board.export import verify_export, write_export

        entries, sth = await self.all_entries(election)
        heads = [h async for h in self.tree_heads(election)]
        heads = [h for h in heads if h.tree_size <= sth.tree_size]
        if not heads or heads[-1].tree_size != sth.tree_size:
            raise VerificationError("export.final_head", "the board lists no head of its size")
        # tree-head.json is the last line of tree-heads.jsonl, co-signatures and all
        write_export(directory, election, await self.board_key_hex(), entries, heads, heads[-1])
        verify_export(directory, await self.board_key_hex())  # every head, every co-signature
        return sth
