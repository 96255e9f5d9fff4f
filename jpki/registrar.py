"""The registrar: checks a voter's JPKI signature and eligibility, attests the ballot.

docs/jpki.md §5. Called by the board service on ballot submission; no HTTP here. Checks, in
order (each refusal is a `Refused` with a `Reason`; nothing changes on a refusal):

  R0 now lies in the voting period (`election.period`, with its clock tolerance)
  R1 request well-formed and for this election
  R2 certificate chains to a trust anchor, valid now, signing key usage and policy, not revoked
  R3 the JPKI signature verifies over encode(["tohyo/jpki-ballot/v1", fingerprint, ballot_hash])
  R4 the four basic facts are readable; pseudonym = HMAC-SHA-256(key; election, name, birth,
     sex, address)
  R5 on the voter roll (if the election has one): HMAC-SHA-256(key; the four facts) listed
  R6 minimum age on election day
  R7 address within the listed municipalities or prefixes
  R8 voting code: the shared code, or a one-time code not used by another voter
then stores the evidence (encrypted) and binds a one-time code before the board takes the
ballot, and signs the attestation
Ed25519 over encode(["tohyo/attestation/v1", fingerprint, pseudonym, ballot_hash]).
"""

from __future__ import annotations

import datetime as dt
import enum
import hashlib
import hmac
import logging
import threading
import unicodedata
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field
from typing import Protocol

from cryptography import x509
from cryptography.exceptions import InvalidSignature
from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey, Ed25519PublicKey

from election.period import VOTING_CLOSED, outside_voting_period
from jpki.certs import (
    BasicFacts,
    CertificateRejected,
    CertPurpose,
    TrustAnchors,
    basic_facts,
    signature_algorithm_for,
    validate,
)
from jpki.reasons import Reason
from jpki.voting_codes import hash_voting_code
from mixnet.encoding import encode
from mixnet.errors import VerificationError

__all__ = [
    "ATTESTATION_LABEL",
    "BALLOT_LABEL",
    "PREFECTURES",
    "Accepted",
    "Attestation",
    "BallotAuthentication",
    "CardRefused",
    "CodeLedger",
    "EligibilityRules",
    "Evidence",
    "EvidenceSink",
    "MemoryCodeLedger",
    "Pending",
    "Refused",
    "Registrar",
    "RegistrarConfig",
    "VotingCodeConfig",
    "VotingCodeMode",
    "age_on",
    "attestation_message",
    "ballot_message",
    "check_card",
    "derive_pseudonym",
    "ineligible",
    "is_resident",
    "roll_entry",
    "sign_attestation",
    "verify_attestation",
]

BALLOT_LABEL = "tohyo/jpki-ballot/v1"
ATTESTATION_LABEL = "tohyo/attestation/v1"
PSEUDONYM_LABEL = "tohyo/pseudonym/v2"
ROLL_LABEL = "tohyo/voter-roll/v1"
PSEUDONYM_BYTES = 32
HASH_BYTES = 32
MAX_CERT_BYTES = 8192
MAX_SIGNATURE_BYTES = 1024

log = logging.getLogger(__name__)

PREFECTURES = (
    "北海道", "青森県", "岩手県", "宮城県", "秋田県", "山形県", "福島県", "茨城県", "栃木県",
    "群馬県", "埼玉県", "千葉県", "東京都", "神奈川県", "新潟県", "富山県", "石川県", "福井県",
    "山梨県", "長野県", "岐阜県", "静岡県", "愛知県", "三重県", "滋賀県", "京都府", "大阪府",
    "兵庫県", "奈良県", "和歌山県", "鳥取県", "島根県", "岡山県", "広島県", "山口県", "徳島県",
    "香川県", "愛媛県", "高知県", "福岡県", "佐賀県", "長崎県", "熊本県", "大分県", "宮崎県",
    "鹿児島県", "沖縄県",
)  # fmt: skip

_MUNICIPALITY_SUFFIXES = ("市", "区", "町", "村")


# --- messages (the exact bytes other packages agree on) ---


