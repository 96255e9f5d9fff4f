"""Ballot intake: the voter-facing endpoint of the board service (docs/board.md §12).

`POST /v1/elections/{election}/ballots` with a JSON object

    {"ballot": {v, row, proof, ballot_key, signature},
     "jpki": {"certificate": hex DER, "signature": hex},
     "voting_code": "XXXX-XXXX-XXXX-XXXX"}

1. Every check that needs no state runs in a checking process (`processes`; with 1, on a
   thread), outside the append lock, on the request's raw bytes: its form; the ballot's
   membership tests, proof of knowledge bound to the election and the ballot key, and the
   ballot key's signature; the registrar's R0–R7 (the voting period, the card's certificate,
   revocation and signature over the ballot hash, the roll, age and residence:
   `jpki.registrar.check_card`). The process then signs the attestation and the ballot entry
   with the registrar key and returns the entry built. Each process decodes an election
   (manifest, joint key) once. Before any of it, the election must be one the registrar's
   settings name by fingerprint (`election-not-authorised`).
2. The registrar checks the voting code and reserves a one-time code (`Registrar.reserve`,
   R8, the one registrar check with state). A registrar refusal is a 4xx
   `{"error": "registrar_refused", "reason": code, "detail": plain words}`; nothing is
   written anywhere.
3. The board's checks of this very entry run once (phase, voting period, copied
   ciphertexts), so a ballot the board would refuse leaves no evidence.
4. The registrar keeps the JPKI evidence and binds the code (`commit_many`, on a thread, one
   disk flush for every ballot accepted while the previous flush ran) — before the board takes
   the ballot, so that no crash leaves a ballot without evidence or frees its code.
5. The board appends the entry it was handed (`Board.post_envelope`: no second decoding, no
   second signature check); under the append lock only the stateful checks run (phase,
   voting period, copied ciphertexts).

The answer is the board's signed receipt plus whether this ballot replaced an earlier one of
the same voter.
"""

from __future__ import annotations

import asyncio
import datetime as dt
import json
import logging
import secrets
import time
from collections.abc import Callable, Iterable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from aiohttp import web
from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey

from bulletin_board.board import Board
from bulletin_board.entry import Envelope, decode_envelope, sign_envelope
from bulletin_board.log import public_key_hex
from bulletin_board.policy import Refusal
from bulletin_board.server import read_capped_body, require_json
from bulletin_board.workers import WorkerPool
from election.entries import Ballot
from election.manifest import Manifest
from election.policy import ElectionRecordState, check_ballot_only
from election.prechecks import ElectionJobs
from election.rules import later_ballot_counts
from jpki.certs import TrustAnchors
from jpki.evidence import EvidenceStore, EvidenceStoreError, Reconciliation, reconcile
from jpki.reasons import Reason, explain
from jpki.registrar import (
    BallotAuthentication,
    CardRefused,
    EligibilityRules,
    MemoryCodeLedger,
    Refused,
    Registrar,
    RegistrarConfig,
    VotingCodeConfig,
    VotingCodeMode,
    check_card,
    sign_attestation,
)
from jpki.voting_codes import hash_voting_code
from mixnet.encoding import canonical_json, parse_canonical_json, parse_json_strict
from mixnet.errors import DecodeError
from mixnet.groups import Element, Group, group_from_description

__all__ = [
    "BallotIntake",
    "CheckSettings",
    "ElectionChecks",
    "RegistrarSettings",
    "read_voter_roll",
    "registrar_config",
    "registrar_status",
    "validate_request",
    "voter_roll_json",
]

log = logging.getLogger(__name__)

MAX_REQUEST_BYTES = 256 * 1024
_MUNICIPALITY_SUFFIXES = ("市", "区", "町", "村")

# reason -> HTTP status of the registrar's refusals
_REASON_STATUS = {
    Reason.MALFORMED_REQUEST: 400,
    Reason.VOTING_CODE_USED: 409,
    Reason.REVOCATION_UNKNOWN: 503,
    Reason.VOTER_ROLL_UNAVAILABLE: 503,
}


