"""Fetching from a board URL: a record into an export directory (docs/record.md §1.2), and an
election from its pinned fingerprint (`pinned_board`, docs/threat-model.md §4).

The only module of `verifier` that talks to the network. It uses `bulletin_board.client`, whose
`export` also writes the directory through `bulletin_board.export`, which imports the board's
storage; the import-linter contract therefore ignores this one import
(`verifier.fetch -> bulletin_board.client`). Nothing fetched is trusted: the directory is then
verified like any other, from its first step.

`pinned_board` is how every voter-facing entry point (`vote cast`, `vote show`, `vote web`,
receipt checks, and `tohyo verify ballot`, the Benaloh audit) reads an election. It starts from
the election fingerprint printed on the voting-code letter or the official notice, never from
the board:

1. entry 0 is the manifest and hashes to the pinned fingerprint [pin.fingerprint], for the
   election asked for [pin.election];
2. the board's key is the manifest's, never the board's word for it: the current tree head
   must be signed by it [tree_head.signature];
3. the entries relied on (the manifest, the key ceremony, the joint key and the phases: every
   entry before the first ballot) are read page by page, with no cap on their number, and
   must be in that signed head: they rebuild its root, or the root of their prefix is proven
   consistent with it, which includes each of them [pin.entries];
4. they are replayed through the board's own policy (`election.policy.ElectionPolicy`, the
   rules the board applies and the verifier re-derives): the manifest signed by its
   administrator key, every DKG message signed by its trustee and valid, the joint key signed
   by the administrator and equal to the outcome of those messages, the phases in order
   [pin.<refusal code>].

A failed check raises `VerificationError` naming it; nothing is encrypted under a key that
did not pass.
"""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING

from bulletin_board.entry import Envelope, decode_envelope
from bulletin_board.log import MerkleLog, SignedTreeHead, hash_leaf, verify_consistency
from bulletin_board.policy import PHASES, Refusal
from election.manifest import Manifest
from election.policy import ElectionPolicy
from mixnet.errors import DecodeError, VerificationError
from mixnet.groups import Element

if TYPE_CHECKING:
    from bulletin_board.client import BoardClient

__all__ = [
    "ElectionInfo",
    "fetch_record",
    "parse_fingerprint",
    "pinned_board",
    "short_fingerprint",
]


def fetch_record(url: str, election: str, directory: Path, board_key: str | None = None) -> None:
    """Download election `election` from the board at `url` into `directory`."""
    from bulletin_board.client import BoardClient

    async def run() -> None:
        async with BoardClient(url, board_key) as client:
            await client.export(election, directory)

    asyncio.run(run())


FINGERPRINT_BYTES = 32


def parse_fingerprint(text: str) -> bytes:
    """The election fingerprint as written on the letter: 64 hex digits, spaces allowed."""
    digits = "".join(text.split()).lower()
    if len(digits) != 2 * FINGERPRINT_BYTES or any(c not in "0123456789abcdef" for c in digits):
        raise ValueError("an election fingerprint is 64 hexadecimal digits")
    return bytes.fromhex(digits)


def short_fingerprint(fingerprint: bytes) -> str:
    """The first 16 hex digits in groups of four: what a voter compares with the letter."""
    text = fingerprint.hex()[:16]
    return " ".join(text[i : i + 4] for i in range(0, 16, 4))


@dataclass(frozen=True)
class ElectionInfo:
    """An election checked from its pinned fingerprint (see the module docstring)."""

    election: str
    manifest: Manifest
    pk: Element | None  # None until the key ceremony has finished
    phase: str
    tree_head: SignedTreeHead | None = None  # the signed head the checked entries are in

    @property
    def short_fingerprint(self) -> str:
        return short_fingerprint(self.manifest.fingerprint())


