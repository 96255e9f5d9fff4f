"""Attacks on the board's authority and limits, through real HTTP on 127.0.0.1 against
`tohyo board serve` as production runs it (docs/board.md §5.1, §8.1, §8.2).

Every test here failed on the board before the authority and limits it checks: a stranger
opened elections (squatting ids, naming the real registrar's key or another board's), junk
co-signatures crowded out a genuine mirror's, idle connections locked everyone out, an 8 MiB
entry was read whole before its 413, and three inputs were answered 500.
"""

from __future__ import annotations

import asyncio
import dataclasses
import datetime as dt
import json
import os
import time
import urllib.request
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import aiohttp
import pytest
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey

from bulletin_board.client import BoardClient, BoardRefusedError
from bulletin_board.entry import sign_envelope
from bulletin_board.log import public_key_hex
from bulletin_board.testing import BoardProcess, Keys, running_board
from jpki.testca import TestCa
from mixnet.rng import DeterministicRandom
from tests.integration.board.election_board import (
    election_board,
    registrar_settings,
    write_key_file,
)
from tests.integration.election_helpers import Election
from tests.integration.test_ballot_intake import Voter, open_voting
from tohyo.cli import main

EVIDENCE_ENV = "TOHYO_EVIDENCE_PASSPHRASE"


@dataclasses.dataclass
class Voting:
    """A board process under the election policy with one election open for voting."""

    board: BoardProcess
    el: Election
    pk: Any
    mirror: Ed25519PrivateKey
    ca: TestCa
    codes: list[str]
    rng: DeterministicRandom

    @property
    def url(self) -> str:
        return self.board.url

    def entries_url(self, election: str | None = None) -> str:
        return f"{self.url}/v1/elections/{election or self.el.id}/entries"


@pytest.fixture(scope="module")
def voting(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Voting]:
    directory = tmp_path_factory.mktemp("attacks")
    rng = DeterministicRandom(b"board attacks")
    el = Election(rng, election_id="attack-2026")
    settings, ca, codes = registrar_settings(directory, el)
    mirror = Ed25519PrivateKey.generate()
    before = os.environ.get(EVIDENCE_ENV)
    os.environ[EVIDENCE_ENV] = "evidence passphrase"
    board = election_board(
        directory,
        el,
        "--processes",
        "1",
        "--mirror-key",
        public_key_hex(mirror.public_key()),
        registrar=settings,
    )
    board.start()
    try:

        async def setup() -> Any:
            async with BoardClient(board.url, board.key_hex) as client:
                return await open_voting(client, el, rng)

        yield Voting(board, el, asyncio.run(setup()), mirror, ca, codes, rng)
    finally:
        board.stop()
        if before is None:
            del os.environ[EVIDENCE_ENV]
        else:
            os.environ[EVIDENCE_ENV] = before


async def _post(url: str, body: bytes | Any) -> tuple[int, dict[str, Any]]:
    data = body if isinstance(body, bytes) else json.dumps(body).encode()
    async with (
        aiohttp.ClientSession() as session,
        session.post(url, data=data, headers={"Content-Type": "application/json"}) as resp,
    ):
        return resp.status, json.loads(await resp.read())


def _manifest_entry(signer: Ed25519PrivateKey, manifest: Any) -> bytes:
    return sign_envelope(
        signer, manifest.election_id, "manifest", "admin", {"manifest": manifest.to_json()}
    ).to_bytes()


async def _elections(url: str) -> list[str]:
    async with BoardClient(url) as client:
        return await client.elections()


# ---------------------------------------------------------------------------- authority