def ballot_message(election_fingerprint: bytes, ballot_hash: bytes) -> bytes:
    """The bytes the card signs (PKCS#1 v1.5, SHA-256 DigestInfo)."""
    return encode([BALLOT_LABEL, bytes(election_fingerprint), bytes(ballot_hash)])


def attestation_message(election_fingerprint: bytes, pseudonym: bytes, ballot_hash: bytes) -> bytes:
    """The bytes the registrar signs with Ed25519."""
    return encode(
        [ATTESTATION_LABEL, bytes(election_fingerprint), bytes(pseudonym), bytes(ballot_hash)]
    )


# --- pure eligibility rules ---


def age_on(birth_date: dt.date, day: dt.date) -> int:
    """Completed years on `day` (the birthday itself counts; 29 Feb counts on 1 Mar)."""
    return day.year - birth_date.year - ((day.month, day.day) < (birth_date.month, birth_date.day))


def _normalize_address(text: str) -> str:
    text = unicodedata.normalize("NFKC", text)
    text = text.replace("ヶ", "ケ").replace("ヵ", "カ")
    return "".join(text.split())


def _prefecture_of(text: str) -> str | None:
    return next((p for p in PREFECTURES if text.startswith(p)), None)


def _check_area(entry: str, *, municipality: bool) -> str:
    norm = _normalize_address(entry)
    pref = _prefecture_of(norm)
    if pref is None:
        raise ValueError(f"area {entry!r} must start with the prefecture (e.g. 茨城県)")
    if municipality and (len(norm) == len(pref) or not norm.endswith(_MUNICIPALITY_SUFFIXES)):
        raise ValueError(
            f"municipality {entry!r} must be prefecture + 市/区/町/村 (e.g. 茨城県つくば市)"
        )
    return norm


def is_resident(
    address: str, municipalities: tuple[str, ...], prefixes: tuple[str, ...] = ()
) -> bool:
    """True when `address` begins with a listed prefecture+municipality or prefix.

    Matching is on the start of the normalized address, never on containment: an address
    that merely mentions the municipality elsewhere is not in it.
    """
    norm = _normalize_address(address)
    if _prefecture_of(norm) is None:
        return False
    areas = [_check_area(m, municipality=True) for m in municipalities]
    areas += [_check_area(p, municipality=False) for p in prefixes]
    return any(norm.startswith(area) for area in areas)


def _canonical_name(name: str) -> str:
    return "\u3000".join(unicodedata.normalize("NFC", name).split())


def _facts(facts: BasicFacts) -> list[str]:
    """The four basic facts as they enter a keyed hash: name and address normalised."""
    return [
        _canonical_name(facts.name),
        facts.birth_date.isoformat(),
        facts.sex.value,
        _normalize_address(facts.address),
    ]


def derive_pseudonym(key: bytes, election_fingerprint: bytes, facts: BasicFacts) -> bytes:
    """HMAC-SHA-256 under the registrar's key of (election, name, birth date, sex, address).

    The four basic facts on the card, which together tell apart real residents: two people
    with the same name, birth date and sex live at different addresses (the resident register
    holds one address per person). Not the certificate serial: stable across renewal,
    different per election and per person, and not computable by anyone without the key.
    A move changes the address, hence the pseudonym (docs/jpki.md §5.2).
    """
    message = encode([PSEUDONYM_LABEL, bytes(election_fingerprint), *_facts(facts)])
    return hmac.new(key, message, hashlib.sha256).digest()


def roll_entry(key: bytes, facts: BasicFacts) -> bytes:
    """A voter roll entry: HMAC-SHA-256 under the registrar's key of the four basic facts.

    The same for every election (a roll is made once from the resident register, not per
    election), under its own label so that it is never a pseudonym; without the key nobody
    can test a guess of someone's facts against a roll file."""
    return hmac.new(key, encode([ROLL_LABEL, *_facts(facts)]), hashlib.sha256).digest()


# --- configuration (plain frozen dataclasses) ---


