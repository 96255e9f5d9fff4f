"""The registrar's private evidence store, encrypted at rest, and the auditors' check.

docs/jpki.md §5.5. File format (one text line each):
  line 0: canonical JSON header {format, kdf: scrypt, n, r, p, salt, check}
  line i≥1: base64(nonce ‖ AES-256-GCM ciphertext of the record's canonical JSON),
            associated data = header line ‖ i (8 bytes) — records cannot be moved or swapped.
The key is scrypt(passphrase, salt); `check` is HMAC(key, label) so a wrong passphrase is
refused before anything is appended.

A crash while records are appended can leave a last line without its newline (a torn
record): opening the store moves those bytes aside to `<file>.torn-<time>` (mode 0600, for
the auditors), cuts the file back to its last whole record and logs a warning. The registrar
writes a ballot's evidence before the board takes the ballot, so a torn record belongs to a
ballot that was never acknowledged. Any other damage (a whole line that does not decrypt, a
record moved) is an `EvidenceStoreError`.
"""

from __future__ import annotations

import base64
import datetime as dt
import hashlib
import hmac
import logging
import os
import secrets
import threading
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from pathlib import Path

from cryptography import x509
from cryptography.exceptions import InvalidTag
from cryptography.hazmat.primitives.ciphers.aead import AESGCM
from cryptography.hazmat.primitives.kdf.scrypt import Scrypt

from jpki.certs import (
    CertificateRejected,
    CertPurpose,
    TrustAnchors,
    basic_facts,
    signature_algorithm_for,
    validate,
)
from jpki.registrar import (
    Attestation,
    Evidence,
    ballot_message,
    derive_pseudonym,
    verify_attestation,
)
from mixnet.encoding import canonical_json, parse_canonical_json
from mixnet.errors import VerificationError

__all__ = ["EvidenceStore", "EvidenceStoreError", "Reconciliation", "check_evidence", "reconcile"]

log = logging.getLogger(__name__)

FORMAT = "tohyo-evidence/v1"
_CHECK_LABEL = b"tohyo/evidence-key-check/v1"


class EvidenceStoreError(Exception):
    """The store cannot be opened or read (wrong passphrase, tampering, bad format)."""


def _evidence_to_json(e: Evidence) -> bytes:
    record = {
        "ballot_hash": e.ballot_hash.hex(),
        "certificate": e.certificate.hex(),
        "election_fingerprint": e.election_fingerprint.hex(),
        "pseudonym": e.pseudonym.hex(),
        "received_at": e.received_at.astimezone(dt.UTC).isoformat(),
        "signature": e.signature.hex(),
    }
    if e.code_hash is not None:
        record["code_hash"] = e.code_hash
    return canonical_json(record)


def _evidence_from_json(data: bytes) -> Evidence:
    obj = parse_canonical_json(data)
    return Evidence(
        election_fingerprint=bytes.fromhex(obj["election_fingerprint"]),
        pseudonym=bytes.fromhex(obj["pseudonym"]),
        ballot_hash=bytes.fromhex(obj["ballot_hash"]),
        certificate=bytes.fromhex(obj["certificate"]),
        signature=bytes.fromhex(obj["signature"]),
        received_at=dt.datetime.fromisoformat(obj["received_at"]),
        code_hash=obj.get("code_hash"),
    )


def _derive(passphrase: bytes, salt: bytes, n: int, r: int, p: int) -> bytes:
    return Scrypt(salt=salt, length=32, n=n, r=r, p=p).derive(passphrase)