def registrar_status(reason: Reason) -> int:
    return _REASON_STATUS.get(reason, 403)


def eligibility_rules(
    manifest: Manifest, voter_roll: frozenset[bytes] | None = None
) -> EligibilityRules:
    """The manifest's eligibility (age, areas, voting period) as the registrar applies it."""
    areas = manifest.eligibility.areas
    return EligibilityRules(
        election_day=manifest.election_day,
        minimum_age=manifest.eligibility.min_age,
        municipalities=tuple(a for a in areas if a.endswith(_MUNICIPALITY_SUFFIXES)),
        address_prefixes=tuple(a for a in areas if not a.endswith(_MUNICIPALITY_SUFFIXES)),
        voter_roll=voter_roll if manifest.eligibility.voter_roll else None,
        voting_start=manifest.voting_start,
        voting_end=manifest.voting_end,
    )


def registrar_config(
    manifest: Manifest,
    *,
    attestation_key: Ed25519PrivateKey,
    pseudonym_key: bytes,
    trust: TrustAnchors,
    voting_codes: VotingCodeConfig,
    voter_roll: frozenset[bytes] | None = None,
) -> RegistrarConfig:
    """The registrar's configuration for one election: its rules come from the manifest (age,
    areas, voting period), its voter roll from the registrar's settings. A manifest that asks
    for a roll the registrar does not hold is refused (ValueError), never served without it."""
    if public_key_hex(attestation_key.public_key()) != manifest.registrar_key:
        raise ValueError("this registrar's key is not the manifest's registrar key")
    if manifest.eligibility.voter_roll and voter_roll is None:
        raise ValueError("the election asks for a voter roll and the registrar holds none")
    rules = eligibility_rules(manifest, voter_roll)
    return RegistrarConfig(
        election_fingerprint=manifest.fingerprint(),
        trust=trust,
        eligibility=rules,
        voting_codes=voting_codes,
        pseudonym_key=pseudonym_key,
        attestation_key=attestation_key,
    )


@dataclass(frozen=True)
class RegistrarSettings:
    """What the registrar needs besides the manifest: keys, trust anchors, codes, evidence."""

    attestation_key: Ed25519PrivateKey = field(repr=False)
    pseudonym_key: bytes = field(repr=False)
    trust: TrustAnchors
    evidence_dir: Path
    evidence_passphrase: str = field(repr=False)
    code_hashes: dict[str, frozenset[str]] = field(default_factory=dict)  # election -> hashes
    evidence_scrypt_n: int = 2**15
    # the fingerprints of the elections this registrar attests for; no other
    elections: frozenset[bytes] = frozenset()
    voter_rolls: dict[str, frozenset[bytes]] = field(default_factory=dict, repr=False)

    def authorises(self, fingerprint: bytes) -> bool:
        """Does this registrar attest for the election of this fingerprint (listed)?"""
        return fingerprint in self.elections

    def registrar_for(self, manifest: Manifest) -> Registrar:
        """The registrar of one election; refuses (ValueError) a manifest whose fingerprint its
        settings do not list, that names another registrar key, or that asks for a voter roll
        it does not hold.

        Its one-time codes' bindings are rebuilt from its evidence file, so a restarted board
        service still refuses a code that another voter has used; a torn last record (a crash
        while it was written) is set aside with a warning (`EvidenceStore`).
        """
        if not self.authorises(manifest.fingerprint()):
            raise ValueError("the registrar's settings do not name this election")
        mode = manifest.eligibility.voting_codes
        hashes = self.code_hashes.get(manifest.election_id, frozenset())
        codes = VotingCodeConfig(
            {
                "none": VotingCodeMode.NONE,
                "per_election": VotingCodeMode.SHARED,
                "per_voter": VotingCodeMode.ONE_TIME,
            }[mode],
            hashes if mode != "none" else frozenset(),
        )
        config = registrar_config(
            manifest,
            attestation_key=self.attestation_key,
            pseudonym_key=self.pseudonym_key,
            trust=self.trust,
            voting_codes=codes,
            voter_roll=self.voter_rolls.get(manifest.election_id),
        )
        self.evidence_dir.mkdir(parents=True, exist_ok=True)
        store = EvidenceStore(
            self.evidence_dir / f"{manifest.election_id}.evidence",
            self.evidence_passphrase,
            scrypt_n=self.evidence_scrypt_n,
        )
        return Registrar(config, store, ledger=MemoryCodeLedger.from_evidence(store.read_all()))

    def for_checks(self) -> CheckSettings:
        """What a checking process needs of these settings (picklable)."""
        raw = self.attestation_key.private_bytes(
            serialization.Encoding.Raw,
            serialization.PrivateFormat.Raw,
            serialization.NoEncryption(),
        )
        return CheckSettings(raw, self.pseudonym_key, self.trust, self.elections, self.voter_rolls)