class VotingCodeMode(enum.Enum):
    NONE = "none"
    SHARED = "shared"  # one code for the whole election
    ONE_TIME = "one-time"  # one code per voter, bound to the first voter who uses it


@dataclass(frozen=True)
class VotingCodeConfig:
    mode: VotingCodeMode
    code_hashes: frozenset[str] = frozenset()  # hex hashes from `voting_codes`

    def __post_init__(self) -> None:
        if self.mode is VotingCodeMode.SHARED and len(self.code_hashes) != 1:
            raise ValueError("a shared voting code needs exactly one hash")
        if self.mode is VotingCodeMode.ONE_TIME and not self.code_hashes:
            raise ValueError("one-time voting codes need their hashes")


@dataclass(frozen=True)
class EligibilityRules:
    election_day: dt.date
    minimum_age: int
    municipalities: tuple[str, ...] = ()  # "茨城県つくば市"
    address_prefixes: tuple[str, ...] = ()  # finer areas, "茨城県つくば市研究学園"
    voter_roll: frozenset[bytes] | None = None  # roll entries (see `roll_entry`)
    voting_start: dt.datetime = field(kw_only=True)
    voting_end: dt.datetime = field(kw_only=True)

    def __post_init__(self) -> None:
        if self.voting_start.tzinfo is None or self.voting_end.tzinfo is None:
            raise ValueError("the voting period needs times with an offset")
        if not self.voting_start < self.voting_end:
            raise ValueError("the voting period must start before it ends")
        if self.minimum_age < 0:
            raise ValueError("minimum age must be ≥ 0")
        if not self.municipalities and not self.address_prefixes:
            raise ValueError("list at least one municipality or address prefix")
        for m in self.municipalities:
            _check_area(m, municipality=True)
        for p in self.address_prefixes:
            _check_area(p, municipality=False)


@dataclass(frozen=True)
class RegistrarConfig:
    election_fingerprint: bytes
    trust: TrustAnchors
    eligibility: EligibilityRules
    voting_codes: VotingCodeConfig
    pseudonym_key: bytes = field(repr=False)
    attestation_key: Ed25519PrivateKey = field(repr=False)

    def __post_init__(self) -> None:
        if len(self.election_fingerprint) != HASH_BYTES:
            raise ValueError("election fingerprint must be 32 bytes")
        if len(self.pseudonym_key) < 32:
            raise ValueError("pseudonym key must have at least 32 bytes")

    @property
    def attestation_public_key(self) -> bytes:
        return self.attestation_key.public_key().public_bytes(
            serialization.Encoding.Raw, serialization.PublicFormat.Raw
        )


# --- requests and results ---


@dataclass(frozen=True)
class BallotAuthentication:
    """What the voter client sends with a ballot."""

    election_fingerprint: bytes
    ballot_hash: bytes
    certificate: bytes = field(repr=False)  # DER signing certificate
    signature: bytes = field(repr=False)
    voting_code: str = field(default="", repr=False)


@dataclass(frozen=True)
class Attestation:
    """The registrar's signed statement that `pseudonym` cast the ballot with `ballot_hash`."""

    election_fingerprint: bytes
    pseudonym: bytes
    ballot_hash: bytes
    signature: bytes

    def to_json(self) -> dict[str, str]:
        return {
            "ballot_hash": self.ballot_hash.hex(),
            "election_fingerprint": self.election_fingerprint.hex(),
            "pseudonym": self.pseudonym.hex(),
            "signature": self.signature.hex(),
        }

    @classmethod
    def from_json(cls, data: object) -> Attestation:
        if not isinstance(data, dict) or set(data) != {
            "ballot_hash",
            "election_fingerprint",
            "pseudonym",
            "signature",
        }:
            raise ValueError("not an attestation object")
        values = {}
        for key, size in (
            ("ballot_hash", HASH_BYTES),
            ("election_fingerprint", HASH_BYTES),
            ("pseudonym", PSEUDONYM_BYTES),
            ("signature", 64),
        ):
            text = data[key]
            if not isinstance(text, str) or len(text) != 2 * size or text != text.lower():
                raise ValueError(f"{key}: expected {2 * size} lowercase hex digits")
            values[key] = bytes.fromhex(text)
        return cls(**values)


