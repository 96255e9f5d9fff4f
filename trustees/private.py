"""What a trustee must keep secret, as one value (docs/trustees.md §6).

Pure data and its JSON form; `trustees.keystore` encrypts it at rest.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

from mixnet.encoding import bytes_from_hex
from mixnet.errors import DecodeError
from mixnet.groups import Group, get_group
from trustees.config import TrusteeKeys, TrusteePrivateKeys, _index
from trustees.dkg import Polynomial

__all__ = ["TrusteeSecrets", "decode_secrets"]


@dataclass(frozen=True)
class TrusteeSecrets:
    """Everything trustee j must keep secret. The repr shows only public facts.

    `polynomial` is f_j (kept from dealing until the ceremony ends); `share` is x_j.
    """

    trustee: int
    election: bytes
    group: str
    keys: TrusteePrivateKeys = field(repr=False)
    polynomial: tuple[int, ...] | None = field(default=None, repr=False)
    share: int | None = field(default=None, repr=False)

    def __repr__(self) -> str:
        return (
            f"TrusteeSecrets(trustee={self.trustee}, election={self.election.hex()[:16]}…, "
            f"group={self.group}, polynomial={'<hidden>' if self.polynomial else None}, "
            f"share={'<hidden>' if self.share is not None else None})"
        )

    __str__ = __repr__

    def public(self) -> TrusteeKeys:
        return self.keys.public(self.trustee)

    def group_object(self) -> Group:
        return get_group(self.group)

    def polynomial_object(self) -> Polynomial | None:
        if self.polynomial is None:
            return None
        g = self.group_object()
        return Polynomial(tuple(g.scalar(a) for a in self.polynomial))

    def secret_json(self) -> dict[str, Any]:
        return {
            "x25519": self.keys.x25519.hex(),
            "ed25519": self.keys.ed25519.hex(),
            "polynomial": None if self.polynomial is None else [hex(a) for a in self.polynomial],
            "share": None if self.share is None else hex(self.share),
        }

    def public_json(self) -> dict[str, Any]:
        pub = self.public()
        return {
            "trustee": self.trustee,
            "election": self.election.hex(),
            "group": self.group,
            "x25519": pub.x25519_public.hex(),
            "ed25519": pub.ed25519_public.hex(),
        }


def _parse_int_hex(value: object, what: str) -> int:
    if not isinstance(value, str) or not value.startswith("0x"):
        raise DecodeError(f"{what} is 0x-prefixed hex")
    try:
        n = int(value, 16)
    except ValueError as exc:
        raise DecodeError(f"{what} is not hex") from exc
    if hex(n) != value:
        raise DecodeError(f"{what} is not in canonical hex")
    return n


def decode_secrets(public: object, secret: object) -> TrusteeSecrets:
    if not isinstance(public, dict) or set(public) != {
        "trustee",
        "election",
        "group",
        "x25519",
        "ed25519",
    }:
        raise DecodeError("malformed public part")
    if not isinstance(secret, dict) or set(secret) != {"x25519", "ed25519", "polynomial", "share"}:
        raise DecodeError("malformed secret part")
    keys = TrusteePrivateKeys(
        bytes_from_hex(secret["x25519"], 32, "the X25519 key"),
        bytes_from_hex(secret["ed25519"], 32, "the Ed25519 key"),
    )
    poly = secret["polynomial"]
    if poly is not None and (not isinstance(poly, list) or not poly):
        raise DecodeError("the polynomial is a non-empty list")
    if not isinstance(public["group"], str):
        raise DecodeError("the group is a name")
    out = TrusteeSecrets(
        _index(public["trustee"], "trustee"),
        bytes_from_hex(public["election"], 32, "the election fingerprint"),
        public["group"],
        keys,
        None if poly is None else tuple(_parse_int_hex(a, "a coefficient") for a in poly),
        None if secret["share"] is None else _parse_int_hex(secret["share"], "the share"),
    )
    if out.public_json() != public:
        raise DecodeError("the public keys do not match the private keys")
    return out
