"""Durable storage of board records behind one async interface (docs/board.md §7).

Two backends: `SqliteStorage` (embedded default; WAL journal with synchronous=FULL, so a
returned `append` is on disk) and `PostgresStorage` (asyncpg; a commit returns after the WAL is
flushed with the server's default synchronous_commit=on). `open_storage(url)` picks one.

Storage knows nothing of signatures or policies: it keeps, per election, the entry bytes with
their leaf hashes at consecutive indices, signed tree heads by tree size, and co-signatures.
`append` and `append_batch` are atomic (entries and their tree heads commit together) and
refuse any index other than the next one, so two writers can never fork a log.
"""

from __future__ import annotations

import asyncio
import sqlite3
from collections.abc import Sequence
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path
from typing import Any, Protocol

__all__ = [
    "PostgresStorage",
    "SqliteStorage",
    "Storage",
    "StorageConflictError",
    "open_storage",
]


class StorageConflictError(Exception):
    """The index is not the next one of the election (another writer, or a bug)."""


class Storage(Protocol):
    async def open(self) -> None: ...

    async def close(self) -> None: ...

    async def elections(self) -> list[str]: ...

    async def size(self, election: str) -> int: ...

    async def append(
        self,
        election: str,
        index: int,
        entry: bytes,
        leaf_hash: bytes,
        tree_head: bytes | None = None,
    ) -> None:
        """Store entry `index` (must be the current size) and, if given, the tree head of
        size index + 1, in one transaction; durable when this returns."""
        ...

    async def append_batch(
        self, election: str, index: int, rows: Sequence[tuple[bytes, bytes, bytes | None]]
    ) -> None:
        """Store rows (entry, leaf hash, tree head of the size it makes or None) at index,
        index + 1, … (index must be the current size) in one transaction; durable when this
        returns."""
        ...

    async def entries(self, election: str, start: int, end: int) -> list[bytes]: ...

    async def leaf_hashes(self, election: str) -> list[bytes]: ...

    async def put_tree_head(self, election: str, tree_size: int, tree_head: bytes) -> None:
        """Store a tree head unless one of that size is stored already."""
        ...

    async def tree_head(self, election: str, tree_size: int | None = None) -> bytes | None:
        """The tree head of that size (default: the largest stored)."""
        ...

    async def tree_heads(self, election: str, start_size: int, limit: int) -> list[bytes]:
        """Stored tree heads with tree_size ≥ start_size, by size, at most `limit`."""
        ...

    async def add_cosignature(
        self, election: str, tree_size: int, signer: str, signature: bytes
    ) -> None: ...

    async def cosignatures(self, election: str, tree_size: int) -> list[tuple[str, bytes]]: ...

    async def cosignatures_between(
        self, election: str, first_size: int, last_size: int
    ) -> list[tuple[int, str, bytes]]:
        """(tree_size, signer, signature) for first_size ≤ tree_size ≤ last_size."""
        ...


SCHEMA = (
    """CREATE TABLE IF NOT EXISTS board_entries (
        election TEXT NOT NULL, idx BIGINT NOT NULL, leaf_hash {blob} NOT NULL,
        data {blob} NOT NULL, PRIMARY KEY (election, idx))""",
    """CREATE TABLE IF NOT EXISTS board_tree_heads (
        election TEXT NOT NULL, tree_size BIGINT NOT NULL, data {blob} NOT NULL,
        PRIMARY KEY (election, tree_size))""",
    """CREATE TABLE IF NOT EXISTS board_cosignatures (
        election TEXT NOT NULL, tree_size BIGINT NOT NULL, signer TEXT NOT NULL,
        signature {blob} NOT NULL, PRIMARY KEY (election, tree_size, signer))""",
)


_NEXT_INDEX = "SELECT COALESCE(MAX(idx) + 1, 0) FROM board_entries WHERE election = ?"


