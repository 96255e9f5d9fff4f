"""Processes and keys for the trustee daemon tests: `tohyo board serve`, `tohyo trustee …`
subprocesses with bounded waits, keystores made by `tohyo trustee keygen`, and an election
whose trustees and mix servers are those keystores."""

from __future__ import annotations

import asyncio
import contextlib
import datetime as dt
import io
import json
import os
import signal
import subprocess
import sys
import threading
import time
from collections import Counter
from collections.abc import Awaitable, Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import aiohttp
from aiohttp import web
from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey

from bulletin_board.client import BoardClient
from election.entries import Ballot
from election.manifest import Contest, Eligibility, Manifest, MixServer, Option, Trustee
from jpki.registrar import sign_attestation
from mixnet import elgamal
from mixnet.groups import Element, get_group
from mixnet.rng import DeterministicRandom
from simulations.world import VOTING_END, VOTING_START
from tohyo.cli import main as tohyo_main
from trustees.coordinator import Coordinator
from trustees.keystore import load_keystore
from trustees.private import TrusteeSecrets

REPO = Path(__file__).resolve().parents[3]
GROUP = "test-schnorr-512-128"
OPTIONS = ("a", "b", "c")
WAIT = 240.0  # the longest any single step may take before the test fails


def raw(key: Ed25519PrivateKey) -> str:
    return (
        key.public_key()
        .public_bytes(serialization.Encoding.Raw, serialization.PublicFormat.Raw)
        .hex()
    )


def env() -> dict[str, str]:
    out = dict(os.environ)
    out["PYTHONPATH"] = str(REPO) + os.pathsep + out.get("PYTHONPATH", "")
    out.pop("TOHYO_TRUSTEE_PASSPHRASE", None)
    return out


class BoardProcess:
    """`tohyo board serve --policy election --allow-test-groups` as a child process."""

    PASSPHRASE = "board key passphrase for the trustee tests"

    def __init__(self, directory: Path) -> None:
        self.directory = directory
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
            str(self.directory / "board.sqlite"),
            "--key",
            str(self.directory / "board.pem"),
            "--host",
            "127.0.0.1",
            "--port",
            "0",
            "--policy",
            "election",
            "--allow-test-groups",
            "--open-elections",
            "--max-body",
            str(4 << 20),
        ]
        log = open(self.directory / "board.log", "ab")
        self.proc = subprocess.Popen(
            cmd,
            stdout=subprocess.PIPE,
            stderr=log,
            cwd=REPO,
            env=env() | {"TOHYO_KEY_PASSPHRASE": self.PASSPHRASE},
        )
        timer = threading.Timer(timeout, self.proc.kill)
        timer.start()
        try:
            assert self.proc.stdout is not None
            for line in self.proc.stdout:
                text = line.decode().strip()
                if text.startswith("tohyo board: key "):
                    self.key_hex = text.rsplit(" ", 1)[1]
                if text.startswith("tohyo board: listening on "):
                    self.url = text.rsplit(" ", 1)[1]
                    return self.url
        finally:
            timer.cancel()
        raise RuntimeError(
            "the board process exited early: "
            + (self.directory / "board.log").read_text(errors="replace")
        )

    def stop(self) -> None:
        if self.proc is not None:
            self.proc.send_signal(signal.SIGTERM)
            try:
                self.proc.wait(20)
            except subprocess.TimeoutExpired:
                self.proc.kill()
                self.proc.wait(20)
            self.proc = None


class Daemon:
    """`python -m tohyo trustee …` with stderr captured to a file."""

    def __init__(
        self, name: str, args: list[str], directory: Path, extra_env: dict[str, str] | None = None
    ) -> None:
        self.name, self.args, self.directory = name, args, directory
        self.extra_env = extra_env or {}
        self.proc: subprocess.Popen[bytes] | None = None
        self.runs = 0

    @property
    def log_path(self) -> Path:
        return self.directory / f"{self.name}.log"

    def start(self) -> None:
        self.runs += 1
        with open(self.log_path, "ab") as log:
            self.proc = subprocess.Popen(
                [sys.executable, "-m", "tohyo", "trustee", *self.args],
                stdout=log,
                stderr=log,
                cwd=REPO,
                env=env() | self.extra_env,
            )

    def kill(self) -> None:
        if self.proc is not None and self.proc.poll() is None:
            self.proc.send_signal(signal.SIGKILL)
            self.proc.wait(20)

    def stop(self) -> None:
        if self.proc is not None and self.proc.poll() is None:
            self.proc.terminate()
            try:
                self.proc.wait(10)
            except subprocess.TimeoutExpired:
                self.proc.kill()
                self.proc.wait(10)

    async def wait(self, timeout: float = WAIT) -> int:
        assert self.proc is not None
        end = time.monotonic() + timeout
        while self.proc.poll() is None:
            if time.monotonic() > end:
                raise TimeoutError(f"{self.name} did not finish in {timeout:g} s:\n{self.log()}")
            await asyncio.sleep(0.2)
        return self.proc.returncode

    def log(self) -> str:
        return self.log_path.read_text(errors="replace") if self.log_path.exists() else ""