def test_a_stranger_can_neither_open_nor_squat_an_election(voting: Voting) -> None:
    """A stranger's manifest — its own administrator key, the real registrar's key and this
    board's key, so that the real registrar would attest under the stranger's eligibility
    rules — is refused, and the id stays free for the real administrator."""
    el = voting.el
    stranger = Election(DeterministicRandom(b"stranger"), election_id="squat-2026")
    squat = dataclasses.replace(
        stranger.manifest, registrar_key=el.manifest.registrar_key, board_key=el.manifest.board_key
    )

    async def main_() -> None:
        status, doc = await _post(
            voting.entries_url("squat-2026"), _manifest_entry(stranger.admin, squat)
        )
        assert (status, doc["error"]) == (403, "unauthorised_signer"), doc
        assert "squat-2026" not in await _elections(voting.url)
        # the real administrator opens that id afterwards
        real = dataclasses.replace(el.manifest, election_id="squat-2026")
        status, doc = await _post(voting.entries_url("squat-2026"), _manifest_entry(el.admin, real))
        assert status == 201, doc
        assert "squat-2026" in await _elections(voting.url)

    asyncio.run(main_())


def test_a_manifest_naming_another_board_is_refused(voting: Voting) -> None:
    """Even the board's own administrator cannot open an election that names another board's
    key: its voters' devices would check every answer against a key this board lacks."""
    el = voting.el
    other = dataclasses.replace(
        el.manifest,
        election_id="other-board-2026",
        board_key=public_key_hex(Ed25519PrivateKey.generate().public_key()),
    )

    async def main_() -> None:
        status, doc = await _post(
            voting.entries_url("other-board-2026"), _manifest_entry(el.admin, other)
        )
        assert (status, doc["error"]) == (422, "other_board"), doc
        assert "other-board-2026" not in await _elections(voting.url)

    asyncio.run(main_())


def test_only_the_configured_mirrors_cosign(voting: Voting) -> None:
    """64 valid co-signatures by strangers' keys are refused one by one (403); the configured
    mirror's is then taken."""

    async def main_() -> None:
        async with BoardClient(voting.url, voting.board.key_hex) as client:
            sth = await client.tree_head(voting.el.id)
            for _ in range(64):
                with pytest.raises(BoardRefusedError) as refused:
                    await client.cosign(Ed25519PrivateKey.generate(), sth)
                assert (refused.value.status, refused.value.code) == (403, "unauthorised_signer")
            stored = await client.cosign(voting.mirror, sth)
            assert [c.signer for c in stored.cosignatures] == [
                public_key_hex(voting.mirror.public_key())
            ]

    asyncio.run(main_())


def test_a_thousand_junk_elections_push_no_election_out_of_the_list(tmp_path: Path) -> None:
    """A test-mode board (anyone opens elections) with 1000 junk elections listed before the
    real one: the list is paginated, and the client reads every page."""

    async def main_() -> None:
        keys = Keys()
        async with (
            running_board(str(tmp_path / "b.sqlite")) as server,
            BoardClient(server.url) as client,
        ):
            for i in range(1000):
                await client.post(keys.registry(f"junk-{i:04d}"))
            await client.post(keys.registry("zz-real"))
            async with aiohttp.ClientSession() as session:
                async with session.get(f"{server.url}/v1/elections") as resp:
                    first = await resp.json()
                assert len(first["elections"]) == 1000 and first["next"] == "junk-0999"
                async with session.get(
                    f"{server.url}/v1/elections", params={"after": first["next"]}
                ) as resp:
                    second = await resp.json()
                assert second == {
                    "elections": [{"election": "zz-real", "tree_size": 1}],
                    "next": None,
                }
                async with session.get(
                    f"{server.url}/v1/elections", params={"after": "BAD!"}
                ) as resp:
                    assert resp.status == 400
            names = await client.elections()
            assert len(names) == 1001 and names[-1] == "zz-real"

    asyncio.run(main_())


# ---------------------------------------------------------------------------- limits


async def _answer(reader: asyncio.StreamReader) -> bytes:
    """One HTTP answer: its head and the body its Content-Length announces."""
    head = await reader.readuntil(b"\r\n\r\n")
    length = next(
        int(line.split(b":", 1)[1])
        for line in head.split(b"\r\n")
        if line.lower().startswith(b"content-length:")
    )
    return head + await reader.readexactly(length)


