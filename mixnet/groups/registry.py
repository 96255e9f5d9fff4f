"""The named parameter sets tohyo knows (docs/protocol.md §1.4).

Production sets give at least 128-bit security and are the only ones an election manifest may
name. The 2048-bit safe-prime group (≈112-bit) exists for comparison with published benchmarks;
the small groups exist for fast tests. Neither kind is reachable from a production
configuration: `production_group` refuses them.
"""

from __future__ import annotations

from functools import cache
from typing import Any

from mixnet.errors import DecodeError, ParameterError
from mixnet.groups.base import Group
from mixnet.groups.modp import ModpGroup
from mixnet.groups.params import (
    GroupParameters,
    _schnorr_start,
    check_generation,
    expand_seed,
    standard_safe_prime,
)

__all__ = [
    "DEFAULT_GROUP",
    "PRODUCTION_GROUPS",
    "TEST_GROUPS",
    "get_group",
    "group_from_description",
    "production_group",
]

DEFAULT_GROUP = "tohyo-schnorr-3072-256"


def _schnorr(
    name: str, seed: bytes, p_bits: int, q_bits: int, counter: int, g_counter: int, production: bool
) -> GroupParameters:
    q, r0 = _schnorr_start(seed, p_bits, q_bits)
    r = r0 + 2 * counter
    p = 2 * q * r + 1
    h = expand_seed(seed, f"g{g_counter}", p.bit_length() + 128) % p
    g = pow(h, 2 * r, p)
    generation = {
        "method": "tohyo-seed-v1",
        "seed": seed.hex(),
        "p_bits": p_bits,
        "q_bits": q_bits,
        "counter": counter,
        "g_counter": g_counter,
    }
    security = 128 if p_bits >= 3072 and q_bits >= 256 else 0
    return GroupParameters(name, "modp-schnorr", p, q, g, security, production, generation)


def _safe(name: str, seed: bytes, bits: int, counter: int) -> GroupParameters:
    start = expand_seed(seed, "q", bits - 1) | (1 << (bits - 2)) | 1
    q = start + 2 * counter
    generation = {"method": "tohyo-seed-v1", "seed": seed.hex(), "bits": bits, "counter": counter}
    return GroupParameters(name, "modp-safe", 2 * q + 1, q, 4, 0, False, generation)


_BUILDERS: dict[str, Any] = {
    # production, ≥ 128-bit
    "ffdhe3072": lambda: standard_safe_prime("ffdhe3072", "rfc7919", 3072, production=True),
    "tohyo-schnorr-3072-256": lambda: _schnorr(
        "tohyo-schnorr-3072-256", b"tohyo schnorr group 3072/256 v1", 3072, 256, 614781, 0, True
    ),
    # comparison with published benchmarks (≈112-bit)
    "modp2048": lambda: standard_safe_prime("modp2048", "rfc3526", 2048, production=False),
    # tests only
    "test-safe-256": lambda: _safe("test-safe-256", b"tohyo test safe prime 256 v1", 256, 13487),
    "test-schnorr-512-128": lambda: _schnorr(
        "test-schnorr-512-128", b"tohyo test schnorr group 512/128 v1", 512, 128, 6758, 0, False
    ),
    "test-schnorr-1024-160": lambda: _schnorr(
        "test-schnorr-1024-160",
        b"tohyo test schnorr group 1024/160 v1",
        1024,
        160,
        62399,
        0,
        False,
    ),
}

PRODUCTION_GROUPS = ("tohyo-schnorr-3072-256", "ffdhe3072")
TEST_GROUPS = ("test-safe-256", "test-schnorr-512-128", "test-schnorr-1024-160")

_EXTRA: dict[str, Any] = {}


def register_group(name: str, builder: Any) -> None:
    """Add a parameter set by name (used by other group families, e.g. elliptic curves)."""
    _EXTRA[name] = builder


@cache
def get_group(name: str) -> Group:
    """The group with this name (any kind, including test groups)."""
    if name in _BUILDERS:
        return ModpGroup(_BUILDERS[name]())
    if name in _EXTRA:
        group: Group = _EXTRA[name]()
        return group
    raise ParameterError(f"unknown group {name!r}")


def known_groups() -> list[str]:
    return [*_BUILDERS, *_EXTRA]


def production_group(name: str) -> Group:
    """A group an election may use: ≥ 128-bit and marked for production, else refused."""
    group = get_group(name)
    if not group.production or group.security_bits < 128:
        raise ParameterError(f"group {name!r} is for tests or benchmarks only")
    return group


def group_from_description(description: object, *, recheck: bool = False) -> Group:
    """The named group, after checking that `description` matches it exactly.

    With `recheck`, the parameters are re-derived from their generation record and tested for
    primality (what the verifier does).
    """
    if not isinstance(description, dict) or not isinstance(description.get("name"), str):
        raise DecodeError("a group description is an object with a name")
    try:
        group = get_group(description["name"])
    except ParameterError as exc:
        raise DecodeError(str(exc)) from exc
    if group.description() != description:
        raise DecodeError(f"description of {description['name']!r} differs from the standard")
    if recheck:
        if isinstance(group, ModpGroup):
            check_generation(group.params)
        else:
            check = getattr(group, "check_parameters", None)
            if check is None:
                raise ParameterError(f"no way to re-check the parameters of {group.name!r}")
            check()
    return group


__all__ += ["known_groups", "register_group"]
