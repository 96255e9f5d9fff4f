"""Shared fixtures of the verifier's integration tests: one whole election, exported once."""

from __future__ import annotations

import sys
from pathlib import Path

import pytest

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))  # election_helpers

from election_helpers import Election, ElectionRun, exported_election


@pytest.fixture(scope="session")
def election_record(tmp_path_factory: pytest.TempPathFactory) -> tuple[Election, ElectionRun, Path]:
    """(keys and manifest, what happened, the export directory) — copy before changing it."""
    return exported_election(tmp_path_factory.mktemp("election"))