async def _raw_exchange(port: int, request: bytes, *, wait: float = 5.0) -> bytes:
    """Send `request` bytes on a fresh connection; the answer that comes back."""
    reader, writer = await asyncio.open_connection("127.0.0.1", port)
    try:
        writer.write(request)
        await writer.drain()
        return await asyncio.wait_for(_answer(reader), wait)
    finally:
        writer.close()


def _status_and_code(answer: bytes) -> tuple[int, str]:
    head, _, body = answer.partition(b"\r\n\r\n")
    return int(head.split(b" ", 2)[1]), json.loads(body)["error"]


def test_an_8_mib_entry_is_refused_on_its_length_before_its_body_is_read(voting: Voting) -> None:
    """During voting an election takes ballots (a few KiB) and phase entries: a post that
    announces 8 MiB is answered 413 at once, although not one byte of its body was sent."""
    request = (
        f"POST /v1/elections/{voting.el.id}/entries HTTP/1.1\r\nHost: x\r\n"
        f"Content-Type: application/json\r\nConnection: close\r\n"
        f"Content-Length: {8 << 20}\r\n\r\n"
    ).encode()

    async def main_() -> None:
        started = time.monotonic()
        answer = await _raw_exchange(voting.board.port, request + b"{", wait=5)
        assert _status_and_code(answer) == (413, "too_large")
        assert time.monotonic() - started < 2

    asyncio.run(main_())


def test_integer_of_5000_digits_on_entries_is_a_400(voting: Voting) -> None:
    body = (
        b'{"author":"admin","body":{"phase":'
        + b"7" * 5000
        + b'},"election":"'
        + voting.el.id.encode()
        + b'","signature":"'
        + b"0" * 128
        + b'","type":"phase","v":1}'
    )
    status, doc = asyncio.run(_post(voting.entries_url(), body))
    assert (status, doc["error"]) == (400, "malformed"), doc
    assert "at most 16 digits" in doc["detail"]


def test_100000_nested_brackets_on_ballots_is_a_400(voting: Voting) -> None:
    url = f"{voting.url}/v1/elections/{voting.el.id}/ballots"
    status, doc = asyncio.run(_post(url, b"[" * 100_000))
    assert (status, doc["error"]) == (400, "malformed"), doc


def test_a_certificate_whose_issuer_is_not_utf8_is_refused_not_a_500(voting: Voting) -> None:
    voter = Voter(voting.ca, "投票 五郎", dt.date(1970, 4, 4), "茨城県つくば市天王台3番地")
    request = voter.request(voting.el, voting.pk, 0, voting.codes[0], voting.rng)
    der = bytes.fromhex(request["jpki"]["certificate"])
    name = b"tohyo TEST CA"
    # the issuer comes first in the certificate (a CRL distribution point names it again)
    request["jpki"]["certificate"] = der.replace(name, b"\xff" + name[1:], 1).hex()
    url = f"{voting.url}/v1/elections/{voting.el.id}/ballots"
    status, doc = asyncio.run(_post(url, request))
    assert (status, doc["error"], doc["reason"]) == (
        403,
        "registrar_refused",
        "certificate-untrusted",
    ), doc


