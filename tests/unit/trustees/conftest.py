"""Fixtures for the trustees' unit tests: a group per test group name, configs and honest
ceremonies per (group, t, n), computed once per session."""

from __future__ import annotations

import pytest
from trustees_unit_support import GROUPS, SIZES

from mixnet.groups import Group, get_group
from trustees.config import CeremonyConfig, TrusteePrivateKeys
from trustees.testing import CeremonyRun, make_config, run_ceremony

_RUNS: dict[tuple[str, int, int], tuple[CeremonyConfig, list[TrusteePrivateKeys], CeremonyRun]] = {}


@pytest.fixture(params=GROUPS)
def group(request: pytest.FixtureRequest) -> Group:
    return get_group(request.param)


@pytest.fixture(params=SIZES, ids=lambda s: f"t{s[0]}n{s[1]}")
def size(request: pytest.FixtureRequest) -> tuple[int, int]:
    return request.param


def honest(
    group: Group, t: int, n: int
) -> tuple[CeremonyConfig, list[TrusteePrivateKeys], CeremonyRun]:
    key = (group.name, t, n)
    if key not in _RUNS:
        config, keys = make_config(group, t, n)
        _RUNS[key] = (config, keys, run_ceremony(config, keys))
    return _RUNS[key]


@pytest.fixture
def ceremony(
    group: Group, size: tuple[int, int]
) -> tuple[CeremonyConfig, list[TrusteePrivateKeys], CeremonyRun]:
    """An honest ceremony, shared by the tests that only read it."""
    return honest(group, *size)
