"""Ballot intake: the voter-facing endpoint of the board service (docs/board.md §8.2).

`POST /v1/elections/{election}/ballots` with a JSON object

    {"ballot": {v, row, proof, ballot_key, signature},
     "jpki": {"certificate": hex DER, "signature": hex},
     "voting_code": "XXXX-XXXX-XXXX-XXXX"}

1. The ballot's stateless checks (membership, proof of knowledge bound to the election and the
   ballot key, the ballot key's signature) run in an executor, outside the append lock, on as
   many cores as the executor has; each worker decodes an election's manifest and key once.
2. The registrar checks the card's signature, certificate and eligibility and reserves the
   voting code (`Registrar.begin`); a refusal is a 4xx `{"error": "registrar_refused",
   "reason": code, "detail": plain words}` and nothing is written anywhere.
3. The board appends the ballot entry, signed by the registrar key, under the append lock,
   where only the stateful checks run (phase, copied ciphertexts).
4. Only then the registrar keeps the JPKI evidence and binds the code (`commit`, on a thread:
   its disk flush does not hold up the event loop); if the board refused, the reservation is
   released (`abort`).

The answer is the board's signed receipt plus whether this ballot replaced an earlier one of
the same voter.
"""

from __future__ import annotations

import asyncio
import datetime as dt
import json
from collections.abc import Callable
from concurrent.futures import Executor
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from aiohttp import web
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey

from bulletin_board.board import Board
from bulletin_board.entry import sign_envelope
from bulletin_board.log import public_key_hex
from bulletin_board.policy import Refusal
from bulletin_board.server import read_capped_body
from election.manifest import Manifest
from election.policy import ElectionRecordState, ballot_key_of, check_ballot_only
from jpki.certs import TrustAnchors
from jpki.evidence import EvidenceStore
from jpki.reasons import Reason, explain
from jpki.registrar import (
    BallotAuthentication,
    EligibilityRules,
    Refused,
    Registrar,
    RegistrarConfig,
    VotingCodeConfig,
    VotingCodeMode,
)
from mixnet.encoding import canonical_json, parse_canonical_json
from mixnet.groups import Element, Group, group_from_description

__all__ = ["BallotIntake", "RegistrarSettings", "registrar_status"]

MAX_REQUEST_BYTES = 256 * 1024
_MUNICIPALITY_SUFFIXES = ("市", "区", "町", "村")

# reason -> HTTP status of the registrar's refusals
_REASON_STATUS = {
    Reason.MALFORMED_REQUEST: 400,
    Reason.VOTING_CODE_USED: 409,
    Reason.REVOCATION_UNKNOWN: 503,
}


def registrar_status(reason: Reason) -> int:
    return _REASON_STATUS.get(reason, 403)


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

    def registrar_for(self, manifest: Manifest) -> Registrar:
        """The registrar of one election; refuses a manifest that names another registrar key."""
        if public_key_hex(self.attestation_key.public_key()) != manifest.registrar_key:
            raise ValueError("this registrar's key is not the manifest's registrar key")
        areas = manifest.eligibility.areas
        rules = EligibilityRules(
            election_day=manifest.election_day,
            minimum_age=manifest.eligibility.min_age,
            municipalities=tuple(a for a in areas if a.endswith(_MUNICIPALITY_SUFFIXES)),
            address_prefixes=tuple(a for a in areas if not a.endswith(_MUNICIPALITY_SUFFIXES)),
        )
        mode = manifest.eligibility.voting_codes
        hashes = self.code_hashes.get(manifest.election_id, frozenset())
        codes = VotingCodeConfig(
            {"none": VotingCodeMode.NONE, "per_election": VotingCodeMode.SHARED,
             "per_voter": VotingCodeMode.ONE_TIME}[mode],
            hashes if mode != "none" else frozenset(),
        )
        config = RegistrarConfig(
            election_fingerprint=manifest.fingerprint(),
            trust=self.trust,
            eligibility=rules,
            voting_codes=codes,
            pseudonym_key=self.pseudonym_key,
            attestation_key=self.attestation_key,
        )
        self.evidence_dir.mkdir(parents=True, exist_ok=True)
        store = EvidenceStore(self.evidence_dir / f"{manifest.election_id}.evidence",
                              self.evidence_passphrase, scrypt_n=self.evidence_scrypt_n)
        return Registrar(config, store)