def cli(
    *args: str, timeout: float = 120.0, extra_env: dict[str, str] | None = None
) -> subprocess.CompletedProcess[str]:
    """`python -m tohyo …` to completion (bounded)."""
    return subprocess.run(
        [sys.executable, "-m", "tohyo", *args],
        capture_output=True,
        text=True,
        cwd=REPO,
        env=env() | (extra_env or {}),
        timeout=timeout,
    )


def keygen(path: Path, passphrase_file: Path) -> dict[str, str]:
    """`tohyo trustee keygen` in this process; returns the printed public keys."""
    out = io.StringIO()
    with contextlib.redirect_stdout(out), contextlib.redirect_stderr(io.StringIO()):
        assert (
            tohyo_main(
                [
                    "trustee",
                    "keygen",
                    "--keystore",
                    str(path),
                    "--passphrase-file",
                    str(passphrase_file),
                ]
            )
            == 0
        )
    keys: dict[str, str] = json.loads(out.getvalue())
    assert set(keys) == {"signing_key", "exchange_key"}
    return keys


@dataclass
class Party:
    """A trustee or mix server: its keystore, passphrase and public keys."""

    id: str
    number: int
    keystore: Path
    passphrase: str
    passphrase_file: Path
    public: dict[str, str]

    def secrets(self) -> TrusteeSecrets:
        return load_keystore(self.keystore, self.passphrase)


@dataclass
class DaemonElection:
    election_id: str
    directory: Path
    board: BoardProcess
    trustees: list[Party]
    mixers: list[Party]
    threshold: int = 2
    admin: Ed25519PrivateKey = field(default_factory=Ed25519PrivateKey.generate)
    registrar: Ed25519PrivateKey = field(default_factory=Ed25519PrivateKey.generate)
    daemons: list[Daemon] = field(default_factory=list)

    @classmethod
    def create(
        cls,
        election_id: str,
        directory: Path,
        board: BoardProcess,
        *,
        trustees: int = 3,
        mixers: int = 3,
    ) -> DaemonElection:
        directory.mkdir(parents=True, exist_ok=True)

        def party(kind: str, i: int) -> Party:
            passphrase = f"passphrase of {kind} {i} in {election_id} ünïcode"
            pfile = directory / f"{kind}-{i}.pass"
            pfile.write_text(passphrase + "\n", encoding="utf-8")
            path = directory / f"{kind}-{i}.keystore"
            return Party(f"{kind}-{i}", i, path, passphrase, pfile, keygen(path, pfile))

        return cls(
            election_id,
            directory,
            board,
            [party("trustee", i) for i in range(1, trustees + 1)],
            [party("mix", i) for i in range(1, mixers + 1)],
        )

    def manifest(self) -> Manifest:
        return Manifest(
            election_id=self.election_id,
            title="テスト市長選挙",
            election_day=dt.date(2026, 12, 6),
            voting_start=VOTING_START,
            voting_end=VOTING_END,
            contests=(
                Contest(
                    "mayor",
                    "市長",
                    "public_office",
                    "single",
                    tuple(Option(o, o.upper()) for o in OPTIONS),
                ),
            ),
            eligibility=Eligibility(16, ("茨城県つくば市",)),
            threshold=self.threshold,
            trustees=tuple(
                Trustee(p.id, p.number, p.public["signing_key"], p.public["exchange_key"])
                for p in self.trustees
            ),
            mix_servers=tuple(
                MixServer(p.id, p.number, p.public["signing_key"]) for p in self.mixers
            ),
            admin_key=raw(self.admin),
            registrar_key=raw(self.registrar),
            board_key=self.board.key_hex,
            group=get_group(GROUP).description(),
        )

    def board_args(self) -> list[str]:
        return [
            "--board",
            self.board.url,
            "--election",
            self.election_id,
            "--board-key",
            self.board.key_hex,
            "--allow-test-groups",
        ]

    def daemon(
        self,
        party: Party,
        *,
        role: str = "trustee",
        round_timeout: float = 90.0,
        workers: int = 1,
        via_env: bool = False,
        alias: bool = False,
    ) -> Daemon:
        command = ["mix"] if alias else ["run", "--role", role]
        args = [
            *command,
            "--keystore",
            str(party.keystore),
            *self.board_args(),
            "--round-timeout",
            str(round_timeout),
            "--poll-interval",
            "0.2",
            "--max-poll-interval",
            "1",
            "--workers",
            str(workers),
            "--give-up-after",
            "60",
        ]
        extra = {}
        if via_env:
            extra["TOHYO_TRUSTEE_PASSPHRASE"] = party.passphrase
        else:
            args += ["--passphrase-file", str(party.passphrase_file)]
        d = Daemon(party.id, args, self.directory, extra)
        self.daemons.append(d)
        return d

    def stop_all(self) -> None:
        for d in self.daemons:
            d.stop()


