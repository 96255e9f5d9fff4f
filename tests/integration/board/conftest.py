from __future__ import annotations

import asyncio
from collections.abc import Iterator
from pathlib import Path

import pytest

from bulletin_board.storage import PostgresStorage, SqliteStorage, Storage
from bulletin_board.testing import fresh_database, postgres_dsn


@pytest.fixture(params=["sqlite", pytest.param("postgres", marks=pytest.mark.postgres)])
def storage_url(request: pytest.FixtureRequest, tmp_path: Path) -> Iterator[str]:
    if request.param == "sqlite":
        yield str(tmp_path / "board.sqlite")
    else:
        yield asyncio.run(fresh_database(postgres_dsn()))


def make_storage(url: str) -> Storage:
    if url.startswith("postgresql://"):
        return PostgresStorage(url)
    return SqliteStorage(url)