# ---------------------------------------------------------------------- the checking processes


@dataclass(frozen=True)
class CheckSettings:
    """The registrar's keys and trust anchors as a checking process receives them, once, when
    it starts (pickled through its pipe; never written anywhere)."""

    attestation_key: bytes = field(repr=False)  # Ed25519, raw
    pseudonym_key: bytes = field(repr=False)
    trust: TrustAnchors
    elections: frozenset[bytes] = frozenset()
    voter_rolls: dict[str, frozenset[bytes]] = field(default_factory=dict, repr=False)


@dataclass(frozen=True)
class ElectionChecks:
    """One election as a checking process holds it: decoded once, used for every ballot."""

    group: Group
    manifest: Manifest
    fingerprint: bytes
    pk: Element
    config: RegistrarConfig  # for R0–R7 and the signatures; its voting codes are not used

    @classmethod
    def build(cls, settings: CheckSettings, manifest: Manifest, pk: Element) -> ElectionChecks:
        if manifest.fingerprint() not in settings.elections:
            raise ValueError("the registrar's settings do not name this election")
        config = registrar_config(
            manifest,
            attestation_key=Ed25519PrivateKey.from_private_bytes(settings.attestation_key),
            pseudonym_key=settings.pseudonym_key,
            trust=settings.trust,
            voting_codes=VotingCodeConfig(VotingCodeMode.NONE),
            voter_roll=settings.voter_rolls.get(manifest.election_id),
        )
        return cls(pk.group, manifest, manifest.fingerprint(), pk, config)


def validate_request(
    checks: ElectionChecks, body: bytes, now: dt.datetime
) -> tuple[Ballot, BallotAuthentication, bytes]:
    """Every check of one ballot request that needs no state: its form; the ballot's (group
    membership, proof of knowledge bound to the election and the ballot key, the ballot key's
    signature); the card's (R0–R7: voting period, certificate chain, validity and revocation,
    the card's signature over the ballot hash, roll, age, residence). Returns (ballot, the
    card's request, pseudonym); raises `Refusal` or `CardRefused`."""
    ballot_json, certificate, signature, code = _parse_request(body)
    ballot = check_ballot_only(
        checks.group, checks.manifest, checks.fingerprint, checks.pk, ballot_json
    )
    auth = BallotAuthentication(
        checks.fingerprint, ballot.hash(checks.fingerprint), certificate, signature, code
    )
    return ballot, auth, check_card(checks.config, auth, now)


# in each checking process: intake token -> settings; election key -> decoded election
_SETTINGS: dict[bytes, CheckSettings] = {}
_ELECTIONS: dict[bytes, ElectionChecks] = {}


def _start_checks(token: bytes, settings: CheckSettings) -> None:
    """Initialise a checking process (or, with one process, the board's own)."""
    _SETTINGS[token] = settings


def _election_checks(token: bytes, manifest_bytes: bytes, pk_hex: str) -> ElectionChecks:
    manifest = Manifest.from_json(parse_canonical_json(manifest_bytes))
    pk = group_from_description(manifest.group).element_from_hex(pk_hex)
    return ElectionChecks.build(_SETTINGS[token], manifest, pk)


