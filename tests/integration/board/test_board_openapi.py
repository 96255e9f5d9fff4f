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

import pytest

from bulletin_board.client import BoardClient
from bulletin_board.testing import BoardProcess, Keys
from mixnet.rng import DeterministicRandom
from tests.integration.board.election_board import (
    ballot_entry,
    election_board,
    registrar_settings,
)
from tests.integration.election_helpers import Election
from tests.integration.test_ballot_intake import open_voting

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


async def _populate(url: str, voting: tuple[Election, DeterministicRandom] | None) -> str:
    """Open an election with a few entries (`voting`: under the election policy, this
    election); returns its id."""
    async with BoardClient(url) as c:
        if voting is None:
            keys = Keys()
            await c.post(keys.registry(E))
            await c.post(keys.phase(E, "key_ceremony"))
            await c.post(keys.phase(E, "voting"))
            for _ in range(5):
                await c.post(keys.ballot(E))
            return E
        el, rng = voting
        pk = await open_voting(c, el, rng)
        for voter in range(5):
            await c.post(ballot_entry(el, pk, rng, voter))
        return el.id


@pytest.mark.parametrize("policy", ["registry", "election"])
def test_schemathesis_finds_no_server_error(
    tmp_path: Path, policy: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Every endpoint fuzzed, under the registry policy and under the election policy as
    production serves it (administrator keys, and the voters' /ballots endpoint with its
    registrar)."""
    voting = None
    if policy == "registry":
        board = BoardProcess(
            str(tmp_path / "b.sqlite"), tmp_path / "k.pem", log_path=str(tmp_path / "board.log")
        )
    else:
        rng = DeterministicRandom(b"schemathesis")
        el = Election(rng, election_id="fuzz-2026")
        voting = (el, rng)
        settings, _, _ = registrar_settings(tmp_path, el)
        monkeypatch.setenv("TOHYO_EVIDENCE_PASSPHRASE", "evidence passphrase")
        board = election_board(tmp_path, el, "--processes", "1", registrar=settings)
    url = board.start()
    try:
        election = asyncio.run(_populate(url, voting))
        with urllib.request.urlopen(url + "/openapi.json", timeout=10) as r:
            paths = json.loads(r.read())["paths"]
        assert ("/v1/elections/{election}/ballots" in paths) is (policy == "election")
        run = subprocess.run(
            [
                str(ST),
                "run",
                url + "/openapi.json",
                "--max-examples",
                "25",
                "--checks",
                "all",
                "--exclude-checks",
                "positive_data_acceptance",
                "--request-timeout",
                "10",
                "--max-failures",
                "5",
                "--no-color",
            ],
            capture_output=True,
            text=True,
            timeout=600,
            cwd=tmp_path,
        )
        assert run.returncode == 0, run.stdout[-6000:] + run.stderr[-2000:]
        assert "passed" in run.stdout
        if policy == "election":
            assert "/ballots" in run.stdout  # the voters' endpoint was fuzzed too

        # the board is still healthy and its log still verifies after the fuzzing
        async def check() -> None:
            async with BoardClient(url) as c:
                entries, sth = await c.all_entries(election)
                assert sth.tree_size == len(entries) >= 8

        asyncio.run(check())
    finally:
        board.stop()
    # no handler of ours failed (aiohttp's own parser logs malformed HTTP probes; that is fine)
    assert "tohyo.board" not in (tmp_path / "board.log").read_text()