# (manifest bytes, pk hex) -> (group, manifest, fingerprint, pk): decoded once per worker
_ELECTIONS: dict[tuple[bytes, str], tuple[Group, Manifest, bytes, Element]] = {}


def _election(manifest_bytes: bytes, pk_hex: str) -> tuple[Group, Manifest, bytes, Element]:
    key = (manifest_bytes, pk_hex)
    found = _ELECTIONS.get(key)
    if found is None:
        manifest = Manifest.from_json(parse_canonical_json(manifest_bytes))
        group = group_from_description(manifest.group)
        found = (group, manifest, manifest.fingerprint(), group.element_from_hex(pk_hex))
        if len(_ELECTIONS) >= 16:
            _ELECTIONS.clear()
        _ELECTIONS[key] = found
    return found


def _check_job(manifest_bytes: bytes, pk_hex: str, ballot_json: Any) -> Any:
    """Runs in a worker: the stateless ballot checks. Returns (ballot JSON, hash) or a refusal."""
    group, manifest, fingerprint, pk = _election(manifest_bytes, pk_hex)
    try:
        ballot = check_ballot_only(group, manifest, fingerprint, pk, ballot_json)
    except Refusal as r:
        return ("refused", r.code, r.detail)
    return ("ok", ballot.to_json(), ballot.hash(fingerprint))


def _hex(value: Any, what: str, max_bytes: int) -> bytes:
    if not isinstance(value, str) or not value or len(value) > 2 * max_bytes:
        raise Refusal("bad_body", f"{what}: hex, at most {max_bytes} bytes")
    try:
        return bytes.fromhex(value)
    except ValueError as exc:
        raise Refusal("bad_body", f"{what}: not hex") from exc