def _check_job(
    election_key: bytes,
    payload: tuple[bytes, str] | None,
    token: bytes,
    election: str,
    body: bytes,
    now: dt.datetime,
) -> tuple[Any, ...]:
    """Runs in a checking process: `validate_request`, then the attestation and the entry,
    signed with the registrar key. Returns ("ok", envelope, its bytes, the card's request,
    pseudonym, attestation, the voting code's hash for R8), ("refused", code, detail),
    ("card", reason), or ("missing",) when this process has not seen the election yet and
    `payload` was not sent."""
    checks = _ELECTIONS.get(election_key)
    if checks is None:
        if payload is None:
            return ("missing",)
        if len(_ELECTIONS) >= 16:
            _ELECTIONS.clear()
        checks = _ELECTIONS[election_key] = _election_checks(token, *payload)
    try:
        ballot, auth, pseudonym = validate_request(checks, body, now)
    except Refusal as r:
        return ("refused", r.code, r.detail)
    except CardRefused as r:
        return ("card", r.reason)
    key = checks.config.attestation_key
    attestation = sign_attestation(key, checks.fingerprint, pseudonym, auth.ballot_hash)
    envelope = sign_envelope(
        key,
        election,
        "ballot",
        "registrar",
        {"v": 1, "ballot": ballot.to_json(), "attestation": attestation.to_json()},
    )
    try:
        code_hash = hash_voting_code(auth.voting_code) if auth.voting_code else None
    except ValueError:
        code_hash = None  # not a voting code: the registrar says so
    return ("ok", envelope, envelope.to_bytes(), auth, pseudonym, attestation, code_hash)


def _parse_request(data: bytes) -> tuple[Any, bytes, bytes, str]:
    """(ballot JSON, certificate, card signature, voting code) of a request; raises Refusal."""
    try:
        req = parse_json_strict(data)  # bounded: integer literals, nesting depth
    except DecodeError as exc:
        raise Refusal("malformed", f"not JSON: {exc}") from exc
    if not isinstance(req, dict) or set(req) != {"ballot", "jpki", "voting_code"}:
        raise Refusal("bad_body", "a ballot request is {ballot, jpki, voting_code}")
    jpki = req["jpki"]
    if not isinstance(jpki, dict) or set(jpki) != {"certificate", "signature"}:
        raise Refusal("bad_body", "jpki is {certificate, signature}")
    if not isinstance(req["voting_code"], str) or len(req["voting_code"]) > 64:
        raise Refusal("bad_body", "voting_code: a string")
    certificate = _hex(jpki["certificate"], "jpki.certificate", 8192)
    signature = _hex(jpki["signature"], "jpki.signature", 1024)
    return req["ballot"], certificate, signature, req["voting_code"]


def _hex(value: Any, what: str, max_bytes: int) -> bytes:
    if not isinstance(value, str) or not value or len(value) > 2 * max_bytes:
        raise Refusal("bad_body", f"{what}: hex, at most {max_bytes} bytes")
    try:
        return bytes.fromhex(value)
    except ValueError as exc:
        raise Refusal("bad_body", f"{what}: not hex") from exc


class _GroupCommit:
    """Runs `flush(items)` on a thread for every item submitted while the previous flush ran:
    one disk flush serves them all. `submit` returns once its item's flush has. Once a flush
    held several items, the next waits `delay` seconds for more to join (as the board's
    group commit does, `Limits.commit_delay_ms`)."""

    def __init__(self, flush: Callable[[list[Any]], None], delay: float = 0.0) -> None:
        self._flush = flush
        self._delay = delay
        self._last = 1  # items in the last flush
        self._waiting: list[tuple[Any, asyncio.Future[None]]] = []
        self._writer: asyncio.Task[None] | None = None

    async def submit(self, item: Any) -> None:
        done = asyncio.get_running_loop().create_future()
        self._waiting.append((item, done))
        if self._writer is None or self._writer.done():
            self._writer = asyncio.create_task(self._write())
        await asyncio.shield(done)  # a cancelled request leaves the group alone

    async def _write(self) -> None:
        while self._waiting:
            if self._last > 1 and self._delay > 0:
                await asyncio.sleep(self._delay)
            group, self._waiting = self._waiting, []
            self._last = len(group)
            try:
                await asyncio.to_thread(self._flush, [item for item, _ in group])
            except Exception as exc:  # each request of the group fails with it
                for _, done in group:
                    done.set_exception(exc)
            else:
                for _, done in group:
                    done.set_result(None)


