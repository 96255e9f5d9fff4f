"""The trustee and mix-server daemon: follow the board, do this party's duties.

Specification: docs/trustees.md §11.

`BoardFollower` keeps a verified copy of one election's record: every entry it accepts is
covered by a signed tree head of the board's key, consistent with every head seen before
(`BoardClient` checks both), and signed by the author the manifest names; it replays the entries
through the election policy's state (`election.policy`), so it sees the phases, the DKG record,
the mix input, the shuffles and the shares exactly as the board does.

`follow` polls the board from its last position with a bounded exponential backoff and hands
every batch of new entries to a duty, which returns the entries to post:

- `TrusteeDuty`: the key ceremony (feed every posted DKG message and every round close of the
  administrator — `dkg_round`, and the `joint_key` entry that closes the ceremony — to a
  `DkgTrustee` and post what it returns; only the administrator's entries move it to the next
  round; the polynomial is saved in the keystore *before* the commitments are posted, and the
  share x_j as soon as it is known), then its decryption share for the last shuffle's outputs,
  after verifying every proof of shuffle (the shuffle generators derived ahead, as below);
- `MixDuty`: while ballots arrive (and while earlier mix servers work), derive the shuffle
  generators into its state directory's cache in the background (`trustees.generator_cache`),
  following the number of voters on the board; at its turn, take the cached prefix and derive
  only the rest, verify every earlier proof of shuffle, then shuffle, prove and post.

Every entry a duty posts is confirmed on the board (`_post`): the board's receipt must hold an
inclusion proof of exactly this entry under a signed tree head, and a `409 duplicate_entry` is
believed only once the entry is found at the index the board names, with an inclusion proof
under a newly verified head. Any other answer is the board's fault: `DutyRefused` names it. A
DKG message refused because the administrator has closed its round is dropped (the ceremony
itself handles what is missing).

A restarted daemon rebuilds everything from its keystore and a replay of the board. Progress
goes to the `tohyo.trustee` logger (stderr in the CLI); no secret is ever logged.
"""

from __future__ import annotations

import asyncio
import contextlib
import dataclasses
import fcntl
import logging
import os
import re
import time
from collections.abc import Iterator, Sequence
from concurrent.futures import Executor
from dataclasses import dataclass, field
from typing import Any, Protocol

import aiohttp
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PublicKey

from bulletin_board.client import BoardClient, BoardRefusedError
from bulletin_board.entry import Envelope, decode_envelope, sign_envelope, verify_envelope
from bulletin_board.log import MerkleLog, hash_leaf
from election.entries import decode_contest_lists
from election.manifest import Manifest
from election.policy import ElectionPolicy, ElectionRecordState, ceremony_config
from mixnet import elgamal
from mixnet.errors import DecodeError, TohyoError, VerificationError
from mixnet.generators import (
    candidate_count,
    clear_cache,
    derive_candidates,
    derive_generators,
    generator_seed,
)
from mixnet.groups import Group
from mixnet.rng import RandomSource, system_random
from mixnet.shuffle.proof import GENERATOR_PURPOSE
from trustees.decryption import make_share, share_entry_body
from trustees.dkg import DkgTrustee, Event, Phase, RoundClose, ceremony_event
from trustees.errors import LocalProtocolError, PeerProtocolError
from trustees.generator_cache import GeneratorCache, Precompute, cache_key
from trustees.keystore import KdfParams, save_keystore
from trustees.messages import DkgMessage, decode_message
from trustees.mixer import ShuffleRejected, list_rows, mix, verify_chain
from trustees.offline import key_share_from_secrets
from trustees.private import TrusteeSecrets

__all__ = [
    "UNBOUND_ELECTION",
    "BoardFollower",
    "BoardUnreachable",
    "DutyRefused",
    "FollowSettings",
    "KeystoreBusy",
    "KeystoreFile",
    "MixDuty",
    "ShuffleGenerators",
    "TrusteeDuty",
    "bind_secrets",
    "expected_rows",
    "follow",
    "is_bound",
    "keystore_lock",
]

log = logging.getLogger("tohyo.trustee")