def test_idle_connections_lock_nobody_else_out(tmp_path: Path) -> None:
    """One address opens as many idle connections as the whole board allows: beyond its own
    cap each is answered 429 and closed, another address is served, and the idle ones are
    closed after the header timeout."""
    board = BoardProcess(
        str(tmp_path / "b.sqlite"),
        tmp_path / "b.pem",
        log_path=str(tmp_path / "board.log"),
        extra=(
            "--policy",
            "registry",
            "--open-elections",
            "--max-connections",
            "16",
            "--max-client-connections",
            "4",
            "--header-timeout",
            "1",
        ),
    )
    board.start()
    with urllib.request.urlopen(board.url + "/v1/board", timeout=10) as r:
        limits = json.loads(r.read())["limits"]
    assert (limits["max_client_connections"], limits["header_timeout_ms"]) == (4, 1000)

    async def main_() -> None:
        idle = [
            await asyncio.open_connection("127.0.0.1", board.port, local_addr=("127.0.0.2", 0))
            for _ in range(16)
        ]
        try:
            answers = await asyncio.gather(*(asyncio.wait_for(_answer(r), 5) for r, _ in idle[4:]))
            assert {_status_and_code(a) for a in answers} == {(429, "too_many_connections")}
            # another client is served while the four idle ones are still open
            answer = await _raw_exchange(
                board.port, b"GET /health HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n"
            )
            assert answer.startswith(b"HTTP/1.1 200")
            started = time.monotonic()
            closed = await asyncio.gather(*(asyncio.wait_for(r.read(), 5) for r, _ in idle[:4]))
            assert closed == [b""] * 4 and time.monotonic() - started < 4
            # their slots are free again: the same address is served
            await asyncio.sleep(0.2)
            reader, writer = await asyncio.open_connection(
                "127.0.0.1", board.port, local_addr=("127.0.0.2", 0)
            )
            writer.write(b"GET /health HTTP/1.1\r\nHost: x\r\n\r\n")
            await writer.drain()
            assert (await asyncio.wait_for(_answer(reader), 5)).startswith(b"HTTP/1.1 200")
            writer.close()
        finally:
            for _, w in idle:
                w.close()

    try:
        asyncio.run(main_())
    finally:
        board.stop()


def test_a_body_that_does_not_arrive_in_time_is_a_408(tmp_path: Path) -> None:
    board = BoardProcess(
        str(tmp_path / "b.sqlite"),
        tmp_path / "b.pem",
        log_path=str(tmp_path / "board.log"),
        extra=("--policy", "registry", "--open-elections", "--body-timeout", "1"),
    )
    board.start()
    request = (
        b"POST /v1/elections/e1/entries HTTP/1.1\r\nHost: x\r\n"
        b"Content-Type: application/json\r\nConnection: close\r\n"
        b'Content-Length: 100\r\n\r\n{"a"'
    )
    try:
        answer = asyncio.run(_raw_exchange(board.port, request, wait=5))
        assert _status_and_code(answer) == (408, "request_timeout")
    finally:
        board.stop()


# ---------------------------------------------------------------------------- export


def test_export_refuses_a_key_that_is_not_the_boards(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    key, other = Ed25519PrivateKey.generate(), Ed25519PrivateKey.generate()
    write_key_file(tmp_path / "board.pem", key)
    write_key_file(tmp_path / "other.pem", other)
    db = str(tmp_path / "b.sqlite")

    async def fill() -> None:
        keys = Keys()
        async with running_board(db, key) as server, BoardClient(server.url) as client:
            await client.post(keys.registry("e1"))
            await client.post(keys.phase("e1", "key_ceremony"))

    asyncio.run(fill())
    out = tmp_path / "out"

    def export(key_file: str) -> int:
        return main(
            [
                "board",
                "export",
                "--db",
                db,
                "--key",
                str(tmp_path / key_file),
                "--election",
                "e1",
                "--out",
                str(out),
            ]
        )

    assert export("other.pem") == 2
    assert "is not the key of the board" in capsys.readouterr().err
    assert not out.exists()
    assert export("board.pem") == 0
    board_key = public_key_hex(key.public_key())
    assert main(["board", "verify-export", str(out), "--board-key", board_key]) == 0


def test_board_serve_requires_administrator_keys(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    base = ["board", "serve", "--db", str(tmp_path / "b.sqlite"), "--key", str(tmp_path / "b.pem")]
    assert main(base) == 2
    assert "--admin-key" in capsys.readouterr().err
    assert main([*base, "--admin-key", "00"]) == 2
    admin = public_key_hex(Ed25519PrivateKey.generate().public_key())
    assert main([*base, "--admin-key", admin, "--open-elections"]) == 2
    assert "exclude each other" in capsys.readouterr().err
    assert main([*base, "--open-elections", "--mirror-key", "xyz"]) == 2
    assert not (tmp_path / "b.sqlite").exists()
