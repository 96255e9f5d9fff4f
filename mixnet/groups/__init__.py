"""Prime-order groups behind one interface (docs/protocol.md §1)."""

import mixnet.groups.ec  # noqa: F401  (registers the "secp256k1" group)
from mixnet.groups.base import Element, Group, Scalar
from mixnet.groups.modp import ModpGroup
from mixnet.groups.params import GroupParameters, check_generation
from mixnet.groups.registry import (
    DEFAULT_GROUP,
    PRODUCTION_GROUPS,
    TEST_GROUPS,
    get_group,
    group_from_description,
    known_groups,
    production_group,
    register_group,
)

__all__ = [
    "DEFAULT_GROUP",
    "PRODUCTION_GROUPS",
    "TEST_GROUPS",
    "Element",
    "Group",
    "GroupParameters",
    "ModpGroup",
    "Scalar",
    "check_generation",
    "get_group",
    "group_from_description",
    "known_groups",
    "production_group",
    "register_group",
]
