"""Shared helpers for the mix-net property tests: elements outside the subgroup, and how to
assert that a check with a given name failed (group lists: tests/mixnet_support.py)."""

from __future__ import annotations

from collections.abc import Callable

import pytest
from hypothesis import strategies as st

from mixnet.errors import DecodeError, VerificationError
from mixnet.groups import Group, get_group
from mixnet.groups.base import Element
from tests.mixnet_support import non_member_values

#: The real-size group for the one slow case per proof.
BIG_GROUP = "modp2048"

seeds = st.integers(min_value=0, max_value=2**64 - 1)


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
