"""Group lists and non-members shared by the mix-net unit and property tests."""

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

#: The test groups, and every registered group with at most 64-byte elements (curves when
#: registered): small enough for many Hypothesis examples.
SMALL_ELEMENT_BYTES = 64
ALL_GROUPS = known_groups()
SMALL_GROUPS = list(
    dict.fromkeys(
        [
            *TEST_GROUPS,
            *(n for n in ALL_GROUPS if get_group(n).element_bytes <= SMALL_ELEMENT_BYTES),
        ]
    )
)
#: The groups that are subgroups of Z_p^* (where non-members can be written down).
MODP_GROUPS = [n for n in ALL_GROUPS if isinstance(get_group(n), ModpGroup)]
SMALL_MODP_GROUPS = [n for n in SMALL_GROUPS if n in MODP_GROUPS]


def modp(name: str) -> ModpGroup:
    group = get_group(name)
    assert isinstance(group, ModpGroup)
    return group


def non_member_values(group: Group) -> list[tuple[str, Any]]:
    """Raw values in Z_p^* outside the order-q subgroup, each with a label.

    - "order-2": p − 1;
    - "non-residue": the smallest quadratic non-residue;
    - "order-r" (Schnorr groups p = 2qr + 1 only): a quadratic residue of order r, which
      passes the Legendre test and is caught only by the full x^q = 1 test.
    """
    assert isinstance(group, ModpGroup)
    p, q = group.p, group.q
    out: list[tuple[str, Any]] = [("order-2", p - 1)]
    x = gmpy2.mpz(2)
    while gmpy2.legendre(x, p) != -1:
        x += 1
    out.append(("non-residue", x))
    if group.family == "modp-schnorr":
        r = (p - 1) // (2 * q)
        y = gmpy2.mpz(3)
        while True:
            z = gmpy2.powmod(y, 2 * q, p)  # order divides r
            if z != 1:
                break
            y += 1
        assert gmpy2.powmod(z, r, p) == 1 and gmpy2.powmod(z, q, p) != 1
        out.append(("order-r", z))
    for _, v in out:
        assert gmpy2.powmod(v, q, p) != 1
    return out