class BallotIntake:
    """The ballot endpoint over a `Board` whose policy is `ElectionPolicy`."""

    def __init__(
        self,
        board: Board,
        settings: RegistrarSettings,
        *,
        executor: Executor | None = None,
        clock: Callable[[], dt.datetime] = lambda: dt.datetime.now(dt.UTC),
    ) -> None:
        self.board = board
        self.settings = settings
        self.executor = executor
        self.clock = clock
        self._registrars: dict[str, Registrar] = {}
        # election -> (manifest, pk, what a check job is sent: manifest bytes, pk hex)
        self._jobs: dict[str, tuple[Manifest, Element, bytes, str]] = {}

    def install(self, app: web.Application) -> None:
        from bulletin_board.server import BALLOTS_KEY

        app[BALLOTS_KEY] = True
        app.add_routes([web.post("/v1/elections/{election}/ballots", self.handle)])

    def registrar(self, election: str, manifest: Manifest) -> Registrar:
        registrar = self._registrars.get(election)
        if registrar is None:
            registrar = self._registrars[election] = self.settings.registrar_for(manifest)
        return registrar

    def _job_args(self, election: str, manifest: Manifest, pk: Element) -> tuple[bytes, str]:
        cached = self._jobs.get(election)
        if cached is None or cached[0] is not manifest or cached[1] is not pk:
            cached = (manifest, pk, canonical_json(manifest.to_json()), pk.to_hex())
            self._jobs[election] = cached
        return cached[2], cached[3]

    def _state(self, election: str) -> ElectionRecordState:
        state = self.board.policy_state(election)
        if not isinstance(state, ElectionRecordState) or state.manifest is None:
            raise Refusal("unknown_election", f"no election {election!r} on this board")
        return state

    async def handle(self, request: web.Request) -> web.Response:
        election = request.match_info["election"]
        data = await read_capped_body(request, MAX_REQUEST_BYTES)
        try:
            req = json.loads(data)
        except ValueError as exc:
            raise Refusal("malformed", "not JSON") from exc
        if not isinstance(req, dict) or set(req) != {"ballot", "jpki", "voting_code"}:
            raise Refusal("bad_body", "a ballot request is {ballot, jpki, voting_code}")
        jpki = req["jpki"]
        if not isinstance(jpki, dict) or set(jpki) != {"certificate", "signature"}:
            raise Refusal("bad_body", "jpki is {certificate, signature}")
        if not isinstance(req["voting_code"], str) or len(req["voting_code"]) > 64:
            raise Refusal("bad_body", "voting_code: a string")
        certificate = _hex(jpki["certificate"], "jpki.certificate", 8192)
        signature = _hex(jpki["signature"], "jpki.signature", 1024)
        result = await self.submit(election, req["ballot"], certificate, signature,
                                   req["voting_code"])
        return web.Response(body=canonical_json(result), content_type="application/json")

    async def submit(
        self, election: str, ballot_json: Any, certificate: bytes, signature: bytes, code: str
    ) -> dict[str, Any]:
        state = self._state(election)
        if state.phase != "voting" or state.pk is None:
            raise Refusal("wrong_phase", f"the election is not open for voting ({state.phase})")
        manifest = state.manifest
        assert manifest is not None
        loop = asyncio.get_running_loop()
        outcome = await loop.run_in_executor(
            self.executor, _check_job, *self._job_args(election, manifest, state.pk), ballot_json
        )
        if outcome[0] == "refused":
            raise Refusal(outcome[1], outcome[2])
        ballot_canonical, ballot_hash = outcome[1], outcome[2]
        registrar = self.registrar(election, manifest)
        auth = BallotAuthentication(state.fingerprint, ballot_hash, certificate, signature, code)
        pending = registrar.begin(auth, now=self.clock())
        if isinstance(pending, Refused):
            raise RegistrarRefusal(pending.reason)
        envelope = sign_envelope(
            self.settings.attestation_key, election, "ballot", "registrar",
            {"v": 1, "ballot": ballot_canonical, "attestation": pending.attestation.to_json()},
        )
        revote = pending.pseudonym in state.last_ballot
        key = ballot_key_of(envelope)
        state.prechecked.add(key)
        try:
            receipt = await self.board.post(election, envelope.to_bytes())
        except BaseException:
            state.prechecked.discard(key)
            registrar.abort(pending)
            raise
        await asyncio.to_thread(registrar.commit, pending)  # its fsync off the event loop
        return {"receipt": receipt.to_json(), "replaced_earlier_ballot": int(revote)}


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

    raw = key.private_bytes(serialization.Encoding.Raw, serialization.PrivateFormat.Raw,
                            serialization.NoEncryption())
    return HKDF(hashes.SHA256(), 32, salt=None, info=b"tohyo/pseudonym-key/v1").derive(raw)


def load_registrar_settings(path: Path) -> RegistrarSettings:
    """Read the registrar's settings file (TOML; docs/board.md §8.2). Raises ValueError.

        key = "registrar.pem"                  # Ed25519, encrypted (TOHYO_KEY_PASSPHRASE)
        anchors = ["sign_ca_2023.pem"]         # J-LIS (or test) signing CA certificates
        crls = ["sign_ca.crl"]                 # current CRLs (DER or PEM)
        evidence_dir = "evidence"
        evidence_passphrase_env = "TOHYO_EVIDENCE_PASSPHRASE"
        [voting_codes]
        "tsukuba-2026-mayor" = "hashes.json"   # from `tohyo admin voting-codes`
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
            crls.append(x509.load_pem_x509_crl(data) if data.startswith(b"-----")
                        else x509.load_der_x509_crl(data))
        trust = TrustAnchors.from_files([base / a for a in conf["anchors"]], crls=tuple(crls))
        env = conf.get("evidence_passphrase_env", "TOHYO_EVIDENCE_PASSPHRASE")
        passphrase = os.environ.get(env, "")
        if not passphrase:
            raise ValueError(f"set {env} to the evidence store's passphrase")
        codes = {
            election: frozenset(json.loads((base / file).read_text())["hashes"])
            for election, file in conf.get("voting_codes", {}).items()
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
    )
