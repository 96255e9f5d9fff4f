"""The board service without HTTP: storage + Merkle logs + policy + signing key.

`Board.post(election, data)` runs the whole acceptance path of docs/board.md §6: decode
(canonical only) → the optional `precheck` (stateless checks outside the lock, e.g. in worker
processes) → election lock → size cap of the entry type → duplicate check → policy check →
policy hook → group commit → signed receipt. The group commit is one storage transaction for
every entry accepted while the previous one was being written, with one signed tree head: that
of the group's last entry. Under load one disk flush and one signature serve many entries;
posts that come one at a time each get their own head. A receipt (the head of the entry's
group and the entry's inclusion proof in it) is signed only once its entry is committed; a
failed commit undoes its entries and those accepted after them. Any refusal raises `Refusal`
before anything is written. Reads serve entries, tree heads and proofs from memory and
storage, committed entries only.

Size caps (docs/board.md §8.1): an entry of a type in `Limits.record_types` may be as large as
`max_record_body_bytes`, any other as large as `max_body_bytes`. A policy with a method
`body_cap(state, entry_type) -> int | None` may derive the cap of a type from the election
instead (the election policy does for ballots and the record entries whose size grows with
the number of ballots); `max_record_body_bytes` bounds every cap.
"""

from __future__ import annotations

import asyncio
import time
from collections.abc import Awaitable, Callable, Iterable
from dataclasses import dataclass, field
from typing import Any

from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey

from bulletin_board.entry import ELECTION_RE, Envelope, NonCanonicalError, decode_envelope
from bulletin_board.log import (
    Cosignature,
    MerkleLog,
    SignedTreeHead,
    hash_leaf,
    public_key_hex,
    sign_tree_head,
    verify_cosignature,
)
from bulletin_board.policy import Policy, Refusal, RegistryPolicy
from bulletin_board.receipt import Receipt, sign_receipt
from bulletin_board.storage import Storage
from mixnet.encoding import canonical_json, parse_canonical_json
from mixnet.errors import DecodeError, VerificationError

__all__ = ["RECORD_TYPES", "Board", "Limits", "Precheck", "system_clock_ms"]

Precheck = Callable[[str, Any, Envelope, bytes], Awaitable[Callable[[], None] | None]]


def system_clock_ms() -> int:
    return time.time_ns() // 1_000_000


#: entry types whose size grows with the number of ballots (a mix input lists them all)
RECORD_TYPES = frozenset({"mix_input", "shuffle", "decryption_share", "result"})


@dataclass(frozen=True)
class Limits:
    max_body_bytes: int = 64 * 1024  # any entry whose cap the policy does not derive
    max_record_body_bytes: int = 64 * 1024 * 1024  # record entries; the ceiling of every cap
    record_types: frozenset[str] = RECORD_TYPES
    max_page: int = 500
    max_connections: int = 512
    max_client_connections: int = 64  # open connections from one client address
    header_timeout_s: float = 10.0  # a request's head must arrive within this
    body_timeout_s: float = 60.0  # a request's body must arrive within this
    max_cosignatures: int = 64
    max_elections_listed: int = 1000  # one page of GET /v1/elections
    max_pending_posts: int = 1024  # posts waiting for an election's lock; beyond: 429 busy
    # under load (the last group commit held more than one entry), a commit waits this long
    # for more entries to join it: fewer disk flushes per entry; 0 turns it off
    commit_delay_ms: float = 5.0


@dataclass
class _Batch:
    """Entries accepted in memory from index `first` on, waiting for their one commit."""

    first: int
    rows: list[tuple[bytes, bytes]] = field(default_factory=list)  # entry, leaf hash
    # the group's tree head once committed
    done: asyncio.Future[SignedTreeHead] = field(
        default_factory=lambda: asyncio.get_running_loop().create_future()
    )


@dataclass
class _Election:
    log: MerkleLog
    state: Any
    index_of: dict[bytes, int] = field(default_factory=dict)
    head: SignedTreeHead | None = None
    lock: asyncio.Lock = field(default_factory=asyncio.Lock)
    stale: bool = False
    batch: _Batch | None = None  # accepted, not yet committed
    last_group: int = 1  # entries in the last group commit
    writer: asyncio.Task[None] | None = None