class SqliteStorage:
    """SQLite in WAL mode with synchronous=FULL; all calls run on one worker thread."""

    def __init__(self, path: str | Path) -> None:
        self.path = str(path)
        self._executor: ThreadPoolExecutor | None = None
        self._db: sqlite3.Connection | None = None

    async def _run(self, fn: Any, *args: Any) -> Any:
        if self._executor is None:
            raise RuntimeError("storage is not open")
        return await asyncio.get_running_loop().run_in_executor(self._executor, fn, *args)

    def _open(self) -> None:
        db = sqlite3.connect(self.path, isolation_level=None, check_same_thread=False)
        db.execute("PRAGMA journal_mode=WAL")
        db.execute("PRAGMA synchronous=FULL")
        db.execute("PRAGMA busy_timeout=10000")
        for stmt in SCHEMA:
            db.execute(stmt.format(blob="BLOB"))
        self._db = db

    async def open(self) -> None:
        self._executor = ThreadPoolExecutor(max_workers=1, thread_name_prefix="board-sqlite")
        await self._run(self._open)

    async def close(self) -> None:
        if self._executor is None:
            return
        if self._db is not None:
            await self._run(self._db.close)
        self._executor.shutdown(wait=True)
        self._executor = None
        self._db = None

    @property
    def db(self) -> sqlite3.Connection:
        assert self._db is not None
        return self._db

    def _query(self, sql: str, args: Sequence[Any] = ()) -> list[Any]:
        return self.db.execute(sql, args).fetchall()

    async def elections(self) -> list[str]:
        rows = await self._run(
            self._query, "SELECT DISTINCT election FROM board_entries ORDER BY election"
        )
        return [r[0] for r in rows]

    async def size(self, election: str) -> int:
        rows = await self._run(self._query, _NEXT_INDEX, (election,))
        return int(rows[0][0])

    def _append(
        self,
        election: str,
        index: int,
        rows: Sequence[tuple[bytes, bytes, bytes | None]],
    ) -> None:
        db = self.db
        db.execute("BEGIN IMMEDIATE")
        try:
            (n,) = db.execute(_NEXT_INDEX, (election,)).fetchone()
            if n != index:
                raise StorageConflictError(f"{election}: next index is {n}, not {index}")
            db.executemany(
                "INSERT INTO board_entries (election, idx, leaf_hash, data) VALUES (?, ?, ?, ?)",
                [(election, index + k, leaf, e) for k, (e, leaf, _) in enumerate(rows)],
            )
            db.executemany(
                "INSERT OR IGNORE INTO board_tree_heads (election, tree_size, data) "
                "VALUES (?, ?, ?)",
                [(election, index + k + 1, h) for k, (_, _, h) in enumerate(rows) if h],
            )
            db.execute("COMMIT")
        except BaseException:
            db.execute("ROLLBACK")
            raise

    async def append(
        self,
        election: str,
        index: int,
        entry: bytes,
        leaf_hash: bytes,
        tree_head: bytes | None = None,
    ) -> None:
        await self._run(self._append, election, index, [(entry, leaf_hash, tree_head)])

    async def append_batch(
        self, election: str, index: int, rows: Sequence[tuple[bytes, bytes, bytes | None]]
    ) -> None:
        await self._run(self._append, election, index, rows)

    async def entries(self, election: str, start: int, end: int) -> list[bytes]:
        rows = await self._run(
            self._query,
            "SELECT data FROM board_entries WHERE election = ? AND idx >= ? AND idx < ? "
            "ORDER BY idx",
            (election, start, end),
        )
        return [bytes(r[0]) for r in rows]

    async def leaf_hashes(self, election: str) -> list[bytes]:
        rows = await self._run(
            self._query,
            "SELECT leaf_hash FROM board_entries WHERE election = ? ORDER BY idx",
            (election,),
        )
        return [bytes(r[0]) for r in rows]

    async def put_tree_head(self, election: str, tree_size: int, tree_head: bytes) -> None:
        await self._run(
            self._query,
            "INSERT OR IGNORE INTO board_tree_heads (election, tree_size, data) VALUES (?, ?, ?)",
            (election, tree_size, tree_head),
        )

    async def tree_head(self, election: str, tree_size: int | None = None) -> bytes | None:
        if tree_size is None:
            sql = (
                "SELECT data FROM board_tree_heads WHERE election = ? "
                "ORDER BY tree_size DESC LIMIT 1"
            )
            rows = await self._run(self._query, sql, (election,))
        else:
            sql = "SELECT data FROM board_tree_heads WHERE election = ? AND tree_size = ?"
            rows = await self._run(self._query, sql, (election, tree_size))
        return bytes(rows[0][0]) if rows else None

    async def tree_heads(self, election: str, start_size: int, limit: int) -> list[bytes]:
        rows = await self._run(
            self._query,
            "SELECT data FROM board_tree_heads WHERE election = ? AND tree_size >= ? "
            "ORDER BY tree_size LIMIT ?",
            (election, start_size, limit),
        )
        return [bytes(r[0]) for r in rows]

    async def add_cosignature(
        self, election: str, tree_size: int, signer: str, signature: bytes
    ) -> None:
        await self._run(
            self._query,
            "INSERT OR IGNORE INTO board_cosignatures (election, tree_size, signer, signature) "
            "VALUES (?, ?, ?, ?)",
            (election, tree_size, signer, signature),
        )

    async def cosignatures(self, election: str, tree_size: int) -> list[tuple[str, bytes]]:
        rows = await self._run(
            self._query,
            "SELECT signer, signature FROM board_cosignatures WHERE election = ? "
            "AND tree_size = ? ORDER BY signer",
            (election, tree_size),
        )
        return [(r[0], bytes(r[1])) for r in rows]

    async def cosignatures_between(
        self, election: str, first_size: int, last_size: int
    ) -> list[tuple[int, str, bytes]]:
        rows = await self._run(
            self._query,
            "SELECT tree_size, signer, signature FROM board_cosignatures WHERE election = ? "
            "AND tree_size >= ? AND tree_size <= ? ORDER BY tree_size, signer",
            (election, first_size, last_size),
        )
        return [(int(r[0]), r[1], bytes(r[2])) for r in rows]


