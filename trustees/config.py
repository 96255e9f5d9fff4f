"""Ceremony configuration and the trustees' long-term keys (docs/trustees.md §1).

`CeremonyConfig` is what the election manifest fixes before the key ceremony: the group, the
election fingerprint, the threshold t and, for each trustee 1..n, its X25519 (share
encryption) and Ed25519 (message signature) public keys. `TrusteePrivateKeys` holds the
matching private keys; its repr never shows them.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey
from cryptography.hazmat.primitives.asymmetric.x25519 import X25519PrivateKey

from mixnet.encoding import bytes_from_hex, canonical_json, parse_canonical_json
from mixnet.errors import DecodeError
from mixnet.groups import Group, group_from_description
from mixnet.rng import RandomSource

__all__ = [
    "CONFIG_VERSION",
    "CeremonyConfig",
    "TrusteeKeys",
    "TrusteePrivateKeys",
    "generate_trustee_keys",
]

CONFIG_VERSION = 1
_RAW = serialization.Encoding.Raw
_RAW_PUB = serialization.PublicFormat.Raw


#: The name the other trustees modules decode fixed-length hex fields by.


def _index(value: object, what: str) -> int:
    if type(value) is not int or value < 1:
        raise DecodeError(f"{what} is a positive integer")
    return value


def _keys(value: object, names: set[str], what: str) -> dict[str, Any]:
    if not isinstance(value, dict) or set(value) != names:
        raise DecodeError(f"{what} has exactly the fields {sorted(names)}")
    return value


@dataclass(frozen=True)
class TrusteeKeys:
    """Trustee `index`'s public keys, as published in the manifest."""

    index: int
    x25519_public: bytes
    ed25519_public: bytes

    def __post_init__(self) -> None:
        if self.index < 1:
            raise ValueError("trustee indices start at 1")
        if len(self.x25519_public) != 32 or len(self.ed25519_public) != 32:
            raise ValueError("X25519 and Ed25519 public keys are 32 bytes")

    def to_json_value(self) -> dict[str, Any]:
        return {
            "index": self.index,
            "x25519": self.x25519_public.hex(),
            "ed25519": self.ed25519_public.hex(),
        }

    @classmethod
    def from_json_value(cls, value: object) -> TrusteeKeys:
        v = _keys(value, {"index", "x25519", "ed25519"}, "trustee keys")
        return cls(
            _index(v["index"], "trustee index"),
            bytes_from_hex(v["x25519"], 32, "an X25519 key"),
            bytes_from_hex(v["ed25519"], 32, "an Ed25519 key"),
        )


@dataclass(frozen=True)
class CeremonyConfig:
    """Everything fixed before the ceremony. Trustees are numbered 1..n in order."""

    group: Group
    election: bytes
    threshold: int
    trustees: tuple[TrusteeKeys, ...]

    def __post_init__(self) -> None:
        if len(self.election) != 32:
            raise ValueError("the election fingerprint is 32 bytes")
        n = len(self.trustees)
        if [k.index for k in self.trustees] != list(range(1, n + 1)):
            raise ValueError("trustees are numbered 1..n in order")
        if not 1 <= self.threshold <= n:
            raise ValueError("the threshold t must satisfy 1 ≤ t ≤ n")
        if n >= self.group.order:
            raise ValueError("more trustees than the group order allows")

    @property
    def n(self) -> int:
        return len(self.trustees)

    @property
    def indices(self) -> range:
        return range(1, self.n + 1)

    def keys(self, index: int) -> TrusteeKeys:
        if index not in self.indices:
            raise KeyError(index)
        return self.trustees[index - 1]

    def to_json_value(self) -> dict[str, Any]:
        return {
            "version": CONFIG_VERSION,
            "group": self.group.description(),
            "election": self.election.hex(),
            "threshold": self.threshold,
            "trustees": [k.to_json_value() for k in self.trustees],
        }

    def to_json(self) -> bytes:
        return canonical_json(self.to_json_value())

    @classmethod
    def from_json_value(cls, value: object) -> CeremonyConfig:
        v = _keys(value, {"version", "group", "election", "threshold", "trustees"}, "a config")
        if v["version"] != CONFIG_VERSION:
            raise DecodeError(f"unsupported ceremony config version {v['version']!r}")
        if not isinstance(v["trustees"], list):
            raise DecodeError("trustees is a list")
        try:
            return cls(
                group_from_description(v["group"]),
                bytes_from_hex(v["election"], 32, "the election fingerprint"),
                _index(v["threshold"], "the threshold"),
                tuple(TrusteeKeys.from_json_value(k) for k in v["trustees"]),
            )
        except ValueError as exc:
            if isinstance(exc, DecodeError):
                raise
            raise DecodeError(f"inconsistent config: {exc}") from exc

    @classmethod
    def from_json(cls, data: bytes) -> CeremonyConfig:
        return cls.from_json_value(parse_canonical_json(data))


@dataclass(frozen=True)
class TrusteePrivateKeys:
    """A trustee's long-term private keys (raw 32-byte forms). Never printed."""

    x25519: bytes = field(repr=False)
    ed25519: bytes = field(repr=False)

    def __post_init__(self) -> None:
        if len(self.x25519) != 32 or len(self.ed25519) != 32:
            raise ValueError("X25519 and Ed25519 private keys are 32 bytes")

    def __repr__(self) -> str:
        return "TrusteePrivateKeys(<hidden>)"

    __str__ = __repr__

    def x25519_key(self) -> X25519PrivateKey:
        return X25519PrivateKey.from_private_bytes(self.x25519)

    def ed25519_key(self) -> Ed25519PrivateKey:
        return Ed25519PrivateKey.from_private_bytes(self.ed25519)

    def public(self, index: int) -> TrusteeKeys:
        return TrusteeKeys(
            index,
            self.x25519_key().public_key().public_bytes(_RAW, _RAW_PUB),
            self.ed25519_key().public_key().public_bytes(_RAW, _RAW_PUB),
        )


def generate_trustee_keys(rng: RandomSource) -> TrusteePrivateKeys:
    """Fresh X25519 and Ed25519 key pairs drawn from `rng` (seedable for tests)."""
    return TrusteePrivateKeys(rng.randbytes(32), rng.randbytes(32))