#: The election fingerprint of a keystore made by `tohyo trustee keygen`, before any manifest.
UNBOUND_ELECTION = bytes(32)
UNBOUND_GROUP = "unbound"


class DutyRefused(TohyoError):
    """The record does not allow this duty (bad proof, foreign keystore, …); `check` names it."""

    def __init__(self, check: str, detail: str) -> None:
        self.check, self.detail = check, detail
        super().__init__(f"{check}: {detail}")


class BoardUnreachable(TohyoError):
    """The board did not answer for longer than the daemon was told to wait."""


# ---------------------------------------------------------------- keystore and identity


@dataclass
class KeystoreFile:
    """The keystore path, the passphrase to re-seal it, and the secrets. Never printed."""

    path: str
    passphrase: str | bytes = field(repr=False)
    secrets: TrusteeSecrets = field(repr=False)
    kdf: KdfParams | None = None

    def __repr__(self) -> str:
        return f"KeystoreFile({self.path!r}, <hidden>)"

    __str__ = __repr__

    def save(self, secrets: TrusteeSecrets) -> None:
        """Write `secrets` (atomically, fsynced) and keep them."""
        save_keystore(self.path, secrets, self.passphrase, kdf=self.kdf, overwrite=True)
        self.secrets = secrets


@contextlib.contextmanager
def keystore_lock(path: str) -> Iterator[None]:
    """Hold `<keystore>.lock` exclusively: two processes on one keystore could each draw a
    polynomial and overwrite the other's. Raises `KeystoreBusy` if another process holds it."""
    fd = os.open(f"{path}.lock", os.O_WRONLY | os.O_CREAT, 0o600)
    try:
        try:
            fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
        except BlockingIOError as exc:
            raise KeystoreBusy(f"another process is using the keystore {path}") from exc
        yield
    finally:
        os.close(fd)


class KeystoreBusy(TohyoError):
    """Another process holds this keystore's lock."""


def is_bound(secrets: TrusteeSecrets) -> bool:
    return secrets.election != UNBOUND_ELECTION


def find_identity(manifest: Manifest, secrets: TrusteeSecrets, role: str) -> tuple[int, str]:
    """(index or position, author id) of these keys in the manifest, for `role`."""
    pub = secrets.keys.public(1)
    signing, exchange = pub.ed25519_public.hex(), pub.x25519_public.hex()
    if role == "trustee":
        for t in manifest.trustees:
            if t.signing_key == signing:
                if t.exchange_key != exchange:
                    raise DutyRefused("manifest.keys", f"{t.id}'s exchange key is not this one")
                return t.index, t.id
    else:
        for m in manifest.mix_servers:
            if m.signing_key == signing:
                return m.position, m.id
    raise DutyRefused("manifest.keys", f"this keystore's key is not a {role} of the manifest")


def bind_secrets(
    secrets: TrusteeSecrets, index: int, fingerprint: bytes, group: str
) -> TrusteeSecrets:
    """Bind an unbound keystore's keys to an election; refuse a keystore of another one."""
    if is_bound(secrets):
        if secrets.election != fingerprint:
            raise DutyRefused("keystore.election", "this keystore belongs to another election")
        if secrets.trustee != index:
            raise DutyRefused(
                "keystore.index",
                f"the keystore is number {secrets.trustee}, the manifest says {index}",
            )
        return secrets
    return dataclasses.replace(secrets, trustee=index, election=fingerprint, group=group)


# ---------------------------------------------------------------- following the board


