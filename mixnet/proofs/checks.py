"""The first check of every Σ-proof verifier: all values of one group, all elements members."""

from __future__ import annotations

from collections.abc import Sequence

from mixnet.errors import VerificationError
from mixnet.groups.base import Element, Group, Scalar
from mixnet.rng import RandomSource

__all__ = ["check_values"]


def check_values(
    group: Group,
    elements: Sequence[Element],
    scalars: Sequence[Scalar],
    rng: RandomSource,
    *,
    check: str,
) -> None:
    """Raise `VerificationError("<check> group")` if a value belongs to another group, and
    `VerificationError("<check> membership")` if an element is outside the subgroup."""
    foreign = any(e.group != group for e in elements)
    if foreign or any(s.group.order != group.order for s in scalars):
        raise VerificationError(f"{check} group", "values from another group")
    group.check_members(elements, rng, check=f"{check} membership")
