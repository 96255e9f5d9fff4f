"""Helpers for tests of the board and of its users (not imported by the board itself).

- `postgres_dsn()`: the DSN of a PostgreSQL server for tests: `TOHYO_TEST_PG_DSN` if set,
  otherwise a throwaway cluster started once per process with `scripts/start-postgres.sh`
  (needs root and the `postgresql` package) and stopped at exit.
- `fresh_database(dsn)`: create an empty database on that server; returns its DSN.
- `Keys` / `registry_body`: keys and a default-policy registry for a test election.
"""

from __future__ import annotations

import atexit
import contextlib
import os
import re
import secrets
import shutil
import signal
import socket
import subprocess
import sys
import tempfile
import threading
from collections.abc import AsyncIterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit, urlunsplit

from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey

from bulletin_board.entry import Envelope, sign_envelope
from bulletin_board.log import public_key_hex

__all__ = [
    "BoardProcess",
    "Keys",
    "drop_database",
    "free_port",
    "fresh_database",
    "postgres_dsn",
    "registry_body",
    "running_board",
]

REPO = Path(__file__).resolve().parent.parent
_started: dict[str, str] = {}


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


def postgres_dsn() -> str:
    dsn = os.environ.get("TOHYO_TEST_PG_DSN")
    if dsn:
        return dsn
    if "dsn" in _started:
        return _started["dsn"]
    directory = tempfile.mkdtemp(prefix="tohyo-pg-")
    port = free_port()
    out = subprocess.run(
        [str(REPO / "scripts" / "start-postgres.sh"), directory, str(port)],
        check=True,
        capture_output=True,
        text=True,
        timeout=120,
    ).stdout
    match = re.search(r"TOHYO_TEST_PG_DSN=(\S+)", out)
    if match is None:
        raise RuntimeError(f"start-postgres.sh printed no DSN: {out!r}")
    _started["dsn"] = match.group(1)
    pg_ctl = re.search(r"'([^']*pg_ctl)'", out)

    def stop() -> None:
        if pg_ctl is not None:
            subprocess.run(
                [
                    "su",
                    "postgres",
                    "-s",
                    "/bin/sh",
                    "-c",
                    f"'{pg_ctl.group(1)}' -D '{directory}/data' stop -m immediate",
                ],
                capture_output=True,
                timeout=60,
                check=False,
            )
        shutil.rmtree(directory, ignore_errors=True)

    atexit.register(stop)
    return _started["dsn"]


async def fresh_database(dsn: str) -> str:
    """Create an empty database named tohyo_t_<random> on the server of `dsn`."""
    import asyncpg

    name = "tohyo_t_" + secrets.token_hex(6)
    conn = await asyncpg.connect(dsn)
    try:
        await conn.execute(f'CREATE DATABASE "{name}"')
    finally:
        await conn.close()
    parts = urlsplit(dsn)
    return urlunsplit(parts._replace(path="/" + name))


async def drop_database(dsn: str, database_dsn: str) -> None:
    """Drop a database made by `fresh_database` (closing any connection left open)."""
    import asyncpg

    name = urlsplit(database_dsn).path.lstrip("/")
    if not re.fullmatch(r"tohyo_t_[0-9a-f]{12}", name):
        raise ValueError("only databases made by fresh_database are dropped")
    conn = await asyncpg.connect(dsn)
    try:
        await conn.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')
    finally:
        await conn.close()