def votes(n: int) -> list[int]:
    """Voter v's choice (0-based option), deterministic; the same in every test election."""
    return [(v * v + v // 7) % len(OPTIONS) for v in range(n)]


def expected_counts(n: int) -> dict[str, int]:
    """Votes per option of the one contest, from the choices cast."""
    c = Counter(votes(n))
    return {o: c.get(i, 0) for i, o in enumerate(OPTIONS)}


def check_tally(tally: dict[str, Any], n: int) -> None:
    """The published tally (election.counting's form) counts exactly the votes cast."""
    mayor = tally["mayor"]
    assert mayor["counts"] == expected_counts(n)
    assert (mayor["ballots"], mayor["valid"], mayor["blank"], mayor["invalid"]) == (n, n, 0, 0)


async def cast_ballots(client: BoardClient, el: DaemonElection, pk: Element, n: int) -> None:
    """The registrar posts one attested ballot per voter (as in test_election_on_board)."""
    from bulletin_board.entry import sign_envelope

    manifest = el.manifest()
    fingerprint = manifest.fingerprint()
    rng = DeterministicRandom(f"ballots of {el.election_id}")
    for voter, choice in enumerate(votes(n)):
        row, rs = elgamal.encrypt_row(pk, [choice + 1], rng)
        ballot = Ballot.create(fingerprint, pk, row, rs, Ed25519PrivateKey.generate(), rng)
        att = sign_attestation(
            el.registrar, fingerprint, voter.to_bytes(32, "big"), ballot.hash(fingerprint)
        )
        await client.post(
            sign_envelope(
                el.registrar,
                el.election_id,
                "ballot",
                "registrar",
                {"v": 1, "ballot": ballot.to_json(), "attestation": att.to_json()},
            )
        )


async def open_election(client: BoardClient, el: DaemonElection) -> Coordinator:
    coordinator = Coordinator(client, el.admin, el.election_id, allow_test_groups=True)
    from bulletin_board.entry import sign_envelope

    await client.post(
        sign_envelope(
            el.admin, el.election_id, "manifest", "admin", {"manifest": el.manifest().to_json()}
        )
    )
    await coordinator.refresh()
    await coordinator.phase("key_ceremony")
    return coordinator


async def open_with_joint_key(client: BoardClient, el: DaemonElection) -> Coordinator:
    """Open the election, start every trustee's daemon, wait for the joint key."""
    coordinator = await open_election(client, el)
    for p in el.trustees:
        el.daemon(p).start()
    await coordinator.joint_key(WAIT)
    return coordinator


def secrets_of(party: Party) -> list[str]:
    """Every secret string of a party that must never appear in a log line."""
    s = party.secrets()
    out = [party.passphrase, s.keys.x25519.hex(), s.keys.ed25519.hex()]
    for value in (*(s.polynomial or ()), *((s.share,) if s.share is not None else ())):
        out += [hex(value), format(value, "x"), str(value)]
    return out


def assert_no_secrets(logs: str, secrets: list[str]) -> None:
    for secret in secrets:
        assert secret not in logs, "a secret appears in a log"


# ---------------------------------------------------------------- a dishonest board

Forward = Callable[[], Awaitable[web.Response]]
OnPost = Callable[[dict[str, Any], Forward], Awaitable[web.Response | None]]


class DishonestBoard:
    """An HTTP proxy on 127.0.0.1 in front of the board: everything is forwarded, except what
    `on_post` decides for a posted entry (it may hold it, answer for the board, or forward)."""

    def __init__(self, upstream: str) -> None:
        self.upstream = upstream
        self.on_post: OnPost | None = None
        self.url = ""
        self._runner: web.AppRunner | None = None
        self._session: aiohttp.ClientSession | None = None

    async def __aenter__(self) -> DishonestBoard:
        app = web.Application(client_max_size=8 << 20)
        app.router.add_route("*", "/{tail:.*}", self._handle)
        self._runner = web.AppRunner(app)
        await self._runner.setup()
        site = web.TCPSite(self._runner, "127.0.0.1", 0)
        await site.start()
        port = self._runner.addresses[0][1]
        self.url = f"http://127.0.0.1:{port}"
        self._session = aiohttp.ClientSession()
        return self

    async def __aexit__(self, *exc: object) -> None:
        assert self._session is not None and self._runner is not None
        await self._session.close()
        await self._runner.cleanup()

    async def _forward(self, request: web.Request, body: bytes) -> web.Response:
        assert self._session is not None
        headers = {"Content-Type": "application/json"} if body else None
        async with self._session.request(
            request.method, self.upstream + request.path_qs, data=body or None, headers=headers
        ) as resp:
            return web.Response(
                status=resp.status, body=await resp.read(), content_type="application/json"
            )

    async def _handle(self, request: web.Request) -> web.Response:
        body = await request.read()
        if request.method == "POST" and request.path.endswith("/entries") and self.on_post:
            answer = await self.on_post(json.loads(body), lambda: self._forward(request, body))
            if answer is not None:
                return answer
        return await self._forward(request, body)


@dataclass
class ViaProxy:
    """What `DaemonElection` needs of a board: the URL the parties use, the board's key."""

    url: str
    key_hex: str
