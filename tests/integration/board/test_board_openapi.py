"""Schemathesis against the served /openapi.json: no 5xx, no response that breaks the spec.

`positive_data_acceptance` is excluded on purpose: the board accepts only canonical JSON
signed by an authorised key, which no JSON Schema can express, so schema-valid bodies are
(rightly) refused with 400/403. Every other check of schemathesis runs.
"""

from __future__ import annotations

import asyncio
import json
import subprocess
import sys
import urllib.request
from pathlib import Path

from bulletin_board.client import BoardClient
from bulletin_board.testing import BoardProcess, Keys

E = "e1"
ST = Path(sys.executable).parent / "st"  # the schemathesis CLI of this virtualenv


def test_openapi_document_lists_every_route(tmp_path: Path) -> None:
    from aiohttp import web
    from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey

    from bulletin_board.board import Board, Limits
    from bulletin_board.openapi import openapi_document
    from bulletin_board.server import make_app
    from bulletin_board.storage import SqliteStorage

    app = make_app(Board(SqliteStorage(tmp_path / "x"), Ed25519PrivateKey.generate()))
    routes = {
        (r.method.lower(), r.resource.canonical)
        for r in app.router.routes()
        if isinstance(r.resource, web.Resource) and r.method != "HEAD"
    }
    doc = openapi_document(Limits())
    documented = {(m, p) for p, ops in doc["paths"].items() for m in ops}
    assert routes == documented


def test_schemathesis_finds_no_server_error(tmp_path: Path) -> None:
    board = BoardProcess(str(tmp_path / "b.sqlite"), tmp_path / "k.pem",
                         log_path=str(tmp_path / "board.log"))
    url = board.start()
    try:
        async def populate() -> None:
            keys = Keys()
            async with BoardClient(url) as c:
                await c.post(keys.registry(E))
                await c.post(keys.phase(E, "key_ceremony"))
                await c.post(keys.phase(E, "voting"))
                for _ in range(5):
                    await c.post(keys.ballot(E))

        asyncio.run(populate())
        with urllib.request.urlopen(url + "/openapi.json", timeout=10) as r:
            assert json.loads(r.read())["openapi"].startswith("3.")
        run = subprocess.run(
            [str(ST), "run", url + "/openapi.json", "--max-examples", "25",
             "--checks", "all", "--exclude-checks", "positive_data_acceptance",
             "--request-timeout", "10", "--max-failures", "5", "--no-color"],
            capture_output=True, text=True, timeout=600, cwd=tmp_path,
        )
        assert run.returncode == 0, run.stdout[-6000:] + run.stderr[-2000:]
        assert "passed" in run.stdout
        # the board is still healthy and its log still verifies after the fuzzing
        async def check() -> None:
            async with BoardClient(url) as c:
                entries, sth = await c.all_entries(E)
                assert sth.tree_size == len(entries) >= 8

        asyncio.run(check())
    finally:
        board.stop()
    # no handler of ours failed (aiohttp's own parser logs malformed HTTP probes; that is fine)
    assert "tohyo.board" not in (tmp_path / "board.log").read_text()
