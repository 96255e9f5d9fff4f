"""Fixtures shared by the trustee daemon tests."""

from __future__ import annotations

from collections.abc import Iterator

import pytest
from daemon_support import BoardProcess


@pytest.fixture(scope="module")
def board(tmp_path_factory: pytest.TempPathFactory) -> Iterator[BoardProcess]:
    """One board process (election policy) per test module."""
    process = BoardProcess(tmp_path_factory.mktemp("board"))
    process.start()
    yield process
    process.stop()