class EvidenceStore:
    """Append-only encrypted evidence file. Create with a passphrase; open with the same."""

    def __init__(self, path: Path | str, passphrase: str | bytes, *, scrypt_n: int = 2**15) -> None:
        self.path = Path(path)
        secret = passphrase.encode("utf-8") if isinstance(passphrase, str) else passphrase
        if not secret:
            raise ValueError("an empty passphrase is not allowed")
        self._lock = threading.Lock()
        self.torn: Path | None = None
        if self.path.exists() and b"\n" not in (data := self.path.read_bytes()):
            # a crash while the store was created: not even its header is whole
            if data:
                self.torn = self._aside(data)
            self.path.unlink()
        if self.path.exists() and self.path.stat().st_size > 0:
            header_line = self.path.read_bytes().split(b"\n", 1)[0]
            try:
                header = parse_canonical_json(header_line)
                if header["format"] != FORMAT or header["kdf"] != "scrypt":
                    raise ValueError("unknown format")
                salt = bytes.fromhex(header["salt"])
                key = _derive(secret, salt, header["n"], header["r"], header["p"])
                check = bytes.fromhex(header["check"])
            except (ValueError, KeyError, TypeError) as exc:
                raise EvidenceStoreError(f"not an evidence store ({type(exc).__name__})") from None
            if not hmac.compare_digest(check, hmac.new(key, _CHECK_LABEL, hashlib.sha256).digest()):
                raise EvidenceStoreError("wrong passphrase for the evidence store")
            self._header = header_line
            self.torn = self._set_aside_torn_tail()
            self._count = sum(1 for line in self.path.read_bytes().split(b"\n")[1:] if line)
        else:
            salt = secrets.token_bytes(16)
            key = _derive(secret, salt, scrypt_n, 8, 1)
            check = hmac.new(key, _CHECK_LABEL, hashlib.sha256).digest()
            self._header = canonical_json(
                {
                    "check": check.hex(),
                    "format": FORMAT,
                    "kdf": "scrypt",
                    "n": scrypt_n,
                    "p": 1,
                    "r": 8,
                    "salt": salt.hex(),
                }
            )
            fd = os.open(self.path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
            with os.fdopen(fd, "wb") as f:
                f.write(self._header + b"\n")
                f.flush()
                os.fsync(f.fileno())
            self._count = 0
        self._aead = AESGCM(key)

    def __repr__(self) -> str:
        return f"EvidenceStore({str(self.path)!r}, records={self._count})"

    def _aside(self, torn: bytes) -> Path:
        """Keep `torn` bytes (mode 0600) in `<file>.torn-<time>`, for the auditors."""
        stamp = dt.datetime.now(dt.UTC).strftime("%Y%m%dT%H%M%S%fZ")
        aside = self.path.with_name(f"{self.path.name}.torn-{stamp}")
        fd = os.open(aside, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
        with os.fdopen(fd, "wb") as f:
            f.write(torn)
            f.flush()
            os.fsync(f.fileno())
        log.warning(
            "evidence store %s: %d torn bytes (a write cut short by a crash) set aside in %s",
            self.path.name,
            len(torn),
            aside.name,
        )
        return aside

    def _set_aside_torn_tail(self) -> Path | None:
        """Move a last line without its newline (a write cut short) to a side file."""
        data = self.path.read_bytes()
        if data.endswith(b"\n"):
            return None
        keep = data.rfind(b"\n") + 1
        aside = self._aside(data[keep:])
        with open(self.path, "r+b") as f:
            f.truncate(keep)
            f.flush()
            os.fsync(f.fileno())
        log.warning(
            "evidence store %s: the torn last record's ballot was never acknowledged",
            self.path.name,
        )
        return aside

    def _aad(self, index: int) -> bytes:
        return self._header + index.to_bytes(8, "big")

    def append(self, evidence: Evidence) -> None:
        self.append_many([evidence])

    def append_many(self, records: Sequence[Evidence]) -> None:
        """Append `records` with one write and one disk flush (a group commit)."""
        if not records:
            return
        with self._lock:
            lines = []
            for offset, evidence in enumerate(records, start=self._count + 1):
                nonce = secrets.token_bytes(12)
                sealed = self._aead.encrypt(nonce, _evidence_to_json(evidence), self._aad(offset))
                lines.append(base64.b64encode(nonce + sealed) + b"\n")
            with open(self.path, "ab") as f:
                size = f.tell()
                try:
                    f.write(b"".join(lines))
                    f.flush()
                    os.fsync(f.fileno())
                except BaseException:
                    f.truncate(size)  # a failed write (disk full…) leaves no partial line
                    raise
            self._count += len(records)

    def __len__(self) -> int:
        return self._count

    def read_all(self) -> list[Evidence]:
        """Decrypt every record; `EvidenceStoreError` if any was altered or moved."""
        with self._lock:  # not halfway through an append
            lines = [line for line in self.path.read_bytes().split(b"\n")[1:] if line]
        out = []
        for index, line in enumerate(lines, start=1):
            try:
                blob = base64.b64decode(line, validate=True)
                plain = self._aead.decrypt(blob[:12], blob[12:], self._aad(index))
                out.append(_evidence_from_json(plain))
            except (InvalidTag, ValueError, KeyError) as exc:
                raise EvidenceStoreError(
                    f"record {index} cannot be read ({type(exc).__name__})"
                ) from None
        return out


@dataclass(frozen=True)
class Reconciliation:
    """The board's ballot entries of an election set against the registrar's evidence."""

    ballots: int
    evidence: int
    without_evidence: tuple[int, ...]  # board indices of ballots no record explains
    unpublished: int  # records whose ballot is not on the board (never acknowledged)

    @property
    def ok(self) -> bool:
        return not self.without_evidence


def reconcile(
    ballots: Iterable[tuple[int, bytes, bytes]], records: Sequence[Evidence]
) -> Reconciliation:
    """Match (board index, pseudonym, ballot hash) of each ballot entry with the evidence."""
    kept = {(r.pseudonym, r.ballot_hash) for r in records}
    seen, missing = set(), []
    count = 0
    for index, pseudonym, ballot_hash in ballots:
        count += 1
        if (pseudonym, ballot_hash) in kept:
            seen.add((pseudonym, ballot_hash))
        else:
            missing.append(index)
    return Reconciliation(count, len(records), tuple(missing), len(kept - seen))


def check_evidence(
    evidence: Evidence,
    trust: TrustAnchors,
    *,
    attestation: Attestation | None = None,
    registrar_public_key: bytes | None = None,
    pseudonym_key: bytes | None = None,
) -> None:
    """Auditor's check of one evidence record; raises `VerificationError` naming the step.

    E1 the certificate was valid for signing at `received_at` under `trust` (CRLs included);
    E2 the JPKI signature verifies over the ballot message; E3 (with `pseudonym_key`) the
    pseudonym is the one derived from the certificate's facts; E4 (with an attestation and the
    registrar's public key) the attestation matches the record and its signature verifies.
    """
    try:
        cert = x509.load_der_x509_certificate(evidence.certificate)
    except ValueError:
        raise VerificationError("E1-certificate", "not a DER certificate") from None
    try:
        validate(cert, trust, at=evidence.received_at, purpose=CertPurpose.SIGN)
    except CertificateRejected as exc:
        raise VerificationError("E1-certificate", exc.reason.value) from None
    message = ballot_message(evidence.election_fingerprint, evidence.ballot_hash)
    try:
        signature_algorithm_for(cert).verify(cert.public_key(), evidence.signature, message)
    except CertificateRejected as exc:
        raise VerificationError("E2-jpki-signature", exc.reason.value) from None
    if pseudonym_key is not None:
        try:
            facts = basic_facts(cert)
        except CertificateRejected as exc:
            raise VerificationError("E3-pseudonym", exc.reason.value) from None
        expected = derive_pseudonym(pseudonym_key, evidence.election_fingerprint, facts)
        if not hmac.compare_digest(expected, evidence.pseudonym):
            raise VerificationError("E3-pseudonym", "pseudonym does not match the certificate")
    if attestation is not None:
        if (
            attestation.election_fingerprint,
            attestation.pseudonym,
            attestation.ballot_hash,
        ) != (evidence.election_fingerprint, evidence.pseudonym, evidence.ballot_hash):
            raise VerificationError("E4-attestation", "attestation is for another record")
        if registrar_public_key is None:
            raise VerificationError("E4-attestation", "registrar public key needed")
        verify_attestation(attestation, registrar_public_key)