class CodeCheckLimit:
    """At most `per_minute` voting-code checks per address in any 60 seconds (and
    `addresses` addresses remembered): a voter mistyping a few times is answered, a guesser
    learns nothing at that rate (codes have 80 bits)."""

    def __init__(self, per_minute: int = 10, addresses: int = 10_000) -> None:
        self.per_minute, self.addresses = per_minute, addresses
        self._seen: dict[str, list[float]] = {}

    def allow(self, address: str, now: float) -> bool:
        recent = [t for t in self._seen.pop(address, []) if now - t < 60.0]
        allowed = len(recent) < self.per_minute
        if allowed:
            recent.append(now)
        while len(self._seen) >= self.addresses:
            self._seen.pop(next(iter(self._seen)))
        self._seen[address] = recent
        return allowed


class BallotIntake:
    """The ballot endpoint over a `Board` whose policy is `ElectionPolicy`."""

    def __init__(
        self,
        board: Board,
        settings: RegistrarSettings,
        *,
        processes: int = 1,
        clock: Callable[[], dt.datetime] = lambda: dt.datetime.now(dt.UTC),
    ) -> None:
        self.board = board
        self.settings = settings
        self.clock = clock
        self._token = secrets.token_bytes(16)  # this intake's settings in the checking code
        self._key_hex = public_key_hex(settings.attestation_key.public_key())
        checks = settings.for_checks()
        self._pool: WorkerPool | None = None
        if processes > 1:
            self._pool = WorkerPool(
                processes, initializer=_start_checks, initargs=(self._token, checks)
            )
        else:
            _start_checks(self._token, checks)
        self._registrars: dict[str, Registrar] = {}
        self._evidence: dict[str, _GroupCommit] = {}
        self._reconciling: set[asyncio.Task[Reconciliation | None]] = set()
        self._jobs = ElectionJobs(self._run, prefix=self._token)
        self.code_checks = CodeCheckLimit()

    @property
    def pool(self) -> WorkerPool | None:
        """The checking processes (None with one process), which the board may share."""
        return self._pool

    def install(self, app: web.Application) -> None:
        from bulletin_board.server import BALLOTS_KEY

        app[BALLOTS_KEY] = True
        app.add_routes(
            [
                web.post("/v1/elections/{election}/ballots", self.handle),
                web.post("/v1/elections/{election}/voting-code", self.check_code),
            ]
        )
        app.on_cleanup.append(lambda _app: self.close())

    async def close(self) -> None:
        """Stop the checking processes and forget the registrar's keys in this process."""
        for task in list(self._reconciling):
            task.cancel()
        if self._pool is not None:
            self._pool.close()
            self._pool = None
        _SETTINGS.pop(self._token, None)

    def registrar(self, election: str, manifest: Manifest) -> tuple[Registrar, bool]:
        """The election's registrar, and whether it was opened just now."""
        registrar = self._registrars.get(election)
        if registrar is not None:
            return registrar, False
        try:
            registrar = self.settings.registrar_for(manifest)
        except EvidenceStoreError as exc:
            log.error("election %s: the evidence store cannot be opened: %s", election, exc)
            raise Refusal(
                "registrar_unavailable",
                "the registrar's evidence store cannot be opened; nothing was recorded",
            ) from None
        self._registrars[election] = registrar
        self._evidence[election] = _GroupCommit(
            registrar.commit_many, self.board.limits.commit_delay_ms / 1000
        )
        return registrar, True

    async def _reconcile_logged(self, election: str) -> Reconciliation | None:
        try:
            return await self.reconcile(election)
        except (EvidenceStoreError, OSError, Refusal) as exc:
            log.error("election %s: reconciliation failed: %s", election, exc)
            return None

    async def reconcile(self, election: str) -> Reconciliation:
        """Set the board's ballot entries of `election` against the registrar's evidence.

        Run when the registrar of an election is opened (after a restart, or a crash): a ballot
        on the board that no evidence record explains is logged as an error (the evidence is
        written before the board takes a ballot, so there should be none); records whose ballot
        is not on the board (written, then the service stopped or the board refused the
        ballot) keep their one-time code bound to their voter, and are counted."""
        registrar = self._registrars[election]
        ballots: list[tuple[int, bytes, bytes]] = []
        start = 0
        while True:
            batch = await self.board.entries(election, start, 5000)
            ballots += await asyncio.to_thread(_ballot_keys, start, batch)
            if len(batch) < 5000:
                break
            start += len(batch)
        store = registrar.evidence
        assert isinstance(store, EvidenceStore)
        result = reconcile(ballots, await asyncio.to_thread(store.read_all))
        if result.without_evidence:
            log.error(
                "election %s: %d ballots on the board have no evidence (entries %s…)",
                election,
                len(result.without_evidence),
                ", ".join(map(str, result.without_evidence[:10])),
            )
        else:
            log.info(
                "election %s: %d ballots, each with its evidence; %d records unpublished",
                election,
                result.ballots,
                result.unpublished,
            )
        return result

    def _state(self, election: str) -> ElectionRecordState:
        state = self.board.policy_state(election)
        if not isinstance(state, ElectionRecordState) or state.manifest is None:
            raise Refusal("unknown_election", f"no election {election!r} on this board")
        return state

    async def handle(self, request: web.Request) -> web.Response:
        require_json(request)
        data = await read_capped_body(request, MAX_REQUEST_BYTES)
        result = await self.submit(request.match_info["election"], data)
        return web.Response(body=canonical_json(result), content_type="application/json")

    async def check_code(self, request: web.Request) -> web.Response:
        """Is this voting code one of the election's? Asked before the voter chooses, so that a
        mistyped code is said at once; `CodeCheckLimit` keeps it from being a guessing oracle.
        Whether a code was used is never said (the cast says it, to the card's holder)."""
        require_json(request)
        if not self.code_checks.allow(request.remote or "", time.monotonic()):
            raise Refusal("busy", "too many voting-code checks from this address; wait a minute")
        data = await read_capped_body(request, 1024)
        try:
            code = json.loads(data)["voting_code"]
        except (ValueError, KeyError, TypeError):
            code = None
        if not isinstance(code, str):
            raise Refusal("malformed", 'give {"voting_code": "…"}')
        manifest = self._state(request.match_info["election"]).manifest
        assert manifest is not None
        try:
            code_hash = hash_voting_code(code)
        except ValueError:
            code_hash = ""  # not even a code's shape
        known = (
            manifest.eligibility.voting_codes == "none"
            or code_hash in self.settings.code_hashes.get(manifest.election_id, ())
        )
        return web.json_response({"known": known})

    async def _check(
        self, election: str, state: ElectionRecordState, body: bytes, now: dt.datetime
    ) -> tuple[Any, ...]:
        assert state.manifest is not None and state.pk is not None
        return await self._jobs.run(
            _check_job, election, state.manifest, state.pk, self._token, election, body, now
        )

    async def _run(self, function: Callable[..., tuple[Any, ...]], *args: Any) -> tuple[Any, ...]:
        if self._pool is not None:
            return await self._pool.run(function, *args)  # type: ignore[no-any-return]
        return await asyncio.to_thread(function, *args)

    async def submit(self, election: str, body: bytes) -> dict[str, Any]:
        """Take one ballot request (its raw JSON bytes); return the answer or raise Refusal."""
        state = self._state(election)
        if state.phase != "voting" or state.pk is None:
            raise Refusal("wrong_phase", f"the election is not open for voting ({state.phase})")
        manifest = state.manifest
        assert manifest is not None
        if manifest.registrar_key != self._key_hex:
            raise Refusal(
                "not_this_registrar", "the election names another registrar key than this board's"
            )
        if not self.settings.authorises(state.fingerprint):
            raise RegistrarRefusal(Reason.ELECTION_NOT_AUTHORISED)
        if manifest.eligibility.voter_roll and manifest.election_id not in (
            self.settings.voter_rolls
        ):
            raise RegistrarRefusal(Reason.VOTER_ROLL_UNAVAILABLE)
        now = self.clock()
        outcome = await self._check(election, state, body, now)
        if outcome[0] == "refused":
            raise Refusal(outcome[1], outcome[2])
        if outcome[0] == "card":
            raise RegistrarRefusal(outcome[1])
        envelope: Envelope = outcome[1]
        data: bytes = outcome[2]
        registrar, opened = self.registrar(election, manifest)
        if opened:  # in the background: it only reports, and may read a long record
            task = asyncio.create_task(self._reconcile_logged(election))
            self._reconciling.add(task)
            task.add_done_callback(self._reconciling.discard)
        pending = registrar.reserve(
            outcome[3], outcome[4], outcome[5], now=now, code_hash=outcome[6]
        )
        if isinstance(pending, Refused):
            raise RegistrarRefusal(pending.reason)
        # the voter's earlier ballot is replaced only where the later one counts (re-vote rule)
        revote = pending.pseudonym in state.last_ballot and later_ballot_counts(manifest.revote)
        state.prechecked[id(envelope)] = envelope
        try:
            try:
                # the board's own checks of the ballot now (phase, voting period, copied
                # ciphertexts; for this very object nothing else), so that a ballot it would
                # refuse leaves no evidence; they run again under its append lock
                self.board.policy.check(state, envelope)
                # the evidence is durable (and the code bound) before the board takes the
                # ballot: a crash after this leaves at worst a record of a ballot that was
                # never acknowledged, and its code still bound to its voter
                await self._evidence[election].submit(pending)
            except asyncio.CancelledError:
                raise  # a flush under way goes on (shielded) and binds the code
            except BaseException:
                registrar.abort(pending)
                raise
            receipt = await self.board.post_envelope(election, envelope, data)
        finally:
            if state.is_prechecked(envelope):
                del state.prechecked[id(envelope)]
        return {"receipt": receipt.to_json(), "replaced_earlier_ballot": int(revote)}


