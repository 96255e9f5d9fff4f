"""The operator's and the voter's mistakes at the command line: each one is a one-line message
on stderr, a documented exit status and no traceback, and nothing is written.

Every command runs as a separate process (`python -m tohyo …`), as a person would run it.
"""

from __future__ import annotations

import asyncio
import os
import subprocess
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from bulletin_board.client import BoardClient
from bulletin_board.testing import BoardProcess
from mixnet.rng import DeterministicRandom
from tests.integration.election_helpers import Election
from tests.integration.test_ballot_intake import open_voting
from tests.process_support import run_tohyo
from tests.web.web_support import unused_url

FINGERPRINT = "ab" * 32


def tohyo(
    *args: str, cwd: Path, env: dict[str, str] | None = None, stdin: int | None = subprocess.DEVNULL
) -> subprocess.CompletedProcess[str]:
    return run_tohyo(*args, cwd=cwd, env=env, stdin=stdin)


def one_line(proc: subprocess.CompletedProcess[str], status: int, words: str) -> None:
    """Exit `status`, stderr exactly one line holding `words`, no traceback anywhere."""
    output = proc.stdout + proc.stderr
    assert "Traceback" not in output, output
    assert proc.returncode == status, output
    lines = proc.stderr.strip().splitlines()
    assert len(lines) == 1 and words in lines[0], proc.stderr


@pytest.fixture
def voting_board(tmp_path: Path) -> Iterator[tuple[str, Any]]:
    """A board process with one election open for voting (no registrar needed to read it)."""
    from cryptography.hazmat.primitives import serialization

    el = Election(DeterministicRandom(b"cli mistakes"), election_id="cli-mistakes")
    (tmp_path / "board.pem").write_bytes(
        el.board.private_bytes(
            serialization.Encoding.PEM,
            serialization.PrivateFormat.PKCS8,
            serialization.BestAvailableEncryption(os.environ["TOHYO_KEY_PASSPHRASE"].encode()),
        )
    )
    board = BoardProcess(
        str(tmp_path / "b.sqlite"),
        tmp_path / "board.pem",
        extra=("--allow-test-groups", "--open-elections"),
    )
    url = board.start()

    async def setup() -> None:
        async with BoardClient(url) as client:
            await open_voting(client, el, el.rng)

    try:
        asyncio.run(setup())
        yield url, el
    finally:
        board.stop()


def test_vote_cast_with_standard_input_closed(
    tmp_path: Path, voting_board: tuple[str, Any]
) -> None:
    url, el = voting_board
    proc = tohyo(
        "vote",
        "cast",
        "--board",
        url,
        "--election",
        el.id,
        "--fingerprint",
        el.fingerprint.hex(),
        cwd=tmp_path,
    )
    one_line(proc, 2, "standard input is closed")
    assert not (tmp_path / "receipts").exists()


def test_vote_show_and_check_receipt_speak_json(
    tmp_path: Path, voting_board: tuple[str, Any]
) -> None:
    import json

    url, el = voting_board
    proc = tohyo(
        "vote",
        "show",
        "--board",
        url,
        "--election",
        el.id,
        "--fingerprint",
        el.fingerprint.hex(),
        "--json",
        cwd=tmp_path,
    )
    assert proc.returncode == 0, proc.stderr
    shown = json.loads(proc.stdout)
    assert shown["phase"] == "voting" and shown["fingerprint"] == el.fingerprint.hex()
    assert shown["manifest"]["election_id"] == el.id
    (tmp_path / "r.json").write_text("{}")
    proc = tohyo("vote", "check-receipt", str(tmp_path / "r.json"), "--json", cwd=tmp_path)
    one_line(proc, 2, "could not check the receipt")


def test_vote_web_on_an_impossible_port(tmp_path: Path) -> None:
    proc = tohyo(
        "vote",
        "web",
        "--board",
        unused_url(),
        "--election",
        "x",
        "--fingerprint",
        FINGERPRINT,
        "--port",
        "99999",
        cwd=tmp_path,
    )
    one_line(proc, 2, "--port 99999")


def test_verify_says_2_when_it_cannot_decide(tmp_path: Path) -> None:
    """An unreachable board is not a failed verification (1): it is 2, nothing decided."""
    proc = tohyo("verify", unused_url(), "--election", "x", cwd=tmp_path)
    one_line(proc, 2, "cannot fetch the record")


def test_board_export_of_a_mistyped_database_creates_nothing(tmp_path: Path) -> None:
    proc = tohyo(
        "board",
        "export",
        "--db",
        "typo.sqlite",
        "--key",
        "board.pem",
        "--election",
        "x",
        "--out",
        "out",
        cwd=tmp_path,
    )
    one_line(proc, 2, "no such board database")
    assert list(tmp_path.iterdir()) == []


def test_board_serve_with_a_database_in_a_missing_folder(tmp_path: Path) -> None:
    proc = tohyo(
        "board",
        "serve",
        "--db",
        "missing/b.sqlite",
        "--key",
        "board.pem",
        "--open-elections",
        "--port",
        "0",
        cwd=tmp_path,
        env={"TOHYO_KEY_PASSPHRASE": "key passphrase"},
    )
    one_line(proc, 2, "the folder missing does not exist")
    assert list(tmp_path.iterdir()) == []  # not even the key


@pytest.mark.parametrize("weak", ["abc", "aaaaaaaaaaaaaaaa", "abcabcabcab"])
def test_trustee_keygen_refuses_a_weak_passphrase(tmp_path: Path, weak: str) -> None:
    (tmp_path / "pass").write_text(weak + "\n")
    proc = tohyo(
        "trustee", "keygen", "--keystore", "t.keystore", "--passphrase-file", "pass", cwd=tmp_path
    )
    one_line(proc, 2, "the passphrase is too weak")
    assert not (tmp_path / "t.keystore").exists()


def test_every_vote_option_has_help() -> None:
    """`tohyo vote … --help` explains every option a voter may give."""
    import argparse

    from tohyo.cli import build_parser

    parser = build_parser(only="vote")
    vote = next(a for a in parser._actions if isinstance(a, argparse._SubParsersAction))
    actions = vote.choices["vote"]._actions
    sub = next(a for a in actions if isinstance(a, argparse._SubParsersAction))
    missing = [
        f"vote {name} {' '.join(opt.option_strings) or opt.dest}"
        for name, command in sub.choices.items()
        for opt in command._actions
        if not isinstance(opt, argparse._HelpAction) and not opt.help
    ]
    assert not missing