class PostgresStorage:
    """PostgreSQL through an asyncpg pool. A commit is durable (synchronous_commit=on)."""

    def __init__(self, dsn: str, *, max_connections: int = 8) -> None:
        self.dsn = dsn
        self.max_connections = max_connections
        self._pool: Any = None

    async def open(self) -> None:
        import asyncpg

        self._pool = await asyncpg.create_pool(
            self.dsn,
            min_size=1,
            max_size=self.max_connections,
            server_settings={"synchronous_commit": "on"},
        )
        async with self._pool.acquire() as conn:
            # one creator at a time, so parallel first starts do not race on CREATE TABLE
            async with conn.transaction():
                await conn.execute("SELECT pg_advisory_xact_lock(7001001)")
                for stmt in SCHEMA:
                    await conn.execute(stmt.format(blob="BYTEA"))

    async def close(self) -> None:
        if self._pool is not None:
            await self._pool.close()
            self._pool = None

    @property
    def pool(self) -> Any:
        if self._pool is None:
            raise RuntimeError("storage is not open")
        return self._pool

    async def elections(self) -> list[str]:
        rows = await self.pool.fetch(
            "SELECT DISTINCT election FROM board_entries ORDER BY election"
        )
        return [r[0] for r in rows]

    async def size(self, election: str) -> int:
        return int(await self.pool.fetchval(_NEXT_INDEX.replace("?", "$1"), election))

    async def append(
        self,
        election: str,
        index: int,
        entry: bytes,
        leaf_hash: bytes,
        tree_head: bytes | None = None,
    ) -> None:
        await self.append_batch(election, index, [(entry, leaf_hash, tree_head)])

    async def append_batch(
        self, election: str, index: int, rows: Sequence[tuple[bytes, bytes, bytes | None]]
    ) -> None:
        import asyncpg

        async with self.pool.acquire() as conn, conn.transaction():
            n = await conn.fetchval(_NEXT_INDEX.replace("?", "$1"), election)
            if n != index:
                raise StorageConflictError(f"{election}: next index is {n}, not {index}")
            try:
                await conn.executemany(
                    "INSERT INTO board_entries (election, idx, leaf_hash, data) "
                    "VALUES ($1, $2, $3, $4)",
                    [(election, index + k, leaf, e) for k, (e, leaf, _) in enumerate(rows)],
                )
            except asyncpg.UniqueViolationError as exc:
                raise StorageConflictError(f"{election}: index {index} is taken") from exc
            heads = [(election, index + k + 1, h) for k, (_, _, h) in enumerate(rows) if h]
            if heads:
                await conn.executemany(
                    "INSERT INTO board_tree_heads (election, tree_size, data) "
                    "VALUES ($1, $2, $3) ON CONFLICT DO NOTHING",
                    heads,
                )

    async def entries(self, election: str, start: int, end: int) -> list[bytes]:
        rows = await self.pool.fetch(
            "SELECT data FROM board_entries WHERE election = $1 AND idx >= $2 AND idx < $3 "
            "ORDER BY idx",
            election,
            start,
            end,
        )
        return [bytes(r[0]) for r in rows]

    async def leaf_hashes(self, election: str) -> list[bytes]:
        rows = await self.pool.fetch(
            "SELECT leaf_hash FROM board_entries WHERE election = $1 ORDER BY idx", election
        )
        return [bytes(r[0]) for r in rows]

    async def put_tree_head(self, election: str, tree_size: int, tree_head: bytes) -> None:
        await self.pool.execute(
            "INSERT INTO board_tree_heads (election, tree_size, data) VALUES ($1, $2, $3) "
            "ON CONFLICT DO NOTHING",
            election,
            tree_size,
            tree_head,
        )

    async def tree_head(self, election: str, tree_size: int | None = None) -> bytes | None:
        if tree_size is None:
            value = await self.pool.fetchval(
                "SELECT data FROM board_tree_heads WHERE election = $1 "
                "ORDER BY tree_size DESC LIMIT 1",
                election,
            )
        else:
            value = await self.pool.fetchval(
                "SELECT data FROM board_tree_heads WHERE election = $1 AND tree_size = $2",
                election,
                tree_size,
            )
        return None if value is None else bytes(value)

    async def tree_heads(self, election: str, start_size: int, limit: int) -> list[bytes]:
        rows = await self.pool.fetch(
            "SELECT data FROM board_tree_heads WHERE election = $1 AND tree_size >= $2 "
            "ORDER BY tree_size LIMIT $3",
            election,
            start_size,
            limit,
        )
        return [bytes(r[0]) for r in rows]

    async def add_cosignature(
        self, election: str, tree_size: int, signer: str, signature: bytes
    ) -> None:
        await self.pool.execute(
            "INSERT INTO board_cosignatures (election, tree_size, signer, signature) "
            "VALUES ($1, $2, $3, $4) ON CONFLICT DO NOTHING",
            election,
            tree_size,
            signer,
            signature,
        )

    async def cosignatures(self, election: str, tree_size: int) -> list[tuple[str, bytes]]:
        rows = await self.pool.fetch(
            "SELECT signer, signature FROM board_cosignatures WHERE election = $1 "
            "AND tree_size = $2 ORDER BY signer",
            election,
            tree_size,
        )
        return [(r[0], bytes(r[1])) for r in rows]

    async def cosignatures_between(
        self, election: str, first_size: int, last_size: int
    ) -> list[tuple[int, str, bytes]]:
        rows = await self.pool.fetch(
            "SELECT tree_size, signer, signature FROM board_cosignatures WHERE election = $1 "
            "AND tree_size >= $2 AND tree_size <= $3 ORDER BY tree_size, signer",
            election,
            first_size,
            last_size,
        )
        return [(int(r[0]), r[1], bytes(r[2])) for r in rows]


def open_storage(url: str) -> Storage:
    """`postgresql://…` or `postgres://…` selects PostgreSQL; anything else is a SQLite path."""
    if url.startswith(("postgresql://", "postgres://")):
        return PostgresStorage(url)
    if url.startswith("sqlite:///"):
        url = url[len("sqlite://") :]
    return SqliteStorage(url)