def _ballot_keys(start: int, batch: list[bytes]) -> list[tuple[int, bytes, bytes]]:
    """(index, pseudonym, ballot hash) of the ballot entries among `batch`."""
    out = []
    for offset, data in enumerate(batch):
        if b'"type":"ballot"' in data:
            envelope = decode_envelope(data)
            if envelope.type == "ballot":
                att = envelope.body["attestation"]
                out.append(
                    (
                        start + offset,
                        bytes.fromhex(att["pseudonym"]),
                        bytes.fromhex(att["ballot_hash"]),
                    )
                )
    return out


class RegistrarRefusal(Refusal):
    """The registrar refused the voter; `extra` carries the JPKI reason code."""

    def __init__(self, reason: Reason) -> None:
        super().__init__("registrar_refused", explain(reason))
        self.reason = reason
        self.extra = {"reason": reason.value}

    @property
    def status(self) -> int:
        return registrar_status(self.reason)


def derive_pseudonym_key(key: Ed25519PrivateKey) -> bytes:
    """The registrar's secret pseudonym key, derived from its (encrypted) signing key.

    HKDF-SHA-256 with its own label keeps the two uses apart, and no second secret has to be
    stored: the pseudonym key exists only in memory.
    """
    from cryptography.hazmat.primitives import hashes, serialization
    from cryptography.hazmat.primitives.kdf.hkdf import HKDF

    raw = key.private_bytes(
        serialization.Encoding.Raw, serialization.PrivateFormat.Raw, serialization.NoEncryption()
    )
    return HKDF(hashes.SHA256(), 32, salt=None, info=b"tohyo/pseudonym-key/v1").derive(raw)