def sign_attestation(
    key: Ed25519PrivateKey, election_fingerprint: bytes, pseudonym: bytes, ballot_hash: bytes
) -> Attestation:
    signature = key.sign(attestation_message(election_fingerprint, pseudonym, ballot_hash))
    return Attestation(election_fingerprint, pseudonym, ballot_hash, signature)


def verify_attestation(
    attestation: Attestation,
    registrar_public_key: bytes | Ed25519PublicKey,
    *,
    election_fingerprint: bytes | None = None,
) -> None:
    """Raise `VerificationError` unless the registrar signed `attestation` (for this election)."""
    if (
        election_fingerprint is not None
        and attestation.election_fingerprint != election_fingerprint
    ):
        raise VerificationError("attestation-election", "attestation is for another election")
    if len(attestation.pseudonym) != PSEUDONYM_BYTES or len(attestation.ballot_hash) != HASH_BYTES:
        raise VerificationError("attestation-format", "pseudonym and ballot hash are 32 bytes")
    key = (
        registrar_public_key
        if isinstance(registrar_public_key, Ed25519PublicKey)
        else Ed25519PublicKey.from_public_bytes(registrar_public_key)
    )
    message = attestation_message(
        attestation.election_fingerprint, attestation.pseudonym, attestation.ballot_hash
    )
    try:
        key.verify(attestation.signature, message)
    except InvalidSignature:
        raise VerificationError("attestation-signature", "Ed25519 signature invalid") from None


@dataclass(frozen=True)
class Accepted:
    pseudonym: bytes
    attestation: Attestation


@dataclass(frozen=True)
class Refused:
    reason: Reason
    detail: str = ""


@dataclass(frozen=True)
class Pending:
    """A request that passed every check, its code reserved, not yet committed (see `begin`)."""

    request: BallotAuthentication = field(repr=False)
    pseudonym: bytes
    code_hash: str | None
    attestation: Attestation
    received_at: dt.datetime


# --- state the registrar keeps ---


class CodeLedger(Protocol):
    """Which pseudonym each one-time code is bound to."""

    def owner(self, code_hash: str) -> bytes | None: ...

    def bind(self, code_hash: str, pseudonym: bytes) -> None: ...


class MemoryCodeLedger:
    def __init__(self) -> None:
        self._owners: dict[str, bytes] = {}

    @classmethod
    def from_evidence(cls, records: Iterable[Evidence]) -> MemoryCodeLedger:
        """The bindings the evidence records: what a restarted registrar must remember."""
        ledger = cls()
        for record in records:
            if record.code_hash is not None:
                ledger.bind(record.code_hash, record.pseudonym)
        return ledger

    def owner(self, code_hash: str) -> bytes | None:
        return self._owners.get(code_hash)

    def bind(self, code_hash: str, pseudonym: bytes) -> None:
        if self._owners.setdefault(code_hash, pseudonym) != pseudonym:
            raise ValueError("code already bound to another voter")

    def __len__(self) -> int:
        return len(self._owners)


class EvidenceSink(Protocol):
    def append_many(self, records: Sequence[Evidence]) -> None:
        """Keep `records` durably, in order, all or none."""
        ...


@dataclass(frozen=True)
class Evidence:
    """What authorised auditors may see: the JPKI proof behind one attestation."""

    election_fingerprint: bytes
    pseudonym: bytes
    ballot_hash: bytes
    certificate: bytes = field(repr=False)
    signature: bytes = field(repr=False)
    received_at: dt.datetime = field(default_factory=lambda: dt.datetime.now(dt.UTC))
    code_hash: str | None = None  # the one-time voting code it bound (rebuilds the ledger)


class CardRefused(Exception):
    """A check R1–R8 failed: `reason` is what the voter is told, `detail` plain words."""

    def __init__(self, reason: Reason, detail: str = "") -> None:
        super().__init__(reason.value, detail)
        self.reason = reason
        self.detail = detail