async def _manifest(client: BoardClient, election: str, fingerprint: bytes) -> Manifest:
    """Entry 0, unverified but for its hash: the manifest whose fingerprint is pinned."""
    first = await client.entries(election, 0, 1)
    if not first:
        raise DecodeError(f"the board has no election {election!r}")
    envelope = decode_envelope(first[0])
    if envelope.type != "manifest" or set(envelope.body) != {"manifest"}:
        raise VerificationError("pin.fingerprint", "the first entry is not a manifest")
    manifest = Manifest.from_json(envelope.body["manifest"])
    if manifest.fingerprint() != fingerprint:
        raise VerificationError(
            "pin.fingerprint",
            f"the board's manifest has fingerprint {short_fingerprint(manifest.fingerprint())}…, "
            f"not the election's {short_fingerprint(fingerprint)}…",
        )
    if manifest.election_id != election:
        raise VerificationError(
            "pin.election",
            f"the pinned manifest is of election {manifest.election_id!r}, not {election!r}",
        )
    return manifest


async def _prefix(client: BoardClient, election: str, sth: SignedTreeHead) -> list[bytes]:
    """The entries before the first ballot (or all of them), page by page up to the head."""
    out: list[bytes] = []
    while len(out) < sth.tree_size:
        page = await client.entries(election, len(out))
        if not page:
            raise VerificationError(
                "pin.entries",
                f"the board has no entry {len(out)}, below its signed head's size {sth.tree_size}",
            )
        for raw in page[: sth.tree_size - len(out)]:
            if decode_envelope(raw).type == "ballot":
                return out
            out.append(raw)
    return out


async def _in_head(
    client: BoardClient, election: str, entries: list[bytes], sth: SignedTreeHead
) -> None:
    """The entries are the first ones of the log whose signed head is `sth` [pin.entries]."""
    root = MerkleLog(hash_leaf(e) for e in entries).root()
    size = len(entries)
    if size == sth.tree_size:
        if root != sth.root_hash:
            raise VerificationError("pin.entries", "the entries do not rebuild the signed head")
        return
    proof = await client.consistency_proof(election, size, sth.tree_size)
    try:
        verify_consistency(size, sth.tree_size, proof, root, sth.root_hash)
    except VerificationError as exc:
        raise VerificationError(
            "pin.entries",
            f"the first {size} entries are not those of the signed head ({exc.check})",
        ) from exc


def _replay(election: str, entries: list[bytes]) -> tuple[Element | None, str]:
    """The board policy over the entries: (joint key, phase), or the refusal as a failed check.

    The group is fixed by the pinned manifest, so a test group is accepted here."""
    policy = ElectionPolicy(allow_test_groups=True)
    state = policy.initial_state(election)
    envelopes: list[Envelope] = [decode_envelope(raw) for raw in entries]
    for index, envelope in enumerate(envelopes):
        try:
            policy.check(state, envelope)
        except Refusal as exc:
            raise VerificationError(
                f"pin.{exc.code}", f"entry {index} ({envelope.type}): {exc.detail}"
            ) from exc
        policy.on_accept(state, envelope, index)
    return state.pk, state.phase or PHASES[0]


@asynccontextmanager
async def pinned_board(
    board_url: str, election: str, fingerprint: bytes, *, timeout: float = 60.0
) -> AsyncIterator[tuple[BoardClient, ElectionInfo]]:
    """A client of the board keyed with the pinned manifest's board key, and the election as
    checked (module docstring). The client remembers the checked head: every later head it is
    shown must be consistent with it."""
    from bulletin_board.client import BoardClient

    async with BoardClient(board_url, timeout=timeout) as first:
        manifest = await _manifest(first, election, fingerprint)
    async with BoardClient(board_url, manifest.board_key, timeout=timeout) as client:
        sth = await client.tree_head(election)
        entries = await _prefix(client, election, sth)
        await _in_head(client, election, entries, sth)
        pk, phase = _replay(election, entries)
        # A later phase claimed by the board (it closed voting) only stops this voter, which a
        # board can always do by refusing; an earlier one is never believed over the record.
        claimed = str((await client.election(election)).get("policy", {}).get("phase", ""))
        if claimed in PHASES and PHASES.index(claimed) > PHASES.index(phase):
            phase = claimed
        yield client, ElectionInfo(election, manifest, pk, phase, sth)