def load_registrar_settings(path: Path) -> RegistrarSettings:
    """Read the registrar's settings file (TOML; docs/board.md §8.2). Raises ValueError.

    key = "registrar.pem"                  # Ed25519, encrypted (TOHYO_KEY_PASSPHRASE)
    anchors = ["sign_ca_2023.pem"]         # J-LIS (or test) signing CA certificates
    crls = ["sign_ca.crl"]                 # current CRLs (DER or PEM)
    evidence_dir = "evidence"
    evidence_passphrase_env = "TOHYO_EVIDENCE_PASSPHRASE"
    elections = ["<fingerprint hex>"]      # the only elections it attests for
    [voting_codes]
    "tsukuba-2026-mayor" = "hashes.json"   # from `tohyo admin voting-codes`
    [voter_rolls]
    "tsukuba-2026-mayor" = "roll.json"     # from `tohyo admin voter-roll`
    """
    import os
    import tomllib

    from cryptography import x509

    from bulletin_board.keyfile import load_or_create_key

    base = path.parent
    try:
        with path.open("rb") as f:
            conf = tomllib.load(f)
    except (OSError, tomllib.TOMLDecodeError) as exc:
        raise ValueError(f"{path}: {exc}") from exc
    try:
        key = load_or_create_key(base / conf["key"], create=False)
        pseudonym_key = derive_pseudonym_key(key)
        crls = []
        for name in conf.get("crls", []):
            data = (base / name).read_bytes()
            crls.append(
                x509.load_pem_x509_crl(data)
                if data.startswith(b"-----")
                else x509.load_der_x509_crl(data)
            )
        trust = TrustAnchors.from_files([base / a for a in conf["anchors"]], crls=tuple(crls))
        env = conf.get("evidence_passphrase_env", "TOHYO_EVIDENCE_PASSPHRASE")
        passphrase = os.environ.get(env, "")
        if not passphrase:
            raise ValueError(f"set {env} to the evidence store's passphrase")
        codes = {
            election: frozenset(json.loads((base / file).read_text())["hashes"])
            for election, file in conf.get("voting_codes", {}).items()
        }
        elections = frozenset(_fingerprint(text) for text in conf["elections"])
        rolls = {
            election: read_voter_roll(base / file)
            for election, file in conf.get("voter_rolls", {}).items()
        }
    except KeyError as exc:
        raise ValueError(f"{path}: missing setting {exc}") from exc
    except OSError as exc:
        raise ValueError(f"{path}: {exc}") from exc
    return RegistrarSettings(
        attestation_key=key,
        pseudonym_key=pseudonym_key,
        trust=trust,
        evidence_dir=base / conf.get("evidence_dir", "evidence"),
        evidence_passphrase=passphrase,
        code_hashes=codes,
        elections=elections,
        voter_rolls=rolls,
    )