def check_card(config: RegistrarConfig, request: BallotAuthentication, now: dt.datetime) -> bytes:
    """The stateless checks R0–R7 of `request`; returns the voter's pseudonym.

    Pure (no ledger, no evidence): the board service runs it in its checking processes beside
    the ballot's own checks. Raises `CardRefused`.
    """
    rules = config.eligibility
    # R0
    late = outside_voting_period(rules.voting_start, rules.voting_end, now)
    if late is not None:
        reason = Reason.VOTING_CLOSED if late == VOTING_CLOSED else Reason.VOTING_NOT_OPEN
        raise CardRefused(reason, f"voting {rules.voting_start} to {rules.voting_end}")
    # R1
    if (
        len(request.ballot_hash) != HASH_BYTES
        or not request.certificate
        or len(request.certificate) > MAX_CERT_BYTES
        or not request.signature
        or len(request.signature) > MAX_SIGNATURE_BYTES
    ):
        raise CardRefused(Reason.MALFORMED_REQUEST, "field sizes")
    if request.election_fingerprint != config.election_fingerprint:
        raise CardRefused(Reason.MALFORMED_REQUEST, "request is for another election")
    try:
        cert = x509.load_der_x509_certificate(request.certificate)
    except ValueError:
        raise CardRefused(Reason.MALFORMED_REQUEST, "certificate is not DER X.509") from None
    try:
        # R2
        validate(cert, config.trust, at=now, purpose=CertPurpose.SIGN)
        # R3
        message = ballot_message(request.election_fingerprint, request.ballot_hash)
        signature_algorithm_for(cert).verify(cert.public_key(), request.signature, message)
        # R4
        facts = basic_facts(cert)
    except CertificateRejected as exc:
        raise CardRefused(exc.reason, exc.detail) from None
    pseudonym = derive_pseudonym(config.pseudonym_key, config.election_fingerprint, facts)
    # R5
    if rules.voter_roll is not None and (
        roll_entry(config.pseudonym_key, facts) not in rules.voter_roll
    ):
        raise CardRefused(Reason.NOT_ON_VOTER_ROLL)
    refusal = ineligible(facts, rules)
    if refusal is Reason.NOT_ELIGIBLE_AGE:
        raise CardRefused(refusal, f"minimum age {rules.minimum_age}")
    if refusal is not None:
        raise CardRefused(refusal)
    return pseudonym


def ineligible(facts: BasicFacts, rules: EligibilityRules) -> Reason | None:
    """R6 and R7 for the card's facts: the age on election day, then the address (None: both
    hold). The voter's device asks it too, to tell the voter at once after signing."""
    # R6
    if age_on(facts.birth_date, rules.election_day) < rules.minimum_age:
        return Reason.NOT_ELIGIBLE_AGE
    # R7
    if not is_resident(facts.address, rules.municipalities, rules.address_prefixes):
        return Reason.NOT_ELIGIBLE_RESIDENCE
    return None


