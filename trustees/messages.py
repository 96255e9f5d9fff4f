"""The four DKG messages and their canonical JSON (docs/trustees.md §2).

Every message carries the format version, its kind, the election fingerprint, the sender's
trustee index and an Ed25519 signature by the sender over TLV[label, body], where body is the
message's JSON value without the signature. Decoders accept canonical JSON only, check every
field's type, size and range, and check group membership of every element.

| kind              | round | fields besides the header                                  |
|-------------------|-------|------------------------------------------------------------|
| dkg.commitments   | 1     | commitments [A_i0..A_i,t−1], proofs [Schnorr (t, s)] × t    |
| dkg.share         | 1 (3) | recipient j, ephemeral E, ciphertext C (encrypted s_ij)     |
| dkg.complaints    | 2, 4  | round, complaints [[dealer, reason]] (sorted, maybe empty)  |
| dkg.reveal        | 3, 5  | round, shares [[recipient, s_ij]] (sorted, non-empty)       |

A share is posted in round 1, or again in round 3 when its recipient complained that it is
missing. Complaints and reveals carry their round in the signed body, so a message of one round
can never be replayed into another (docs/trustees.md §4.1).
"""

from __future__ import annotations

import dataclasses
import itertools
from dataclasses import dataclass
from typing import Any, ClassVar

from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey

from mixnet.encoding import bytes_from_hex, canonical_json, parse_canonical_json
from mixnet.errors import DecodeError
from mixnet.groups import Element, Group, Scalar
from mixnet.proofs import schnorr
from trustees.channel import TAG_BYTES, sign_payload
from trustees.config import _index

__all__ = [
    "COMPLAINT_REASONS",
    "COMPLAINT_ROUNDS",
    "MESSAGE_VERSION",
    "REVEAL_ROUNDS",
    "Commitments",
    "Complaints",
    "DkgMessage",
    "EncryptedShare",
    "Reveal",
    "decode_message",
    "sign_message",
]

MESSAGE_VERSION = 1
#: Why a recipient complains about a dealer.
COMPLAINT_REASONS = ("missing", "undecryptable", "inconsistent")
#: The rounds in which complaints and reveals are posted (docs/trustees.md §4.1).
COMPLAINT_ROUNDS = (2, 4)
REVEAL_ROUNDS = (3, 5)
#: The longest message any decoder reads (a guard against oversized board entries).
MAX_MESSAGE_BYTES = 1 << 20

_HEADER = {"kind", "version", "election", "sender", "signature"}


def _list(value: object, what: str) -> list[Any]:
    if not isinstance(value, list):
        raise DecodeError(f"{what} is a list")
    return value


def _round(value: object, allowed: tuple[int, ...]) -> int:
    if type(value) is not int or value not in allowed:
        raise DecodeError(f"the round is one of {list(allowed)}")
    return value


def _strictly_increasing(indices: list[int], what: str) -> None:
    if any(a >= b for a, b in itertools.pairwise(indices)):
        raise DecodeError(f"{what} must be sorted by index with no repeats")


@dataclass(frozen=True)
class _Message:
    KIND: ClassVar[str] = ""
    FIELDS: ClassVar[frozenset[str]] = frozenset()

    election: bytes
    sender: int

    def _fields(self) -> dict[str, Any]:
        raise NotImplementedError

    @property
    def slot(self) -> tuple[Any, ...]:
        """What may appear at most once in a ceremony: (kind, sender[, recipient])."""
        return (self.KIND, self.sender)

    def body(self) -> dict[str, Any]:
        """The signed JSON value: everything but the signature."""
        return {
            "kind": self.KIND,
            "version": MESSAGE_VERSION,
            "election": self.election.hex(),
            "sender": self.sender,
            **self._fields(),
        }

    def to_json_value(self) -> dict[str, Any]:
        signature: bytes = getattr(self, "signature", b"")
        return {**self.body(), "signature": signature.hex()}

    def to_json(self) -> bytes:
        return canonical_json(self.to_json_value())

    @classmethod
    def _decode(cls, group: Group, v: dict[str, Any], header: dict[str, Any]) -> Any:
        raise NotImplementedError

    @classmethod
    def from_json(cls, data: bytes, group: Group) -> Any:
        msg = decode_message(data, group)
        if not isinstance(msg, cls):
            raise DecodeError(f"expected a {cls.KIND} message, got {msg.KIND}")
        return msg


@dataclass(frozen=True)
class Commitments(_Message):
    """Round 1: A_ik = g^{a_ik} for k = 0..t−1, each with a Schnorr proof of knowledge."""

    KIND: ClassVar[str] = "dkg.commitments"
    FIELDS: ClassVar[frozenset[str]] = frozenset({"commitments", "proofs"})

    commitments: tuple[Element, ...]
    proofs: tuple[schnorr.Proof, ...]
    signature: bytes = b""

    def _fields(self) -> dict[str, Any]:
        return {
            "commitments": [a.to_hex() for a in self.commitments],
            "proofs": [p.to_json() for p in self.proofs],
        }

    @classmethod
    def _decode(cls, group: Group, v: dict[str, Any], header: dict[str, Any]) -> Commitments:
        commitments = _list(v["commitments"], "commitments")
        proofs = _list(v["proofs"], "proofs")
        if not commitments or len(commitments) != len(proofs):
            raise DecodeError("one proof per commitment, at least one commitment")
        return cls(
            **header,
            commitments=tuple(group.element_from_hex(a) for a in commitments),
            proofs=tuple(schnorr.Proof.from_json(group, p) for p in proofs),
        )