class BoardFollower:
    """A verified local copy of one election's record and the policy's view of it."""

    def __init__(self, client: BoardClient, election: str, *, allow_test_groups: bool = False):
        self.client = client
        self.election = election
        self.allow_test_groups = allow_test_groups
        self.policy = ElectionPolicy(allow_test_groups=allow_test_groups)
        self.state: ElectionRecordState = self.policy.initial_state(election)
        self.envelopes: list[Envelope] = []
        #: the mix input's lists, (contest id, rows) per contest, decoded (every element
        #: checked for membership)
        self.mix_input: list[tuple[str, list[elgamal.Row]]] | None = None
        #: the shuffle entries' bodies, in board order (decoded and verified by `verify_chain`)
        self.shuffle_bodies: list[dict[str, Any]] = []
        self._log = MerkleLog()

    @property
    def size(self) -> int:
        return len(self.envelopes)

    @property
    def shuffles(self) -> int:
        return len(self.shuffle_bodies)

    @property
    def manifest(self) -> Manifest:
        if self.state.manifest is None:
            raise LocalProtocolError("no manifest yet")
        return self.state.manifest

    async def poll(self) -> list[tuple[int, Envelope]]:
        """Fetch, verify and apply the entries after the last one seen."""
        head = await self.client.tree_head(self.election)  # signature and consistency checked
        start = self.size
        if head.tree_size <= start:
            return []
        raw = await self.client.entries_range(self.election, start, head.tree_size)
        for data in raw:
            self._log.append(hash_leaf(data))
        if self._log.root() != head.root_hash:
            self._log.truncate(start)
            raise DutyRefused("entries.root", "the entries do not rebuild the board's signed head")
        new = []
        for index, data in enumerate(raw, start=start):
            try:
                env = decode_envelope(data)
                self._accept(env, index)
            except (DecodeError, VerificationError, PeerProtocolError) as exc:
                raise DutyRefused("entry", f"entry {index}: {exc}") from exc
            new.append((index, env))
            if index == 0 and await self.client.board_key_hex() != self.manifest.board_key:
                raise DutyRefused("manifest.board_key", "the manifest names another board key")
        return new

    def _accept(self, env: Envelope, index: int) -> None:
        if env.election != self.election:
            raise VerificationError("entry.election", "entry of another election")
        if index == 0:
            if env.type != "manifest" or set(env.body) != {"manifest"}:
                raise VerificationError("entry.manifest", "the first entry is the manifest")
            manifest = Manifest.from_json(env.body["manifest"])
            if manifest.election_id != self.election:
                raise VerificationError("entry.manifest", "the manifest names another election")
            if not self.allow_test_groups:
                manifest.check_production()
            verify_envelope(
                env, Ed25519PublicKey.from_public_bytes(bytes.fromhex(manifest.admin_key))
            )
        else:
            author = self.state.authors.get(env.author)
            if author is None:
                raise VerificationError("entry.author", f"{env.author} is not in the manifest")
            verify_envelope(env, author.key)
        self.policy.on_accept(self.state, env, index)
        self.envelopes.append(env)
        if env.type == "shuffle":
            self.shuffle_bodies.append(dict(env.body))
        elif env.type == "mix_input":
            group = self.state.group
            assert group is not None
            self.mix_input = decode_contest_lists(
                group, env.body["contests"], [c.width for c in self.manifest.contests]
            )


@dataclass(frozen=True)
class FollowSettings:
    """Timing of the daemon (seconds)."""

    poll_min: float = 0.2
    poll_max: float = 5.0
    round_timeout: float = 120.0
    give_up_after: float = 300.0


class Duty(Protocol):
    finished: bool

    def step(
        self, follower: BoardFollower, new: Sequence[tuple[int, Envelope]], idle: bool
    ) -> list[Envelope]: ...


_NETWORK_ERRORS = (aiohttp.ClientError, asyncio.TimeoutError, OSError)


def _describe(env: Envelope) -> str:
    kind = env.body.get("kind") if env.type == "dkg" else None
    return str(kind) if kind else env.type


_DUPLICATE_AT = re.compile(r"already at index (\d+)")


async def _confirm_duplicate(client: BoardClient, env: Envelope, detail: str) -> int:
    """The board says `env` is already posted: find it at the index it names, with an
    inclusion proof under a newly verified signed head; anything else is the board's fault."""
    found = _DUPLICATE_AT.search(detail)
    what = f"the board at {client.base_url} says {_describe(env)} is already posted"
    if found is None:
        raise DutyRefused(
            "board.duplicate_entry", f"{what} but names no index: the board is at fault"
        )
    index = int(found.group(1))
    try:
        await client.check_included(env.election, env.to_bytes(), index)
    except (VerificationError, BoardRefusedError, DecodeError) as exc:
        raise DutyRefused(
            "board.duplicate_entry",
            f"{what} at index {index}, but that entry is "
            f"not this one ({exc}): the board is at fault",
        ) from exc
    return index


