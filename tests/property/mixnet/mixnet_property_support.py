"""Shared helpers for the mix-net property tests: which groups to run over, how to build
elements outside the subgroup, and how to assert that a check with a given name failed."""

from __future__ import annotations

import importlib
import pkgutil
from collections.abc import Callable
from typing import Any

import gmpy2
import pytest
from hypothesis import strategies as st

import mixnet.groups
from mixnet.errors import DecodeError, VerificationError
from mixnet.groups import TEST_GROUPS, Group, ModpGroup, get_group, known_groups
from mixnet.groups.base import Element


def load_group_families() -> None:
    """Import every module of `mixnet.groups`: a family (e.g. elliptic curves) registers its
    groups on import, and the tests run over whatever is registered."""
    for info in pkgutil.iter_modules(mixnet.groups.__path__):
        importlib.import_module(f"mixnet.groups.{info.name}")


load_group_families()

#: The test groups, and every registered group with at most 64-byte elements (curves when
#: registered): small enough for many Hypothesis examples.
SMALL_ELEMENT_BYTES = 64
SMALL_GROUPS = list(
    dict.fromkeys(
        [
            *TEST_GROUPS,
            *(n for n in known_groups() if get_group(n).element_bytes <= SMALL_ELEMENT_BYTES),
        ]
    )
)
#: The small groups that are subgroups of Z_p^* (where non-members can be written down).
SMALL_MODP_GROUPS = [n for n in SMALL_GROUPS if isinstance(get_group(n), ModpGroup)]
#: The real-size group for the one slow case per proof.
BIG_GROUP = "modp2048"

seeds = st.integers(min_value=0, max_value=2**64 - 1)


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


def non_member(group: Group, kind: str) -> Element:
    """An `Element` built with the internal constructor, bypassing every decoding check."""
    return Element(group, dict(non_member_values(group))[kind])


def non_member_kinds(group_names: list[str]) -> list[tuple[str, str]]:
    return [(n, kind) for n in group_names for kind, _ in non_member_values(get_group(n))]


def expect_check(prefix: str, fn: Callable[[], object]) -> VerificationError:
    """Run `fn`; it must raise `VerificationError` whose check name starts with `prefix`."""
    with pytest.raises(VerificationError) as info:
        fn()
    assert info.value.check.startswith(prefix), info.value.check
    return info.value


def expect_decode_error(fn: Callable[[], object]) -> DecodeError:
    with pytest.raises(DecodeError) as info:
        fn()
    return info.value


def other_element(group: Group, avoid: Element, salt: bytes) -> Element:
    """A subgroup element different from `avoid`, with no known relation to it."""
    e = group.hash_to_element(b"tohyo-tests/other-element/" + salt)
    return e * group.generator() if e == avoid else e


def bump(value: int, modulus: int) -> int:
    """A different value in [0, modulus)."""
    return (value + 1) % modulus