class Registrar:
    """Stateful wrapper: config + one-time code ledger + evidence sink."""

    def __init__(
        self,
        config: RegistrarConfig,
        evidence: EvidenceSink,
        *,
        ledger: CodeLedger | None = None,
    ) -> None:
        self.config = config
        self.evidence = evidence
        self.ledger: CodeLedger = ledger if ledger is not None else MemoryCodeLedger()
        self._lock = threading.Lock()
        self._reserved: dict[str, bytes] = {}  # one-time code hash -> pseudonym, in flight

    @property
    def public_key(self) -> bytes:
        return self.config.attestation_public_key

    def register(self, request: BallotAuthentication, *, now: dt.datetime) -> Accepted | Refused:
        """Check `request` (steps R1–R8); on success keep evidence and return the attestation."""
        pending = self.begin(request, now=now)
        if isinstance(pending, Refused):
            return pending
        self.commit(pending)
        return Accepted(pending.pseudonym, pending.attestation)

    def _check_code(self, code: str, pseudonym: bytes, code_hash: str | None) -> str | None:
        codes = self.config.voting_codes
        if codes.mode is VotingCodeMode.NONE:
            return None
        try:
            code_hash = code_hash or hash_voting_code(code)
        except ValueError:
            raise CardRefused(Reason.VOTING_CODE_UNKNOWN, "not a voting code") from None
        if code_hash not in codes.code_hashes:
            raise CardRefused(Reason.VOTING_CODE_UNKNOWN)
        if codes.mode is VotingCodeMode.SHARED:
            return None
        self._check_owner(code_hash, pseudonym)
        return code_hash

    def _check_owner(self, code_hash: str, pseudonym: bytes) -> None:
        owner = self.ledger.owner(code_hash) or self._reserved.get(code_hash)
        if owner is not None and owner != pseudonym:
            raise CardRefused(Reason.VOTING_CODE_USED)

    def begin(self, request: BallotAuthentication, *, now: dt.datetime) -> Pending | Refused:
        """Check `request` (R0–R8) and reserve its one-time code; nothing is stored yet.

        The board service calls this (or `check_card` elsewhere and then `reserve`), runs the
        board's own checks of the ballot, then `commit` (the evidence durable, the code bound)
        and only then appends the ballot; `abort` when a check refuses it before the commit.
        So a refused ballot leaves no evidence and no bound code, and an appended one always
        has its evidence (docs/jpki.md §5.1).
        """
        try:
            pseudonym = check_card(self.config, request, now)
        except CardRefused as refusal:
            log.info("ballot refused: %s", refusal.reason.value)
            return Refused(refusal.reason, refusal.detail)
        cfg = self.config
        attestation = sign_attestation(
            cfg.attestation_key, cfg.election_fingerprint, pseudonym, request.ballot_hash
        )
        return self.reserve(request, pseudonym, attestation, now=now)

    def reserve(
        self,
        request: BallotAuthentication,
        pseudonym: bytes,
        attestation: Attestation,
        *,
        now: dt.datetime,
        code_hash: str | None = None,
    ) -> Pending | Refused:
        """R8 for a request whose R0–R7 passed (`check_card`) and the reservation of its
        one-time code: the only check that needs the registrar's state. `code_hash`, if
        given, is `hash_voting_code(request.voting_code)`, computed elsewhere."""
        try:
            code_hash = self._check_code(request.voting_code, pseudonym, code_hash)
            if code_hash is not None:
                with self._lock:
                    self._check_owner(code_hash, pseudonym)
                    self._reserved[code_hash] = pseudonym
        except CardRefused as refusal:
            log.info("ballot refused: %s", refusal.reason.value)
            return Refused(refusal.reason, refusal.detail)
        return Pending(request, pseudonym, code_hash, attestation, now)

    def commit(self, pending: Pending) -> None:
        """Keep the evidence and bind the code of a ballot about to go to the board."""
        self.commit_many([pending])

    def commit_many(self, pendings: Sequence[Pending]) -> None:
        """`commit` for several ballots, their evidence in one durable write.

        Their codes stay reserved while the evidence is written, so the registrar's lock is
        never held across a disk flush.
        """
        self.evidence.append_many(
            [
                Evidence(
                    election_fingerprint=p.request.election_fingerprint,
                    pseudonym=p.pseudonym,
                    ballot_hash=p.request.ballot_hash,
                    certificate=p.request.certificate,
                    signature=p.request.signature,
                    received_at=p.received_at,
                    code_hash=p.code_hash,
                )
                for p in pendings
            ]
        )
        with self._lock:
            for p in pendings:
                if p.code_hash is not None:
                    self.ledger.bind(p.code_hash, p.pseudonym)
                    self._reserved.pop(p.code_hash, None)
        for p in pendings:
            log.info("ballot accepted for pseudonym %s…", p.pseudonym.hex()[:12])

    def abort(self, pending: Pending) -> None:
        """Release the reservation of a ballot refused before its evidence was written."""
        with self._lock:
            code = pending.code_hash
            if code is not None and self._reserved.get(code) == pending.pseudonym:
                del self._reserved[code]
