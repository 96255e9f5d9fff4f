"""The storage parameter: every test using `storage_url` runs on SQLite and PostgreSQL."""

from __future__ import annotations

import asyncio
from collections.abc import Iterator
from pathlib import Path

import pytest

from bulletin_board.testing import drop_database, fresh_database, postgres_dsn


@pytest.fixture(params=["sqlite", pytest.param("postgres", marks=pytest.mark.postgres)])
def storage_url(request: pytest.FixtureRequest, tmp_path: Path) -> Iterator[str]:
    if request.param == "sqlite":
        yield str(tmp_path / "board.sqlite")
    else:
        server = postgres_dsn()
        database = asyncio.run(fresh_database(server))
        yield database
        asyncio.run(drop_database(server, database))