async def _post(client: BoardClient, env: Envelope, settings: FollowSettings) -> None:
    """Post `env` and confirm it is stored (see the module docstring)."""
    delay = settings.poll_min
    since = time.monotonic()
    while True:
        try:
            receipt = await client.post(env)
        except BoardRefusedError as exc:
            if exc.code == "duplicate_entry":
                index = await _confirm_duplicate(client, env, exc.detail)
                log.info(
                    "already on the board: %s (entry %d, inclusion checked)", _describe(env), index
                )
                return
            if exc.code == "wrong_phase" and env.type == "dkg":
                log.warning(
                    "the board refused %s: %s — the administrator closed its round "
                    "before the board took it (the board or the network delayed it); "
                    "the ceremony asks for it again",
                    _describe(env),
                    exc.detail,
                )
                return
            if exc.status >= 500 or exc.code == "busy":
                pass  # retried below
            else:
                raise DutyRefused(
                    f"board.{exc.code}", f"the board refused {_describe(env)}: {exc.detail}"
                ) from exc
        except VerificationError as exc:
            raise DutyRefused(
                "board.receipt",
                f"the board at {client.base_url} answered the post "
                f"of {_describe(env)} with a receipt that does not prove it is "
                f"stored ({exc}): the board is at fault",
            ) from exc
        except _NETWORK_ERRORS as exc:
            if time.monotonic() - since > settings.give_up_after:
                raise BoardUnreachable(
                    f"{client.base_url} is unreachable ({type(exc).__name__})"
                ) from exc
            log.warning("posting failed (%s); retrying in %.1f s", type(exc).__name__, delay)
        else:
            log.info("posted %s (entry %d)", _describe(env), receipt.index)
            return
        await asyncio.sleep(delay)
        delay = min(2 * delay, settings.poll_max)


async def follow(
    client: BoardClient,
    election: str,
    duty: Duty,
    settings: FollowSettings = FollowSettings(),
    *,
    allow_test_groups: bool = False,
) -> BoardFollower:
    """Follow the board until `duty.finished`; raises `DutyRefused` or `BoardUnreachable`."""
    follower = BoardFollower(client, election, allow_test_groups=allow_test_groups)
    delay = settings.poll_min
    last_new = time.monotonic()
    unreachable_since: float | None = None
    waiting_logged = False
    phase: str | None = None
    while not duty.finished:
        try:
            new = await follower.poll()
            unreachable_since = None
        except BoardRefusedError as exc:
            if exc.code != "unknown_election":
                raise DutyRefused(f"board.{exc.code}", exc.detail) from exc
            if not waiting_logged:
                log.info("election %s is not on the board yet; waiting", election)
                waiting_logged = True
            await asyncio.sleep(delay)
            delay = min(2 * delay, settings.poll_max)
            continue
        except VerificationError as exc:
            raise DutyRefused(
                exc.check, f"the board's tree heads do not verify: {exc.detail}"
            ) from exc
        except _NETWORK_ERRORS as exc:
            now = time.monotonic()
            unreachable_since = unreachable_since or now
            if now - unreachable_since > settings.give_up_after:
                raise BoardUnreachable(
                    f"{client.base_url} is unreachable ({type(exc).__name__}); gave up after "
                    f"{settings.give_up_after:g} s"
                ) from exc
            log.warning("board unreachable (%s); retrying in %.1f s", type(exc).__name__, delay)
            await asyncio.sleep(delay)
            delay = min(2 * delay, settings.poll_max)
            continue
        now = time.monotonic()
        if new:
            last_new = now
            if follower.state.phase != phase:
                phase = follower.state.phase
                log.info(
                    "board: election %s is in phase %s (%d entries)", election, phase, follower.size
                )
        idle = now - last_new >= settings.round_timeout
        out = await asyncio.to_thread(duty.step, follower, new, idle)
        if idle:
            last_new = time.monotonic()  # the deadline was applied: a new round starts
        for env in out:
            await _post(client, env, settings)
        if new or out:
            delay = settings.poll_min
            continue
        await asyncio.sleep(delay)
        delay = min(2 * delay, settings.poll_max)
    return follower