@dataclass(frozen=True)
class EncryptedShare(_Message):
    """Round 1: s_ij = f_i(j), encrypted to trustee j (see `trustees.channel`)."""

    KIND: ClassVar[str] = "dkg.share"
    FIELDS: ClassVar[frozenset[str]] = frozenset({"recipient", "ephemeral", "ciphertext"})

    recipient: int
    ephemeral: bytes
    ciphertext: bytes
    signature: bytes = b""

    @property
    def slot(self) -> tuple[Any, ...]:
        return (self.KIND, self.sender, self.recipient)

    def _fields(self) -> dict[str, Any]:
        return {
            "recipient": self.recipient,
            "ephemeral": self.ephemeral.hex(),
            "ciphertext": self.ciphertext.hex(),
        }

    @classmethod
    def _decode(cls, group: Group, v: dict[str, Any], header: dict[str, Any]) -> EncryptedShare:
        return cls(
            **header,
            recipient=_index(v["recipient"], "recipient"),
            ephemeral=bytes_from_hex(v["ephemeral"], 32, "the ephemeral key"),
            ciphertext=bytes_from_hex(
                v["ciphertext"], group.scalar_bytes + TAG_BYTES, "the share ciphertext"
            ),
        )


@dataclass(frozen=True)
class Complaints(_Message):
    """Round 2 (or 4): the dealers whose share to the sender was missing, unreadable or wrong
    (in round 4: whose re-sent share was unreadable or wrong)."""

    KIND: ClassVar[str] = "dkg.complaints"
    FIELDS: ClassVar[frozenset[str]] = frozenset({"round", "complaints"})

    complaints: tuple[tuple[int, str], ...]
    signature: bytes = b""
    round: int = 2

    @property
    def slot(self) -> tuple[Any, ...]:
        return (self.KIND, self.sender, self.round)

    def _fields(self) -> dict[str, Any]:
        return {
            "round": self.round,
            "complaints": [[i, reason] for i, reason in self.complaints],
        }

    @classmethod
    def _decode(cls, group: Group, v: dict[str, Any], header: dict[str, Any]) -> Complaints:
        out = []
        for item in _list(v["complaints"], "complaints"):
            if not isinstance(item, list) or len(item) != 2 or item[1] not in COMPLAINT_REASONS:
                raise DecodeError(f"a complaint is [dealer, one of {COMPLAINT_REASONS}]")
            out.append((_index(item[0], "dealer"), item[1]))
        _strictly_increasing([i for i, _ in out], "complaints")
        return cls(**header, complaints=tuple(out), round=_round(v["round"], COMPLAINT_ROUNDS))


@dataclass(frozen=True)
class Reveal(_Message):
    """Round 3 (or 5): the dealer publishes s_ij for every trustee j that found its share
    unreadable or wrong in the round before (never for a share that was only missing)."""

    KIND: ClassVar[str] = "dkg.reveal"
    FIELDS: ClassVar[frozenset[str]] = frozenset({"round", "shares"})

    shares: tuple[tuple[int, Scalar], ...]
    signature: bytes = b""
    round: int = 3

    @property
    def slot(self) -> tuple[Any, ...]:
        return (self.KIND, self.sender, self.round)

    def _fields(self) -> dict[str, Any]:
        return {"round": self.round, "shares": [[j, s.to_hex()] for j, s in self.shares]}

    @classmethod
    def _decode(cls, group: Group, v: dict[str, Any], header: dict[str, Any]) -> Reveal:
        out = []
        for item in _list(v["shares"], "shares"):
            if not isinstance(item, list) or len(item) != 2:
                raise DecodeError("a revealed share is [recipient, s]")
            out.append((_index(item[0], "recipient"), group.scalar_from_hex(item[1])))
        if not out:
            raise DecodeError("a reveal holds at least one share")
        _strictly_increasing([j for j, _ in out], "revealed shares")
        return cls(**header, shares=tuple(out), round=_round(v["round"], REVEAL_ROUNDS))


DkgMessage = Commitments | EncryptedShare | Complaints | Reveal
_KINDS: dict[str, type[_Message]] = {
    c.KIND: c for c in (Commitments, EncryptedShare, Complaints, Reveal)
}


def decode_message(data: bytes | dict[str, Any], group: Group) -> DkgMessage:
    """Decode one DKG message from canonical JSON bytes (or its already parsed JSON value)."""
    if isinstance(data, bytes | bytearray):
        value = parse_canonical_json(bytes(data), max_bytes=MAX_MESSAGE_BYTES)
    else:
        value = data
        try:
            canonical_json(value)  # rejects floats, huge ints, non-string keys, …
        except (TypeError, ValueError) as exc:
            raise DecodeError(f"not a JSON value with a canonical form: {exc}") from exc
    if not isinstance(value, dict) or value.get("kind") not in _KINDS:
        raise DecodeError(f"a DKG message is an object whose kind is one of {sorted(_KINDS)}")
    cls = _KINDS[value["kind"]]
    if set(value) != _HEADER | cls.FIELDS:
        raise DecodeError(f"a {cls.KIND} message has exactly {sorted(_HEADER | cls.FIELDS)}")
    if value["version"] != MESSAGE_VERSION or type(value["version"]) is not int:
        raise DecodeError(f"unsupported message version {value['version']!r}")
    header = {
        "election": bytes_from_hex(value["election"], 32, "the election fingerprint"),
        "sender": _index(value["sender"], "sender"),
        "signature": bytes_from_hex(value["signature"], 64, "the signature"),
    }
    msg: DkgMessage = cls._decode(group, value, header)
    if msg.to_json_value() != value:  # pragma: no cover - a decoder bug, not bad input
        raise DecodeError("message does not re-encode to its input")
    return msg


def sign_message(message: DkgMessage, key: Ed25519PrivateKey) -> DkgMessage:
    """The message with its `signature` set by the sender's Ed25519 key."""
    return dataclasses.replace(message, signature=sign_payload(key, message.body()))