def _fingerprint(text: object) -> bytes:
    if not isinstance(text, str) or len(text) != 64 or text != text.lower():
        raise ValueError(f"elections: {text!r} is not a fingerprint (64 lowercase hex digits)")
    return bytes.fromhex(text)


ROLL_FORMAT = "tohyo-voter-roll/1"


def voter_roll_json(entries: Iterable[bytes]) -> dict[str, Any]:
    """A voter roll file's content: the sorted keyed hashes (`jpki.registrar.roll_entry`)."""
    return {"entries": sorted(e.hex() for e in set(entries)), "format": ROLL_FORMAT}


def read_voter_roll(path: Path) -> frozenset[bytes]:
    """Read a voter roll file (`voter_roll_json`); raises ValueError."""
    try:
        doc = json.loads(path.read_text())
        if doc.get("format") != ROLL_FORMAT or not isinstance(doc.get("entries"), list):
            raise ValueError("not a voter roll")
        entries = frozenset(
            bytes.fromhex(e) for e in doc["entries"] if isinstance(e, str) and len(e) == 64
        )
        if len(entries) != len(doc["entries"]):
            raise ValueError("every entry is 64 hex digits, once")
    except (OSError, ValueError, AttributeError) as exc:
        raise ValueError(f"{path}: {exc}") from exc
    return entries