# ---------------------------------------------------------------- duties


class _BaseDuty:
    role = ""

    def __init__(
        self,
        keystore: KeystoreFile,
        *,
        rng: RandomSource = system_random,
        executor: Executor | None = None,
    ) -> None:
        self.keystore = keystore
        self.rng = rng
        self.executor = executor
        self.finished = False
        self.index = 0
        self.author = ""
        self._said: set[str] = set()

    def _once(self, key: str, message: str, *args: Any) -> None:
        if key not in self._said:
            self._said.add(key)
            log.info(message, *args)

    def _bind(self, follower: BoardFollower) -> None:
        if self.index:
            return
        manifest = follower.manifest
        index, author = find_identity(manifest, self.keystore.secrets, self.role)
        secrets = self.keystore.secrets
        bound = bind_secrets(
            secrets, index, follower.state.fingerprint, manifest.group_object().name
        )
        if bound is not secrets:
            self.keystore.save(bound)
            log.info("keystore bound to election %s as %s", follower.election, author)
        self.index, self.author = index, author
        log.info("acting as %s (%s %d) in election %s", author, self.role, index, follower.election)

    def _sign(self, follower: BoardFollower, type_: str, body: dict[str, Any]) -> Envelope:
        key = self.keystore.secrets.keys.ed25519_key()
        return sign_envelope(key, follower.election, type_, self.author, body)


