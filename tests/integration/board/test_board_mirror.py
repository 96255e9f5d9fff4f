"""A mirror follows a board, co-signs its heads, and catches a board that rewrites history."""

from __future__ import annotations

import asyncio
import json
import sqlite3
import subprocess
import sys
import time
from pathlib import Path

import pytest
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey

from bulletin_board.client import BoardClient, InconsistentBoardError
from bulletin_board.log import (
    SignedTreeHead,
    public_key_from_hex,
    verify_cosignature,
    verify_tree_head,
)
from bulletin_board.mirror import Mirror
from bulletin_board.storage import SqliteStorage
from bulletin_board.testing import REPO, Keys, free_port, running_board
from mixnet.errors import VerificationError
from tests.integration.board.election_board import Scenario

E = "mirror-test"


def _doctor(src: Path, dst: Path, index: int, entry: bytes) -> None:
    """Copy a board database and rewrite entry `index` as a dishonest operator would."""
    from bulletin_board.log import hash_leaf

    with sqlite3.connect(src) as a, sqlite3.connect(dst) as b:
        a.backup(b)
    with sqlite3.connect(dst) as b:
        b.execute(
            "UPDATE board_entries SET data = ?, leaf_hash = ? WHERE election = ? AND idx = ?",
            (entry, hash_leaf(entry), E, index),
        )
        b.execute("DELETE FROM board_tree_heads WHERE election = ? AND tree_size > ?", (E, index))
        b.execute("DELETE FROM board_cosignatures WHERE election = ?", (E,))


async def _wait_cosigned(url: str, size: int, signer: str, timeout: float = 30) -> SignedTreeHead:
    deadline = time.monotonic() + timeout
    async with BoardClient(url) as c:
        while time.monotonic() < deadline:
            sth = await c.tree_head(E)
            if sth.tree_size == size and any(x.signer == signer for x in sth.cosignatures):
                return sth
            await asyncio.sleep(0.1)
    raise AssertionError("the mirror did not co-sign in time")


@pytest.mark.parametrize("policy", ["registry", "election"])
def test_mirror_follows_cosigns_and_detects_a_fork(tmp_path: Path, policy: str) -> None:
    mirror_key = tmp_path / "mirror.pem"
    mirror_pub = subprocess.run(
        [sys.executable, "-m", "tohyo", "board", "keygen", "--key", str(mirror_key)],
        check=True,
        capture_output=True,
        text=True,
        cwd=REPO,
    ).stdout.strip()
    scenario = Scenario(policy, tmp_path, E, "--mirror-key", mirror_pub, port=free_port())
    db = tmp_path / "board.sqlite"
    board = scenario.process(str(db))
    url = board.start()
    evidence_file = tmp_path / "evidence.json"
    mirror = subprocess.Popen(
        [
            sys.executable,
            "-m",
            "tohyo",
            "board",
            "mirror",
            "--from",
            url,
            "--db",
            str(tmp_path / "mirror.sqlite"),
            "--key",
            str(mirror_key),
            "--board-key",
            board.key_hex,
            "--interval",
            "0.2",
            "--evidence",
            str(evidence_file),
        ],
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        cwd=REPO,
    )
    try:

        async def honest_phase() -> SignedTreeHead:
            async with BoardClient(url, board.key_hex) as c:
                await scenario.open(c)
                for _ in range(6):
                    size = (await c.post(scenario.entry())).index + 1
            return await _wait_cosigned(url, size, mirror_pub)

        honest = asyncio.run(honest_phase())
        size = honest.tree_size
        for c in honest.cosignatures:
            verify_cosignature(honest, c)
        assert mirror.poll() is None  # still following

        # The operator stops the board and serves a doctored copy with the same key: its
        # last entry replaced by another valid one.
        board.stop()
        doctored = tmp_path / "doctored.sqlite"
        _doctor(db, doctored, size - 1, scenario.entry().to_bytes())
        board = scenario.process(str(doctored))
        board.start()

        async def more() -> None:
            async with BoardClient(url) as c:  # a fresh client cannot tell; the mirror can
                await c.post(scenario.entry())

        asyncio.run(more())
        out, err = mirror.communicate(timeout=60)
    finally:
        if mirror.poll() is None:
            mirror.kill()
            mirror.wait()
        board.stop()
    assert mirror.returncode == 3, err
    assert b"FORKED" in err
    evidence = json.loads(out)
    assert json.loads(evidence_file.read_text()) == evidence
    heads = [SignedTreeHead.from_json(h) for h in evidence["tree_heads"]]
    key = public_key_from_hex(board.key_hex)
    for h in heads:
        verify_tree_head(h, key)  # both heads are genuinely signed by the board
    old, new = sorted(heads, key=lambda h: h.tree_size)
    assert old.root_hash != new.root_hash
    assert old.tree_size == size and new.tree_size in (size, size + 1)