class Board:
    def __init__(
        self,
        storage: Storage,
        key: Ed25519PrivateKey,
        policy: Policy | None = None,
        *,
        limits: Limits | None = None,
        clock: Callable[[], int] = system_clock_ms,
        mirrors: Iterable[str] = (),
    ) -> None:
        self.storage = storage
        self.key = key
        self.public_key_hex = public_key_hex(key.public_key())
        self.policy: Policy = policy if policy is not None else RegistryPolicy()
        self.limits = limits or Limits()
        self.clock = clock
        # the keys (hex) whose co-signatures this board accepts; no other co-signer
        self.mirrors = frozenset(mirrors)
        self._elections: dict[str, _Election] = {}
        self._create_lock = asyncio.Lock()
        # optional: `await precheck(election, state, envelope, data)` runs before the lock
        # (checks that need no state, e.g. in worker processes); it may raise Refusal, and
        # returns None or a function the board calls once the append is over
        self.precheck: Precheck | None = None

    # -- start-up ------------------------------------------------------------------------

    async def load(self) -> None:
        """Rebuild logs and policy states from storage (replaying every entry)."""
        for election in await self.storage.elections():
            self._elections[election] = await self._read_election(election)

    async def _read_election(self, election: str) -> _Election:
        leaves = await self.storage.leaf_hashes(election)
        e = _Election(MerkleLog(leaves), self.policy.initial_state(election))
        step = 2000
        for start in range(0, len(leaves), step):
            rows = await self.storage.entries(election, start, start + step)
            for offset, data in enumerate(rows):
                self.policy.on_accept(e.state, decode_envelope(data), start + offset)
        e.index_of = {h: i for i, h in enumerate(leaves)}
        if not leaves:
            return e  # no committed entry: still unknown to readers
        head = await self.storage.tree_head(election)
        if head is not None:
            sth = SignedTreeHead.from_json(parse_canonical_json(head))
            if sth.tree_size == len(leaves) and sth.root_hash == e.log.root():
                e.head = sth
        if e.head is None:
            # entry and head commit together, so this is a database edited by hand; a head
            # is cheap to re-issue and keeps the invariant "every size has a head" simple
            e.head = await self._issue_head(election, e.log)
        return e

    async def _issue_head(self, election: str, log: MerkleLog) -> SignedTreeHead:
        sth = sign_tree_head(self.key, election, len(log), log.root(), self.clock())
        await self.storage.put_tree_head(
            election, len(log), canonical_json(sth.to_json(with_cosignatures=False))
        )
        return sth

    # -- writes --------------------------------------------------------------------------

    def _known(self, election: str) -> _Election:
        if ELECTION_RE.fullmatch(election) is None:
            raise Refusal("unknown_election", "not a valid election id")
        e = self._elections.get(election)
        if e is None or e.head is None:
            raise Refusal("unknown_election", f"no election {election!r} on this board")
        return e

    async def post(self, election: str, data: bytes) -> Receipt:
        if ELECTION_RE.fullmatch(election) is None:
            raise Refusal("unknown_election", "not a valid election id")
        if len(data) > self.limits.max_record_body_bytes:
            cap = self.limits.max_record_body_bytes
            raise Refusal("too_large", f"entries are at most {cap} bytes")
        try:
            envelope = decode_envelope(data)
        except NonCanonicalError as exc:
            raise Refusal("non_canonical", str(exc)) from exc
        except DecodeError as exc:
            raise Refusal("malformed", str(exc)) from exc
        if envelope.election != election:
            raise Refusal("election_mismatch", f"entry is for {envelope.election!r}")
        e = self._elections.get(election)
        if e is None:
            async with self._create_lock:
                e = self._elections.get(election)
                if e is None:
                    fresh = _Election(MerkleLog(), self.policy.initial_state(election))
                    self._check_size(fresh.state, envelope, len(data))
                    self.policy.check(fresh.state, envelope)  # refuses unless it opens one
                    e = self._elections.setdefault(election, fresh)
        if self.precheck is None:
            return await self._append(election, e, envelope, data)
        self._check_size(e.state, envelope, len(data))  # before any work on a too large one
        done = await self.precheck(election, e.state, envelope, data)
        try:
            return await self._append(election, e, envelope, data)
        finally:
            if done is not None:
                done()

    async def post_envelope(self, election: str, envelope: Envelope, data: bytes) -> Receipt:
        """`post` for an entry this process built itself, `data` being `envelope.to_bytes()`:
        the decoding of step 2 is skipped, every other step is the same. The election must
        exist."""
        if envelope.election != election:
            raise Refusal("election_mismatch", f"entry is for {envelope.election!r}")
        return await self._append(election, self._known(election), envelope, data)

    def body_cap(self, state: Any, entry_type: str) -> int:
        """The largest entry of `entry_type` the election with policy state `state` accepts."""
        limits = self.limits
        derive = getattr(self.policy, "body_cap", None)
        derived = derive(state, entry_type) if derive is not None else None
        if derived is None:
            return (
                limits.max_record_body_bytes
                if entry_type in limits.record_types
                else limits.max_body_bytes
            )
        return min(int(derived), limits.max_record_body_bytes)

    def _check_size(self, state: Any, envelope: Envelope, size: int) -> None:
        cap = self.body_cap(state, envelope.type)
        if size > cap:
            raise Refusal(
                "too_large", f"a {envelope.type} entry is at most {cap} bytes here ({size} sent)"
            )

    async def _append(
        self, election: str, e: _Election, envelope: Envelope, data: bytes
    ) -> Receipt:
        leaf = hash_leaf(data)
        async with e.lock:
            if e.stale:  # a commit failed with an unknown outcome: trust only the database
                fresh = await self._read_election(election)
                e.log, e.state, e.index_of, e.head = (
                    fresh.log,
                    fresh.state,
                    fresh.index_of,
                    (fresh.head),
                )
                e.stale = False
            self._check_size(e.state, envelope, len(data))
            if leaf in e.index_of:
                raise Refusal("duplicate_entry", f"already at index {e.index_of[leaf]}")
            self.policy.check(e.state, envelope)
            index = e.log.append(leaf)
            e.index_of[leaf] = index
            self.policy.on_accept(e.state, envelope, index)
            done = self._queue(election, e, index, data, leaf)
        sth = await asyncio.shield(done)  # a cancelled request leaves the batch alone
        path = e.log.inclusion_proof(index, sth.tree_size)
        return sign_receipt(self.key, election, index, leaf, sth, path)

    def _queue(
        self, election: str, e: _Election, index: int, data: bytes, leaf: bytes
    ) -> asyncio.Future[SignedTreeHead]:
        """Add an accepted entry to the election's next commit; start its writer if idle."""
        if e.batch is None:
            e.batch = _Batch(index)
        e.batch.rows.append((data, leaf))
        if e.writer is None or e.writer.done():
            e.writer = asyncio.create_task(self._write(election, e))
        return e.batch.done

    async def _write(self, election: str, e: _Election) -> None:
        """Group commit: the entries waiting and the signed tree head of the last of them are
        one storage transaction; the entries accepted meanwhile form the next."""
        while e.batch is not None:
            if e.last_group > 1 and self.limits.commit_delay_ms > 0:
                await asyncio.sleep(self.limits.commit_delay_ms / 1000)  # let more join
            batch, e.batch = e.batch, None
            e.last_group = len(batch.rows)
            try:
                # every entry accepted so far is in this batch: the log ends with its last one
                assert len(e.log) == batch.first + len(batch.rows)
                sth = sign_tree_head(self.key, election, len(e.log), e.log.root(), self.clock())
                head = canonical_json(sth.to_json(with_cosignatures=False))
                rows = [(data, leaf, None) for data, leaf in batch.rows[:-1]]
                rows.append((*batch.rows[-1], head))
                if len(rows) == 1:
                    await self.storage.append(election, batch.first, *rows[0])
                else:
                    await self.storage.append_batch(election, batch.first, rows)
            except BaseException as exc:
                self._fail(e, batch, exc)
                if not isinstance(exc, Exception):
                    raise
                return
            e.head = sth
            batch.done.set_result(sth)

    @staticmethod
    def _fail(e: _Election, batch: _Batch, exc: BaseException) -> None:
        """A commit failed (its outcome unknown): undo it and every entry accepted after it,
        and trust only the database from now on."""
        e.log.truncate(batch.first)
        e.stale = True
        for failed in (batch, e.batch):
            if failed is None or failed.done.done():
                continue
            if isinstance(exc, Exception):
                failed.done.set_exception(exc)
            else:
                failed.done.cancel()
        e.batch = None

    async def cosign(self, election: str, tree_size: int, data: bytes) -> SignedTreeHead:
        self._known(election)
        try:
            cos = Cosignature.from_json(parse_canonical_json(data, max_bytes=4096))
        except DecodeError as exc:
            raise Refusal("malformed", str(exc)) from exc
        if cos.signer not in self.mirrors:
            raise Refusal(
                "unauthorised_signer",
                "this board takes co-signatures only from the mirrors it was configured with",
            )
        sth = await self.tree_head(election, tree_size)
        try:
            verify_cosignature(sth, cos)
        except VerificationError as exc:
            raise Refusal("bad_signature", str(exc)) from exc
        if len(sth.cosignatures) >= self.limits.max_cosignatures and cos not in sth.cosignatures:
            raise Refusal("too_large", "this tree head has the maximum number of co-signatures")
        await self.storage.add_cosignature(election, tree_size, cos.signer, cos.signature)
        return await self.tree_head(election, tree_size)

    # -- reads ---------------------------------------------------------------------------

    def elections(self, after: str = "", limit: int | None = None) -> list[str]:
        """The open elections' ids in order, those after `after` only, at most `limit`."""
        names = sorted(k for k, e in self._elections.items() if e.head is not None and k > after)
        return names if limit is None else names[:limit]

    def raw_cap(self, election: str) -> int:
        """The largest entry `election` can take now, of any type it accepts in its phase:
        the cap a post's raw length is held to before anything is decoded."""
        limits = self.limits
        e = self._elections.get(election)
        state = e.state if e is not None else self.policy.initial_state(election)
        accepted = getattr(self.policy, "accepted_types", None)
        if accepted is None:
            return limits.max_record_body_bytes
        return max(
            (self.body_cap(state, t) for t in accepted(state)), default=limits.max_body_bytes
        )

    def size(self, election: str) -> int:
        """The committed size (an append in flight is not visible to readers)."""
        head = self._known(election).head
        assert head is not None
        return head.tree_size

    def policy_state(self, election: str) -> Any:
        """The policy's live state of `election` (read-only for callers; see `election.intake`)."""
        return self._known(election).state

    def describe(self, election: str) -> dict[str, Any]:
        e = self._known(election)
        return {
            "election": election,
            "tree_size": self.size(election),
            "policy": self.policy.describe(e.state),
        }

    async def tree_head(self, election: str, tree_size: int | None = None) -> SignedTreeHead:
        e = self._known(election)
        if tree_size is None:
            assert e.head is not None
            sth = e.head
        else:
            raw = await self.storage.tree_head(election, tree_size)
            if raw is None:
                raise Refusal("not_found", f"no tree head of size {tree_size}")
            sth = SignedTreeHead.from_json(parse_canonical_json(raw))
        cos = await self.storage.cosignatures(election, sth.tree_size)
        return sth.with_cosignatures(Cosignature(s, sig) for s, sig in cos)

    async def tree_heads(self, election: str, start_size: int, limit: int) -> list[SignedTreeHead]:
        """Stored tree heads with tree_size ≥ start_size, with their co-signatures."""
        self._known(election)
        rows = await self.storage.tree_heads(election, start_size, limit)
        heads = [SignedTreeHead.from_json(parse_canonical_json(r)) for r in rows]
        if not heads:
            return []
        cos: dict[int, list[Cosignature]] = {}
        for size, signer, sig in await self.storage.cosignatures_between(
            election, heads[0].tree_size, heads[-1].tree_size
        ):
            cos.setdefault(size, []).append(Cosignature(signer, sig))
        return [h.with_cosignatures(cos.get(h.tree_size, ())) for h in heads]

    async def entries(self, election: str, start: int, limit: int) -> list[bytes]:
        end = min(self.size(election), start + limit)
        if start >= end:
            return []
        return await self.storage.entries(election, start, end)

    def index_of(self, election: str, leaf_hash: bytes) -> int:
        e = self._known(election)
        if leaf_hash not in e.index_of:
            raise Refusal("not_found", "no entry with this hash")
        return e.index_of[leaf_hash]

    def inclusion_proof(self, election: str, index: int, tree_size: int) -> list[bytes]:
        e, size = self._known(election), self.size(election)
        if not 0 <= index < tree_size <= size:
            raise Refusal("not_found", f"need 0 <= index < tree_size <= {size}")
        return e.log.inclusion_proof(index, tree_size)

    def consistency_proof(self, election: str, first: int, second: int) -> list[bytes]:
        e, size = self._known(election), self.size(election)
        if not 0 <= first <= second <= size:
            raise Refusal("not_found", f"need 0 <= first <= second <= {size}")
        return e.log.consistency_proof(first, second)