class TrusteeDuty(_BaseDuty):
    """Key ceremony, then the decryption share. See the module docstring."""

    role = "trustee"

    def __init__(
        self,
        keystore: KeystoreFile,
        *,
        rng: RandomSource = system_random,
        executor: Executor | None = None,
        generators: ShuffleGenerators | None = None,
    ) -> None:
        super().__init__(keystore, rng=rng, executor=executor)
        self.machine: DkgTrustee | None = None
        self.ceremony_over = False
        self.generators = generators or ShuffleGenerators()
        self.generators.key = cache_key(keystore.secrets.keys)

    def close(self) -> None:
        self.generators.close()

    def step(
        self, follower: BoardFollower, new: Sequence[tuple[int, Envelope]], idle: bool
    ) -> list[Envelope]:
        state = follower.state
        if state.phase is None:
            return []
        self._bind(follower)
        messages = self._ceremony(follower, new, idle)
        out = [self._sign(follower, "dkg", m.to_json_value()) for m in messages]
        self.generators.follow(follower)
        return out + self._decrypt(follower)

    # -- key ceremony --
    def _ceremony(
        self, follower: BoardFollower, new: Sequence[tuple[int, Envelope]], idle: bool
    ) -> list[DkgMessage]:
        state = follower.state
        assert state.dkg is not None
        secrets = self.keystore.secrets
        if self.ceremony_over:
            return []
        if secrets.share is not None:
            self.ceremony_over = True
            log.info("key ceremony: the keystore holds this trustee's key share")
            return []
        if state.phase == "setup":
            self._once("setup", "waiting for the key ceremony to open")
            return []
        in_ceremony = state.phase == "key_ceremony" and not state.dkg.closed
        group = state.group
        assert group is not None
        out: list[DkgMessage] = []
        if self.machine is None:
            config = ceremony_config(follower.manifest)
            machine = DkgTrustee(
                config, self.index, secrets.keys, self.rng, secrets.polynomial_object()
            )
            if secrets.polynomial is not None:
                log.info("key ceremony: resuming with the polynomial saved in the keystore")
            for event in state.dkg.events:
                self._feed(machine, event)
            if self.index not in state.dkg.commitments and state.dkg.round > 1:
                self.ceremony_over = True
                log.error(
                    "key ceremony: round 1 was closed before this trustee dealt; no key share"
                )
                return []
            try:
                out += machine.start()
            except LocalProtocolError as exc:
                raise DutyRefused("DKG dealing", str(exc)) from exc
            self.machine = machine
            assert machine.polynomial is not None
            if secrets.polynomial is None:
                # saved before anything it produced is posted: a restart deals the same f_j
                coefficients = tuple(a.value for a in machine.polynomial.coefficients)
                self.keystore.save(dataclasses.replace(secrets, polynomial=coefficients))
                log.info("key ceremony: polynomial saved in the keystore; dealing")
        else:
            for _, env in new:
                step = _ceremony_event(env, group)
                if step is not None:
                    if isinstance(step, RoundClose):
                        log.info(
                            "key ceremony: the administrator closed round %d",
                            self.machine.record.round,
                        )
                    out += self._feed(self.machine, step)
        machine = self.machine
        if machine.phase is Phase.DONE:
            self._finish(machine)
        posted = set(state.dkg.slots)
        return [m for m in out if m.slot not in posted] if in_ceremony else []

    def _feed(self, machine: DkgTrustee, event: Event) -> list[DkgMessage]:
        if machine.phase is Phase.DONE:
            return []
        try:
            return machine.feed(event)
        except PeerProtocolError as exc:
            log.warning("key ceremony: a posted message is refused (%s)", exc)
            return []

    def _finish(self, machine: DkgTrustee) -> None:
        self.ceremony_over = True
        outcome = machine.outcome
        for i, reason in sorted(outcome.disqualified.items()):
            log.warning("key ceremony: trustee %d disqualified: %s", i, reason)
        if machine.key_share is None:
            log.error(
                "key ceremony: done, but this trustee holds no usable share: %s",
                machine.share_problem,
            )
            return
        secrets = self.keystore.secrets
        self.keystore.save(
            dataclasses.replace(secrets, polynomial=None, share=machine.key_share.secret.value)
        )
        log.info(
            "key ceremony: done; joint key %s…, qualified %s; key share saved",
            outcome.pk.to_hex()[:16],
            list(outcome.qualified),
        )

    # -- decryption --
    def _decrypt(self, follower: BoardFollower) -> list[Envelope]:
        state = follower.state
        if state.phase == "tallied":
            self.finished = True
            self.close()
            log.info("the election is tallied")
            return []
        if state.phase != "decrypting":
            return []
        if self.index in state.shares:
            self.finished = True
            self.close()
            log.info("decryption: this trustee's share is on the board; duties done")
            return []
        if "share-made" in self._said:
            return []
        secrets = self.keystore.secrets
        if secrets.share is None:
            raise DutyRefused("decryption", "this trustee holds no key share")
        assert state.dkg is not None and follower.mix_input is not None and state.pk is not None
        outcome = state.dkg.outcome()
        if outcome.pk != state.pk:
            raise DutyRefused("joint_key", "the posted joint key is not the ceremony's outcome")
        self.generators.ready(follower, self.executor)
        log.info("decryption: verifying %d proofs of shuffle", len(follower.shuffle_bodies))
        try:
            rows = self.generators.verify_chain(follower, self.executor)
        except ShuffleRejected as exc:
            raise DutyRefused(exc.check, f"refusing to decrypt: {exc}") from exc
        try:
            key_share = key_share_from_secrets(secrets, outcome)
        except LocalProtocolError as exc:
            raise DutyRefused("decryption", str(exc)) from exc
        log.info(
            "decryption: making the shares for %d contest lists of %d rows",
            len(rows),
            list_rows(rows),
        )
        shares = [
            (
                contest,
                make_share(
                    key_share,
                    part,
                    election=state.fingerprint,
                    rng=self.rng,
                    executor=self.executor,
                ),
            )
            for contest, part in rows
        ]
        self._said.add("share-made")
        return [self._sign(follower, "decryption_share", share_entry_body(key_share.index, shares))]


def _ceremony_event(env: Envelope, group: Group) -> Event | None:
    """The key ceremony's event an entry stands for (`trustees.dkg.ceremony_event`)."""
    event = ceremony_event(env.type, env.body)
    return decode_message(event, group) if isinstance(event, dict) else event