@dataclass
class Keys:
    """Ed25519 keys of the authors of one test election (default policy roles)."""

    admin: Ed25519PrivateKey = field(default_factory=Ed25519PrivateKey.generate)
    registrar: Ed25519PrivateKey = field(default_factory=Ed25519PrivateKey.generate)
    trustee: Ed25519PrivateKey = field(default_factory=Ed25519PrivateKey.generate)
    mix: Ed25519PrivateKey = field(default_factory=Ed25519PrivateKey.generate)

    def roles(self) -> dict[str, tuple[str, Ed25519PrivateKey]]:
        return {
            "admin": ("admin", self.admin),
            "registrar": ("registrar", self.registrar),
            "trustee-1": ("trustee", self.trustee),
            "mix-1": ("mix", self.mix),
        }

    def sign(self, election: str, type: str, author: str, body: dict[str, Any]) -> Envelope:
        return sign_envelope(self.roles()[author][1], election, type, author, body)

    def registry(self, election: str) -> Envelope:
        return self.sign(election, "registry", "admin", registry_body(self))

    def phase(self, election: str, phase: str) -> Envelope:
        return self.sign(election, "phase", "admin", {"phase": phase})

    def ballot(self, election: str, ciphertexts: list[str] | None = None) -> Envelope:
        ct = ciphertexts or [secrets.token_hex(16)]
        return self.sign(election, "ballot", "registrar", {"ciphertexts": ct})


def registry_body(keys: Keys) -> dict[str, Any]:
    return {
        "authors": {
            author: {"key": public_key_hex(key.public_key()), "role": role}
            for author, (role, key) in keys.roles().items()
        }
    }


@contextlib.asynccontextmanager
async def running_board(
    storage_url: str,
    key: Ed25519PrivateKey | None = None,
    *,
    policy: Any = None,
    limits: Any = None,
    clock: Any = None,
    mirrors: tuple[str, ...] = (),
) -> AsyncIterator[Any]:
    """Serve a board on 127.0.0.1 (a free port) for the duration of the block."""
    from bulletin_board.board import Board, system_clock_ms
    from bulletin_board.server import BoardServer
    from bulletin_board.storage import open_storage

    board = Board(
        open_storage(storage_url),
        key or Ed25519PrivateKey.generate(),
        policy,
        limits=limits,
        clock=clock or system_clock_ms,
        mirrors=mirrors,
    )
    server = BoardServer(board, "127.0.0.1", 0)
    await server.start()
    try:
        yield server
    finally:
        await server.stop()


class BoardProcess:
    """`python -m tohyo board serve` as a child process (for crash and fork tests)."""

    def __init__(
        self,
        db: str,
        key_path: str | Path,
        port: int = 0,
        log_path: str | None = None,
        extra: tuple[str, ...] = ("--policy", "registry", "--open-elections"),
    ) -> None:
        self.db, self.key_path, self.port, self.extra = db, str(key_path), port, extra
        self.log_path = log_path
        self.proc: subprocess.Popen[bytes] | None = None
        self.url = ""
        self.key_hex = ""

    def start(self, timeout: float = 60.0) -> str:
        cmd = [
            sys.executable,
            "-m",
            "tohyo",
            "board",
            "serve",
            "--db",
            self.db,
            "--key",
            self.key_path,
            "--host",
            "127.0.0.1",
            "--port",
            str(self.port),
            *self.extra,
        ]
        err = open(self.log_path, "ab") if self.log_path else subprocess.DEVNULL
        self.proc = subprocess.Popen(cmd, stdout=subprocess.PIPE, stderr=err, cwd=REPO)
        timer = threading.Timer(timeout, self.proc.kill)
        timer.start()
        try:
            assert self.proc.stdout is not None
            for raw in self.proc.stdout:
                line = raw.decode().strip()
                if line.startswith("tohyo board: key "):
                    self.key_hex = line.rsplit(" ", 1)[1]
                if line.startswith("tohyo board: listening on "):
                    self.url = line.rsplit(" ", 1)[1]
                    self.port = int(self.url.rsplit(":", 1)[1])
                    return self.url
        finally:
            timer.cancel()
        raise RuntimeError(f"board process exited early with {self.proc.wait()}")

    def kill(self) -> None:
        """SIGKILL: no clean-up, no flush, exactly like a crash."""
        if self.proc is not None:
            self.proc.send_signal(signal.SIGKILL)
            self.proc.wait(30)
            self.proc = None

    def stop(self) -> None:
        if self.proc is not None:
            self.proc.send_signal(signal.SIGTERM)
            try:
                self.proc.wait(30)
            except subprocess.TimeoutExpired:
                self.proc.kill()
                self.proc.wait(30)
            self.proc = None
