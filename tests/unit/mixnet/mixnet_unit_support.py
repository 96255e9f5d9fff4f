"""Helpers for the mix-net unit tests: group lists and elements outside the subgroup."""

from __future__ import annotations

import importlib
import pkgutil
from typing import Any

import gmpy2

import mixnet.groups
from mixnet.groups import TEST_GROUPS, Group, ModpGroup, get_group, known_groups


def load_group_families() -> None:
    """Import every module of `mixnet.groups`: a family (e.g. elliptic curves) registers its
    groups on import, and the tests run over whatever is registered."""
    for info in pkgutil.iter_modules(mixnet.groups.__path__):
        importlib.import_module(f"mixnet.groups.{info.name}")


load_group_families()

SMALL_ELEMENT_BYTES = 64
ALL_GROUPS = known_groups()
SMALL_GROUPS = list(
    dict.fromkeys(
        [
            *TEST_GROUPS,
            *(n for n in known_groups() if get_group(n).element_bytes <= SMALL_ELEMENT_BYTES),
        ]
    )
)
MODP_GROUPS = [n for n in ALL_GROUPS if isinstance(get_group(n), ModpGroup)]
SMALL_MODP_GROUPS = [n for n in SMALL_GROUPS if n in MODP_GROUPS]


def non_member_values(group: Group) -> list[tuple[str, Any]]:
    """Values of Z_p^* outside the order-q subgroup: p − 1 (order 2), the smallest quadratic
    non-residue, and in Schnorr groups p = 2qr + 1 a residue of order r."""
    assert isinstance(group, ModpGroup)
    p, q = group.p, group.q
    out: list[tuple[str, Any]] = [("order-2", p - 1)]
    x = gmpy2.mpz(2)
    while gmpy2.legendre(x, p) != -1:
        x += 1
    out.append(("non-residue", x))
    if group.family == "modp-schnorr":
        y = gmpy2.mpz(3)
        while gmpy2.powmod(y, 2 * q, p) == 1:
            y += 1
        out.append(("order-r", gmpy2.powmod(y, 2 * q, p)))
    for _, v in out:
        assert gmpy2.powmod(v, q, p) != 1
    return out


def modp(name: str) -> ModpGroup:
    group = get_group(name)
    assert isinstance(group, ModpGroup)
    return group