def test_mirror_in_process_same_size_fork(tmp_path: Path) -> None:
    """Two boards with one key and diverging logs: the mirror names both heads."""

    async def main() -> None:
        key, keys = Ed25519PrivateKey.generate(), Keys()
        store = SqliteStorage(tmp_path / "m.sqlite")
        await store.open()
        try:
            async with running_board(str(tmp_path / "a.sqlite"), key) as a:
                async with BoardClient(a.url) as c:
                    await c.post(keys.registry(E))
                    await c.post(keys.phase(E, "key_ceremony"))
                mirror = Mirror(BoardClient(a.url), store, Ed25519PrivateKey.generate())
                assert await mirror.sync_once() == {E: 2}
                await mirror.client.close()
            async with running_board(str(tmp_path / "b.sqlite"), key) as b:
                async with BoardClient(b.url) as c:
                    await c.post(keys.registry(E))
                    await c.post(keys.sign(E, "manifest", "admin", {"other": "history"}))
                # the mirror restarts from its own storage and meets board b
                mirror = Mirror(BoardClient(b.url), store, Ed25519PrivateKey.generate())
                await mirror.load()
                try:
                    await mirror.sync_once()
                except InconsistentBoardError as exc:
                    ev = exc.evidence()
                    assert ev["check"] == "board.same_size_roots"
                    assert len(ev["tree_heads"]) == 2
                else:
                    raise AssertionError("fork not detected")
                finally:
                    await mirror.client.close()
        finally:
            await store.close()

    asyncio.run(main())


def test_mirror_and_client_catch_a_lying_proxy(tmp_path: Path) -> None:
    """A man in the middle (or a lying board) that alters entries or proofs is caught."""
    from aiohttp import ClientSession, web

    from bulletin_board.testing import free_port

    async def main() -> None:
        keys = Keys()
        async with running_board(str(tmp_path / "a.sqlite")) as real:
            async with BoardClient(real.url) as c:
                await c.post(keys.registry(E))
                await c.post(keys.phase(E, "key_ceremony"))
                await c.post(keys.phase(E, "voting"))
                honest_head = await c.tree_head(E)
            mode = {"lie": "entries"}

            async def proxy(request: web.Request) -> web.Response:
                async with (
                    ClientSession() as s,
                    s.get(real.url + request.path, params=request.query) as r,
                ):
                    doc = await r.json()
                    status = r.status
                if (
                    mode["lie"] == "entries"
                    and request.path.endswith("/entries")
                    and doc.get("entries")
                ):
                    doc["entries"][-1]["body"] = {"phase": "closed"}
                if mode["lie"] == "proof" and "consistency" in request.path and doc.get("proof"):
                    doc["proof"][0] = "00" * 32
                return web.json_response(doc, status=status)

            app = web.Application()
            app.router.add_get("/{tail:.*}", proxy)
            runner = web.AppRunner(app)
            await runner.setup()
            port = free_port()
            await web.TCPSite(runner, "127.0.0.1", port).start()
            url = f"http://127.0.0.1:{port}"
            store = SqliteStorage(tmp_path / "m.sqlite")
            await store.open()
            try:
                mirror = Mirror(
                    BoardClient(url), store, Ed25519PrivateKey.generate(), post_cosignatures=False
                )
                try:
                    await mirror.sync_once()
                except VerificationError as exc:
                    assert exc.check == "mirror.entries_root"
                else:
                    raise AssertionError("altered entries not detected")
                finally:
                    await mirror.client.close()
                assert await store.size(E) == 0  # nothing unverified was kept

                mode["lie"] = "proof"
                async with BoardClient(url) as c:
                    c.heads[E] = honest_head
                    async with BoardClient(real.url) as w:
                        await w.post(keys.ballot(E))
                    try:
                        await c.tree_head(E)
                    except InconsistentBoardError as exc:
                        assert exc.check.startswith("consistency.")
                        assert exc.old == honest_head
                    else:
                        raise AssertionError("altered consistency proof not detected")
            finally:
                await store.close()
                await runner.cleanup()

    asyncio.run(main())
