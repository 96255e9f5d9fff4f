"""Board entries: typed, signed envelopes (docs/board.md §2).

An entry travels and is stored as canonical JSON:

    {"author": A, "body": {...}, "election": E, "signature": hex, "type": T, "v": 1}

The author signs, with Ed25519, `encode([ENTRY_LABEL, {author, body, election, type, v}])`
(the TLV encoding of the envelope without its signature, under a domain label). The board
hashes the canonical JSON bytes into its Merkle log (`log.hash_leaf`).

Bodies are opaque to the log, but must be TLV-encodable so they can be signed: strings,
non-negative integers, lists and objects. Booleans, null, negative numbers and floats are
refused, so one signed body has exactly one JSON form.
"""

from __future__ import annotations

import re
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

from cryptography.exceptions import InvalidSignature
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey, Ed25519PublicKey

from bulletin_board.log import hash_leaf
from mixnet.encoding import (
    MAX_JSON_INT,
    canonical_json,
    encode,
    parse_if_canonical,
    parse_json_strict,
)
from mixnet.errors import DecodeError, VerificationError

__all__ = [
    "AUTHOR_RE",
    "ELECTION_RE",
    "ENTRY_LABEL",
    "ENTRY_VERSION",
    "TYPE_RE",
    "Envelope",
    "NonCanonicalError",
    "decode_envelope",
    "sign_envelope",
    "verify_envelope",
]

ENTRY_LABEL = "tohyo/board/entry"
ENTRY_VERSION = 1
ELECTION_RE = re.compile(r"[a-z0-9][a-z0-9._-]{0,63}")
TYPE_RE = re.compile(r"[a-z][a-z0-9_]{0,39}")
AUTHOR_RE = re.compile(r"[A-Za-z0-9][A-Za-z0-9:._-]{0,127}")
_FIELDS = frozenset({"v", "election", "type", "author", "body", "signature"})
_MAX_DEPTH = 32


class NonCanonicalError(DecodeError):
    """Well-formed JSON that is not in canonical form (key order, spacing, escapes…)."""


def _check_body(value: Any, depth: int = 0) -> None:
    if depth > _MAX_DEPTH:
        raise DecodeError("body: nested too deeply")
    if isinstance(value, str):
        return
    if isinstance(value, bool) or value is None:
        raise DecodeError("body: booleans and null are not allowed (use 0/1 or omit)")
    if isinstance(value, int):
        if not 0 <= value <= MAX_JSON_INT:
            raise DecodeError("body: integers must be in 0..2^53-1 (big numbers as hex)")
        return
    if isinstance(value, list):
        for v in value:
            _check_body(v, depth + 1)
        return
    if isinstance(value, dict):
        for k, v in value.items():
            if not isinstance(k, str):
                raise DecodeError("body: object keys must be strings")
            _check_body(v, depth + 1)
        return
    raise DecodeError(f"body: {type(value).__name__} is not allowed")


def _check_name(value: object, pattern: re.Pattern[str], what: str) -> str:
    if not isinstance(value, str) or pattern.fullmatch(value) is None:
        raise DecodeError(f"{what}: must match {pattern.pattern}")
    return value


@dataclass(frozen=True, eq=True)
class Envelope:
    """One signed board entry. `body` is a JSON object owned by the entry type."""

    election: str
    type: str
    author: str
    body: Mapping[str, Any]
    signature: bytes
    v: int = ENTRY_VERSION

    def __post_init__(self) -> None:
        _check_name(self.election, ELECTION_RE, "election")
        _check_name(self.type, TYPE_RE, "type")
        _check_name(self.author, AUTHOR_RE, "author")
        if not isinstance(self.body, dict):
            raise DecodeError("body: must be a JSON object")
        _check_body(self.body)
        if self.v != ENTRY_VERSION:
            raise DecodeError(f"v: unsupported version {self.v!r}")
        if not isinstance(self.signature, bytes) or len(self.signature) not in (0, 64):
            raise DecodeError("signature: 64 bytes")

    def unsigned(self) -> dict[str, Any]:
        return {
            "v": self.v,
            "election": self.election,
            "type": self.type,
            "author": self.author,
            "body": self.body,
        }

    def signing_bytes(self) -> bytes:
        """The bytes the author signs (TLV of the envelope without its signature)."""
        return encode([ENTRY_LABEL, self.unsigned()])

    def to_json(self) -> dict[str, Any]:
        return {**self.unsigned(), "signature": self.signature.hex()}

    def to_bytes(self) -> bytes:
        """The canonical JSON form: what is posted, stored and hashed."""
        return canonical_json(self.to_json())

    def leaf_hash(self) -> bytes:
        return hash_leaf(self.to_bytes())

    def __hash__(self) -> int:
        return hash(self.to_bytes())


def sign_envelope(
    key: Ed25519PrivateKey, election: str, type: str, author: str, body: Mapping[str, Any]
) -> Envelope:
    unsigned = Envelope(election, type, author, dict(body), b"")
    sig = key.sign(unsigned.signing_bytes())
    return Envelope(election, type, author, dict(body), sig)


def verify_envelope(envelope: Envelope, key: Ed25519PublicKey) -> None:
    """Raise `VerificationError("entry.signature")` unless `key` signed `envelope`."""
    try:
        key.verify(envelope.signature, envelope.signing_bytes())
    except InvalidSignature as exc:
        raise VerificationError("entry.signature", f"not signed by {envelope.author}") from exc


def decode_envelope(data: bytes, *, max_bytes: int | None = None) -> Envelope:
    """Decode posted bytes. `DecodeError` if malformed, `NonCanonicalError` if not canonical."""
    if max_bytes is not None and len(data) > max_bytes:
        raise DecodeError(f"document larger than {max_bytes} bytes")
    obj = parse_if_canonical(data)  # canonical JSON, decided fast: the common case
    canonical = obj is not None
    if not canonical:
        obj = parse_json_strict(data)
    if not isinstance(obj, dict) or set(obj) != _FIELDS:
        raise DecodeError(f"an entry has exactly the fields {sorted(_FIELDS)}")
    sig = obj["signature"]
    if not isinstance(sig, str) or re.fullmatch(r"[0-9a-f]{128}", sig) is None:
        raise DecodeError("signature: 128 lowercase hex digits")
    if not isinstance(obj["v"], int) or isinstance(obj["v"], bool):
        raise DecodeError("v: an integer")
    envelope = Envelope(
        election=obj["election"],
        type=obj["type"],
        author=obj["author"],
        body=obj["body"],
        signature=bytes.fromhex(sig),
        v=obj["v"],
    )
    # canonical JSON with these fields is the envelope's canonical form: no need to compare
    if not canonical and envelope.to_bytes() != data:
        raise NonCanonicalError("entry is not in canonical JSON form")
    return envelope