def expected_rows(voters: int) -> int:
    """How many generators to derive ahead while `voters` voters have a ballot on the board:
    the mix input has one row per voter; the margin keeps ahead of the ballots to come."""
    return voters + max(64, voters // 10)


class ShuffleGenerators:
    """The shuffle generators h, h_1..h_N of the followed election, for a duty that shuffles
    or checks shuffles (docs/trustees.md §11.4).

    With a `state_dir`, `follow` derives them ahead into `<state_dir>/generators/` (on
    `background`, a low-priority worker, else in a thread) from the voting phase on; `ready`
    makes them ready in this process, deriving only what the cache lacks; `verify_chain`
    checks the posted shuffles and, if they fail with cached generators, again with fresh ones.
    Without a state directory the generators are derived at the duty's turn, as before.
    """

    def __init__(
        self,
        state_dir: str | None = None,
        background: Executor | None = None,
    ) -> None:
        self.state_dir = state_dir
        self.background = background
        self.key: bytes | None = None  # the cache's key (`cache_key`), set by the duty
        self.precompute: Precompute | None = None
        self.from_cache = 0
        self._said: set[str] = set()

    def close(self) -> None:
        """Stop the background derivation and let go of the cache."""
        if self.precompute is not None:
            self.precompute.stop()
            self.precompute.cache.release()

    def _cache(self, group: Group, fingerprint: bytes) -> GeneratorCache | None:
        if self.state_dir is None or self.key is None:
            return None
        if self.precompute is None:
            seed = generator_seed(group, fingerprint, GENERATOR_PURPOSE)
            cache = GeneratorCache(self.state_dir, group, seed, self.key)
            try:
                cache.load()
            except OSError as exc:
                log.warning(
                    "generators: cannot use the cache %s (%s); deriving them when they are needed",
                    cache.path,
                    exc,
                )
                self.state_dir = None
                return None
            log.info("generators: %d candidates in the cache %s", cache.count, cache.path)
            self.precompute = Precompute(cache, executor=self.background)
        return self.precompute.cache

    def follow(self, follower: BoardFollower) -> None:
        """From the voting phase on: derive ahead for the voters on the board (+ a margin),
        or for the mix input's N once it is posted."""
        state = follower.state
        if state.phase not in ("voting", "closed", "mixing") or state.group is None:
            return
        if self._cache(state.group, state.fingerprint) is None:
            return
        assert self.precompute is not None
        if follower.mix_input is not None:
            n = list_rows(follower.mix_input)
            if candidate_count(n) > self.precompute.target:
                log.info(
                    "generators: deriving in the background for the %d rows of the mix input", n
                )
        else:
            voters = len(state.last_ballot)
            n = expected_rows(voters)
            if "want" not in self._said:
                self._said.add("want")
                log.info(
                    "generators: deriving in the background while ballots arrive (%d "
                    "voters on the board, %d rows ahead)",
                    voters,
                    n,
                )
        self.precompute.want(n)

    def ready(self, follower: BoardFollower, executor: Executor | None) -> int:
        """Make h, h_1..h_N ready in this process from the cache and fresh derivation; return
        how many candidates came from the cache."""
        state = follower.state
        assert state.group is not None and follower.mix_input is not None
        group, n = state.group, list_rows(follower.mix_input)
        need = candidate_count(n)
        start = time.monotonic()
        cache = self._cache(group, state.fingerprint)
        known: list[Any] = []
        self.from_cache = 0
        if cache is not None:
            assert self.precompute is not None
            self.precompute.stop()
            if not cache.writable:
                try:
                    cache.load()  # another process writes it: read its latest state
                except OSError as exc:
                    log.warning("generators: cannot read the cache %s (%s)", cache.path, exc)
            self.from_cache = min(cache.count, need)
            rest = (
                derive_candidates(group, cache.seed, cache.count, need, executor)
                if cache.count < need
                else []
            )
            if rest and cache.writable:
                try:
                    cache.extend(rest)  # kept for a restart
                    rest = []
                except OSError as exc:
                    log.warning("generators: cannot append to the cache (%s)", exc)
            known = [*cache.candidates[:need], *rest]
        derive_generators(group, state.fingerprint, GENERATOR_PURPOSE, n, executor, known=known)
        log.info(
            "generators h, h_1..h_%d ready in %.1f s (%d of %d candidates from the cache)",
            n,
            time.monotonic() - start,
            self.from_cache,
            need,
        )
        return self.from_cache

    def verify_chain(
        self,
        follower: BoardFollower,
        executor: Executor | None,
    ) -> list[tuple[str, list[elgamal.Row]]]:
        """`trustees.mixer.verify_chain` over the posted shuffles with the generators made
        ready; a failure with cached generators is checked again with fresh ones."""
        state = follower.state
        assert state.pk is not None and follower.mix_input is not None
        try:
            return verify_chain(
                state.pk,
                follower.mix_input,
                follower.shuffle_bodies,
                state.fingerprint,
                executor=executor,
            )
        except ShuffleRejected as exc:
            if not self.from_cache:
                raise
            # a proof that fails with cached generators is checked again with fresh ones
            # before anybody is accused
            log.warning(
                "shuffle %d fails %s with the cached generators; checking again with "
                "generators derived afresh",
                exc.position,
                exc.check,
            )
            clear_cache()
            self.from_cache = 0
            rows = verify_chain(
                state.pk,
                follower.mix_input,
                follower.shuffle_bodies,
                state.fingerprint,
                executor=executor,
            )
            log.error(
                "the generator cache was wrong (the proofs hold with fresh generators); "
                "it is no longer used"
            )
            if self.precompute is not None:
                self.precompute.cache.discard(
                    "it gave generators that differ from a fresh derivation"
                )
            return rows


class MixDuty(_BaseDuty):
    """Derive the generators ahead; at this mix server's turn verify the earlier shuffles,
    shuffle, prove, post. `generators` (a `ShuffleGenerators`) says where they are kept."""

    role = "mix"

    def __init__(
        self,
        keystore: KeystoreFile,
        *,
        rng: RandomSource = system_random,
        executor: Executor | None = None,
        generators: ShuffleGenerators | None = None,
    ) -> None:
        super().__init__(keystore, rng=rng, executor=executor)
        self.generators = generators or ShuffleGenerators()
        self.generators.key = cache_key(keystore.secrets.keys)

    def close(self) -> None:
        self.generators.close()

    def step(
        self, follower: BoardFollower, new: Sequence[tuple[int, Envelope]], idle: bool
    ) -> list[Envelope]:
        state = follower.state
        if state.phase is None:
            return []
        self._bind(follower)
        done = follower.shuffles
        if done >= self.index:
            self.finished = True
            self.close()
            log.info("mixing: this mix server's shuffle is on the board; duty done")
            return []
        if state.phase in ("decrypting", "tallied"):
            self.finished = True
            self.close()
            log.error("mixing: the mixing phase is over without this mix server's shuffle")
            return []
        self.generators.follow(follower)
        if state.phase != "mixing":
            self._once("wait-phase", "waiting for the mixing phase")
            return []
        if done < self.index - 1:
            self._once(f"wait-{done}", "mixing: waiting for mix server %d", done + 1)
            return []
        if "mixed" in self._said:
            return []
        assert state.pk is not None and follower.mix_input is not None
        self.generators.ready(follower, self.executor)
        log.info("mixing: verifying %d earlier proofs of shuffle", done)
        try:
            rows = self.generators.verify_chain(follower, self.executor)
        except ShuffleRejected as exc:
            log.error(
                "mixing: refusing to mix over shuffle %d: %s fails (%s)",
                exc.position,
                exc.check,
                exc.detail,
            )
            raise DutyRefused(exc.check, f"refusing to mix: {exc}") from exc
        log.info(
            "mixing: shuffling and proving %d contest lists of %d rows as mix server %d",
            len(rows),
            list_rows(rows),
            self.index,
        )
        body = mix(
            state.pk, rows, state.fingerprint, self.index, rng=self.rng, executor=self.executor
        )
        self._said.add("mixed")
        return [self._sign(follower, "shuffle", body)]


def default_workers() -> int:
    return max(1, min(4, os.cpu_count() or 1))
