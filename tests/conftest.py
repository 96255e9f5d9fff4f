"""Settings and fixtures every test process (and the processes it starts) shares."""

import asyncio
import os
from collections.abc import Iterator
from pathlib import Path

import pytest

from bulletin_board.testing import drop_database, fresh_database, postgres_dsn

# Key files written by `tohyo board …` are encrypted; tests use this passphrase throughout.
os.environ.setdefault("TOHYO_KEY_PASSPHRASE", "tohyo test key passphrase")

# The storage parameter: every test using `storage_url` runs on SQLite and PostgreSQL.
@pytest.fixture(params=["sqlite", pytest.param("postgres", marks=pytest.mark.postgres)])
def storage_url(request: pytest.FixtureRequest, tmp_path: Path) -> Iterator[str]:
    if request.param == "sqlite":
        yield str(tmp_path / "board.sqlite")
    else:
        server = postgres_dsn()
        database = asyncio.run(fresh_database(server))
        yield database
        asyncio.run(drop_database(server, database))
