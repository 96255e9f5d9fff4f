"""One storage suite, run against SQLite files and a real PostgreSQL server."""

from __future__ import annotations

import asyncio
import hashlib
import sqlite3

import pytest

from bulletin_board.storage import SqliteStorage, StorageConflictError, open_storage


def leaf(i: int) -> bytes:
    return hashlib.sha256(b"leaf%d" % i).digest()


def test_append_and_read(storage_url: str) -> None:
    async def main() -> None:
        s = open_storage(storage_url)
        await s.open()
        try:
            assert await s.elections() == []
            assert await s.size("e1") == 0
            assert await s.tree_head("e1") is None
            for i in range(5):
                await s.append("e1", i, b"entry%d" % i, leaf(i), b"head%d" % (i + 1))
            await s.append("e2", 0, b"other", leaf(99))
            assert await s.elections() == ["e1", "e2"]
            assert await s.size("e1") == 5
            assert await s.size("e2") == 1
            assert await s.entries("e1", 1, 3) == [b"entry1", b"entry2"]
            assert await s.entries("e1", 3, 100) == [b"entry3", b"entry4"]
            assert await s.entries("e1", 7, 9) == []
            assert await s.leaf_hashes("e1") == [leaf(i) for i in range(5)]
            assert await s.tree_head("e1") == b"head5"
            assert await s.tree_head("e1", 2) == b"head2"
            assert await s.tree_head("e2") is None
            assert await s.tree_heads("e1", 2, 2) == [b"head2", b"head3"]
        finally:
            await s.close()

    asyncio.run(main())


def test_append_refuses_any_other_index(storage_url: str) -> None:
    async def main() -> None:
        s = open_storage(storage_url)
        await s.open()
        try:
            await s.append("e", 0, b"a", leaf(0), b"h1")
            for bad in (0, 2, 5):
                with pytest.raises(StorageConflictError):
                    await s.append("e", bad, b"x", leaf(1), b"hx")
            assert await s.size("e") == 1
            assert await s.entries("e", 0, 10) == [b"a"]
            assert await s.tree_heads("e", 0, 10) == [b"h1"]
        finally:
            await s.close()

    asyncio.run(main())


def test_concurrent_appenders_never_fork(storage_url: str) -> None:
    async def main() -> None:
        a, b = open_storage(storage_url), open_storage(storage_url)
        await a.open()
        await b.open()
        try:
            outcomes = await asyncio.gather(
                *(st.append("e", 0, name, leaf(0)) for st, name in ((a, b"A"), (b, b"B"))),
                return_exceptions=True,
            )
            ok = [o for o in outcomes if o is None]
            assert len(ok) == 1
            assert await a.size("e") == 1
        finally:
            await a.close()
            await b.close()

    asyncio.run(main())


def test_tree_heads_and_cosignatures(storage_url: str) -> None:
    async def main() -> None:
        s = open_storage(storage_url)
        await s.open()
        try:
            await s.put_tree_head("e", 3, b"h3")
            await s.put_tree_head("e", 3, b"other")  # first one stays
            await s.put_tree_head("e", 1, b"h1")
            assert await s.tree_head("e") == b"h3"
            assert await s.tree_heads("e", 0, 10) == [b"h1", b"h3"]
            await s.add_cosignature("e", 3, "bb", b"sig-b")
            await s.add_cosignature("e", 3, "aa", b"sig-a")
            await s.add_cosignature("e", 3, "aa", b"sig-a")
            assert await s.cosignatures("e", 3) == [("aa", b"sig-a"), ("bb", b"sig-b")]
            assert await s.cosignatures("e", 1) == []
        finally:
            await s.close()

    asyncio.run(main())


def test_survives_reopen(storage_url: str) -> None:
    async def main() -> None:
        s = open_storage(storage_url)
        await s.open()
        for i in range(3):
            await s.append("e", i, b"x%d" % i, leaf(i), b"h%d" % (i + 1))
        await s.close()
        s = open_storage(storage_url)
        await s.open()
        try:
            assert await s.size("e") == 3
            assert await s.leaf_hashes("e") == [leaf(i) for i in range(3)]
            await s.append("e", 3, b"x3", leaf(3))
        finally:
            await s.close()

    asyncio.run(main())


def test_sqlite_is_durable_mode(tmp_path) -> None:
    async def main() -> None:
        s = SqliteStorage(tmp_path / "b.sqlite")
        await s.open()
        await s.append("e", 0, b"x", leaf(0))
        await s.close()

    asyncio.run(main())
    db = sqlite3.connect(tmp_path / "b.sqlite")
    assert db.execute("PRAGMA journal_mode").fetchone()[0] == "wal"


def test_open_storage_selects_backend() -> None:
    assert type(open_storage("postgresql://u@h/d")).__name__ == "PostgresStorage"
    assert type(open_storage("postgres://u@h/d")).__name__ == "PostgresStorage"
    s = open_storage("sqlite:///tmp/x.sqlite")
    assert isinstance(s, SqliteStorage) and s.path == "/tmp/x.sqlite"
    assert isinstance(open_storage("board.sqlite"), SqliteStorage)
