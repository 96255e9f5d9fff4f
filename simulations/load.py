"""`tohyo simulate load`: real HTTP load against a running board.

Ballots are built beforehand (as voters' devices would, with their proofs and the registrar's
attestations), so the timed phase measures the board: C concurrent clients post them (and,
with `--read-fraction`, read tree heads and pages of entries) until every request is sent or
the duration is over — bounded in count and in time. Reported: throughput, latency percentiles
(p50/p90/p99) per kind of request, errors by HTTP status and refusal code.

Posting ballots needs the election's registrar key: `--start-board` starts a board on
127.0.0.1 in a child process (its own CPU), sets up an election through the phases up to voting
(manifest, key ceremony, joint key) and writes the keys to `election.json`; against another
board, `--keys FILE` names such a file. Without keys the load is reads only.
"""

from __future__ import annotations

import asyncio
import contextlib
import json
import multiprocessing
import random
import ssl
import time
import urllib.parse
from collections import Counter
from collections.abc import Iterator, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import uvloop

from mixnet.encoding import canonical_json, parse_canonical_json
from mixnet.groups import get_group
from mixnet.rng import DeterministicRandom, RandomSource
from simulations.world import Participants, SimulatedElection, ensure_groups

__all__ = [
    "LoadConnection",
    "LoadTarget",
    "Sample",
    "board_process",
    "drive",
    "percentiles",
    "prepare_target",
    "request",
    "run_load",
    "summarise",
]


# ---------------------------------------------------------------------- a board to load


def _serve(directory: str, key: bytes, ready: Any, stop: Any, processes: int) -> None:
    """Child process: a board with the manifest policy on 127.0.0.1 until `stop` is set, its
    ballots checked in `processes` worker processes as `tohyo board serve` does."""
    from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey

    from bulletin_board.board import Board, Limits
    from bulletin_board.server import BoardServer
    from bulletin_board.storage import SqliteStorage
    from bulletin_board.workers import WorkerPool
    from election.policy import ElectionPolicy
    from election.prechecks import BallotPrecheck

    ensure_groups()

    async def main() -> None:
        # every simulated client connects from 127.0.0.1: only the total connection cap
        limits = Limits(max_client_connections=Limits().max_connections)
        board = Board(
            SqliteStorage(Path(directory) / "board.sqlite"),
            Ed25519PrivateKey.from_private_bytes(key),
            ElectionPolicy(allow_test_groups=True),
            limits=limits,
        )
        pool = WorkerPool(processes) if processes > 1 else None
        if pool is not None:
            board.precheck = BallotPrecheck(pool)
        server = BoardServer(board, "127.0.0.1", 0)
        await server.start()
        ready.put(server.port)
        try:
            while not stop.is_set():
                await asyncio.sleep(0.1)
        finally:
            await server.stop()
            if pool is not None:
                pool.close()

    uvloop.run(main())  # as `tohyo board serve` runs


@contextlib.contextmanager
def board_process(
    directory: Path, key: bytes, timeout: float = 60.0, processes: int = 2
) -> Iterator[str]:
    """Run a board in a child process (its ballots checked in `processes` worker processes,
    as `tohyo board serve`'s default); yields its URL; stops it on exit."""
    import queue

    directory.mkdir(parents=True, exist_ok=True)
    ctx = multiprocessing.get_context("spawn")
    ready, stop = ctx.Queue(), ctx.Event()
    proc = ctx.Process(target=_serve, args=(str(directory), key, ready, stop, processes))
    proc.start()
    try:
        deadline = time.monotonic() + timeout
        while True:
            try:
                port = ready.get(timeout=0.2)
                break
            except queue.Empty:
                if not proc.is_alive() or time.monotonic() > deadline:
                    raise RuntimeError("the board process did not start") from None
        yield f"http://127.0.0.1:{port}"
    finally:
        stop.set()
        proc.join(10)
        if proc.is_alive():
            proc.terminate()
            proc.join(5)


# ---------------------------------------------------------------------- the election's keys


@dataclass(frozen=True)
class LoadTarget:
    """What a load client needs to post valid ballots: a simulation's own throwaway keys."""

    election: str
    group: str
    fingerprint: bytes
    pk: str
    registrar_key: bytes  # Ed25519 private key (raw): a simulation's, never a real election's

    def to_json(self) -> dict[str, Any]:
        return {
            "kind": "tohyo.simulation-load-target",
            "v": 1,
            "election": self.election,
            "group": self.group,
            "fingerprint": self.fingerprint.hex(),
            "pk": self.pk,
            "registrar_key": self.registrar_key.hex(),
        }

    @classmethod
    def from_json(cls, data: Any) -> LoadTarget:
        if not isinstance(data, dict) or data.get("kind") != "tohyo.simulation-load-target":
            raise ValueError("not a load target file written by tohyo simulate load")
        return cls(
            data["election"],
            data["group"],
            bytes.fromhex(data["fingerprint"]),
            data["pk"],
            bytes.fromhex(data["registrar_key"]),
        )

    def write(self, path: Path) -> None:
        """Write with mode 0600 from the start (it holds a private key)."""
        import os

        fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
        with os.fdopen(fd, "wb") as f:
            f.write(canonical_json(self.to_json()))
        path.chmod(0o600)

    @classmethod
    def read(cls, path: Path) -> LoadTarget:
        return cls.from_json(parse_canonical_json(path.read_bytes()))


def _simulation(group_name: str, rng: RandomSource, election: str) -> SimulatedElection:
    ensure_groups()
    people = Participants(
        get_group(group_name), trustees=3, threshold=2, mixers=1, rng=rng, election_id=election
    )
    return SimulatedElection(people, rng, progress=False)


async def prepare_target(
    url: str, group_name: str, election: str, seed: str
) -> tuple[LoadTarget, bytes]:
    """Set up an election on the board at `url` through the phases up to voting.

    The ceremony runs in memory under the same policy, then its accepted entries are posted to
    the board in the same order. Returns the target and the board key the manifest names.
    """
    from bulletin_board.client import BoardClient

    sim = _simulation(group_name, DeterministicRandom(seed), election)
    sim.setup()
    sim.key_ceremony()
    assert sim.outcome is not None
    async with BoardClient(url) as client:
        for entry in sim.board.entries:
            await client.post(entry, election)
    from cryptography.hazmat.primitives import serialization

    raw = serialization.Encoding.Raw, serialization.PrivateFormat.Raw, serialization.NoEncryption()
    target = LoadTarget(
        election,
        group_name,
        sim.fingerprint,
        sim.outcome.pk.to_hex(),
        sim.people.registrar.private_bytes(*raw),
    )
    return target, sim.people.board.private_bytes(*raw)


def make_ballot_entries(
    target: LoadTarget, voters: int, revotes: int, seed: str, progress: bool
) -> list[bytes]:
    """Signed ballot entries for `voters` pseudonyms (plus `revotes` changes of mind)."""
    from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey

    from bulletin_board.entry import sign_envelope
    from election.entries import Ballot
    from jpki.registrar import sign_attestation
    from mixnet import elgamal
    from simulations.world import Vote, ed25519_key

    ensure_groups()
    rng = DeterministicRandom(seed)
    group = get_group(target.group)
    pk = group.element_from_hex(target.pk)
    registrar = Ed25519PrivateKey.from_private_bytes(target.registrar_key)
    base = rng.randbits(64) << 64  # distinct pseudonyms in every run
    votes = [Vote((base + i).to_bytes(32, "big"), rng.randbelow(4)) for i in range(voters)]
    votes += [
        Vote(votes[rng.randbelow(voters)].pseudonym, rng.randbelow(4)) for _ in range(revotes)
    ]
    rows, randomness = elgamal.encrypt_rows(pk, [[v.choice + 1] for v in votes], rng)
    from tqdm import tqdm

    entries = []
    for vote, row, rs in tqdm(
        list(zip(votes, rows, randomness)),
        desc="ballots",
        unit="",
        leave=False,
        disable=not progress,
        mininterval=0.5,
    ):
        ballot = Ballot.create(target.fingerprint, pk, row, rs, ed25519_key(rng), rng)
        att = sign_attestation(
            registrar, target.fingerprint, vote.pseudonym, ballot.hash(target.fingerprint)
        )
        env = sign_envelope(
            registrar,
            target.election,
            "ballot",
            "registrar",
            {"v": 1, "ballot": ballot.to_json(), "attestation": att.to_json()},
        )
        entries.append(env.to_bytes())
    return entries


# ---------------------------------------------------------------------- the load itself


@dataclass(frozen=True)
class Sample:
    kind: str  # "post" or "read"
    start: float  # seconds since the load began
    latency: float
    status: int  # 0 when no HTTP answer
    code: str  # "ok", a refusal code, or the exception's name


class LoadConnection:
    """One keep-alive HTTP/1.1 connection of a load client, written out by hand: the smallest
    client that speaks to the board, so that the load measures the board and not the client
    (which runs on the same cores in `tohyo bench board`). It sends a request and reads its
    answer (Content-Length or chunked); any fault closes the connection, and the next request
    opens a new one."""

    def __init__(self, url: str, timeout: float) -> None:
        parts = urllib.parse.urlsplit(url)
        if parts.scheme not in ("http", "https") or not parts.hostname:
            raise ValueError(f"not an http(s) URL: {url!r}")
        self.host = parts.hostname
        self.port = parts.port or (443 if parts.scheme == "https" else 80)
        self.ssl = ssl.create_default_context() if parts.scheme == "https" else None
        self.authority = parts.netloc.encode("ascii")
        self.timeout = timeout
        self._streams: tuple[asyncio.StreamReader, asyncio.StreamWriter] | None = None

    async def send(self, method: str, path: str, body: bytes | None) -> tuple[int, bytes]:
        """(status, answer body) of one request; raises OSError, TimeoutError or
        `asyncio.IncompleteReadError` (the connection is then closed)."""
        head = [f"{method} {path} HTTP/1.1".encode("ascii"), b"Host: " + self.authority]
        if body is not None:
            head += [b"Content-Type: application/json", b"Content-Length: %d" % len(body)]
        try:
            async with asyncio.timeout(self.timeout):
                if self._streams is None:
                    self._streams = await asyncio.open_connection(
                        self.host, self.port, ssl=self.ssl
                    )
                reader, writer = self._streams
                writer.write(b"\r\n".join(head) + b"\r\n\r\n" + (body or b""))
                return await self._answer(reader)
        except BaseException:
            self.close()
            raise

    async def _answer(self, reader: asyncio.StreamReader) -> tuple[int, bytes]:
        status_line = await reader.readuntil(b"\r\n")
        fields = status_line.split(b" ", 2)
        if len(fields) < 2 or not fields[0].startswith(b"HTTP/1.") or not fields[1].isdigit():
            raise ConnectionError(f"not an HTTP answer: {status_line[:80]!r}")
        length, chunked, close = None, False, False
        while (line := await reader.readuntil(b"\r\n")) != b"\r\n":
            name, _, value = line.partition(b":")
            name, value = name.strip().lower(), value.strip().lower()
            if name == b"content-length":
                length = int(value)
            elif name == b"transfer-encoding":
                chunked = value.endswith(b"chunked")
            elif name == b"connection":
                close = value == b"close"
        if chunked:
            parts = []
            while size := int((await reader.readuntil(b"\r\n")).split(b";")[0], 16):
                parts.append(await reader.readexactly(size + 2))
            while await reader.readuntil(b"\r\n") != b"\r\n":  # trailers
                pass
            answer = b"".join(p[:-2] for p in parts)
        elif length is not None:
            answer = await reader.readexactly(length)
        else:  # the answer ends with the connection
            answer, close = await reader.read(), True
        if close:
            self.close()
        return int(fields[1]), answer

    def close(self) -> None:
        if self._streams is not None:
            self._streams[1].close()
            self._streams = None


async def request(
    connection: LoadConnection, method: str, path: str, body: bytes | None, t0: float, kind: str
) -> Sample:
    start = time.perf_counter()
    try:
        status, raw = await connection.send(method, path, body)
    except (
        TimeoutError,
        OSError,
        ValueError,
        asyncio.IncompleteReadError,
        asyncio.LimitOverrunError,
    ) as exc:
        return Sample(kind, start - t0, time.perf_counter() - start, 0, type(exc).__name__)
    latency = time.perf_counter() - start
    code = "ok"
    if status >= 400:
        try:
            doc = json.loads(raw)
            code = str(doc.get("error")) if isinstance(doc, dict) else "unreadable"
        except ValueError:
            code = "unreadable"
    return Sample(kind, start - t0, latency, status, code)


async def run_load(
    url: str,
    election: str,
    posts: Sequence[bytes],
    *,
    reads: int,
    concurrency: int,
    duration: float,
    timeout: float = 10.0,
    seed: int = 0,
    progress: bool = False,
) -> tuple[list[Sample], float]:
    """Send every request (the posts in order, `reads` reads mixed in at random places) with
    `concurrency` clients until all are sent or `duration` seconds have passed. Returns the
    samples and the elapsed time."""

    chooser = random.Random(seed)
    plan: list[tuple[str, str, bytes | None]] = [
        ("post", f"{url}/v1/elections/{election}/entries", p) for p in posts
    ]
    for _ in range(reads):
        path = chooser.choice(["/tree-head", "/entries?start=0&limit=20", ""])
        plan.insert(
            chooser.randrange(len(plan) + 1), ("read", f"{url}/v1/elections/{election}{path}", None)
        )
    return await drive(
        plan,
        concurrency=concurrency,
        duration=duration,
        timeout=timeout,
        progress=progress,
        desc="load",
        unit="req",
    )


async def drive(
    plan: Sequence[tuple[str, str, bytes | None]],
    *,
    concurrency: int,
    duration: float,
    timeout: float,
    progress: bool,
    desc: str,
    unit: str,
) -> tuple[list[Sample], float]:
    """`concurrency` clients, each with its own keep-alive connection, send the requests of
    `plan` — (kind, url, body): a POST when there is a body, else a GET; every url on one
    board — in order until all are sent or `duration` seconds have passed. Returns the
    samples and the elapsed time."""
    from tqdm import tqdm

    if not plan:
        return [], 0.0
    origin = urllib.parse.urlsplit(plan[0][1])
    base = f"{origin.scheme}://{origin.netloc}"
    queue = iter(plan)
    samples: list[Sample] = []
    bar = tqdm(
        total=len(plan), desc=desc, unit=unit, leave=False, disable=not progress, mininterval=0.5
    )
    t0 = time.perf_counter()
    deadline = t0 + duration

    async def worker() -> None:
        connection = LoadConnection(base, timeout)
        try:
            for kind, target, body in queue:
                if time.perf_counter() >= deadline:
                    return
                if not target.startswith(base + "/"):
                    raise ValueError(f"{target} is not on {base}")
                samples.append(
                    await request(
                        connection,
                        "POST" if body is not None else "GET",
                        target[len(base) :],
                        body,
                        t0,
                        kind,
                    )
                )
                bar.update(1)
        finally:
            connection.close()

    await asyncio.gather(*(worker() for _ in range(concurrency)))
    elapsed = time.perf_counter() - t0
    bar.close()
    return samples, elapsed


def percentiles(values: Sequence[float], ps: Sequence[int] = (50, 90, 99)) -> dict[str, float]:
    """Nearest-rank percentiles, in milliseconds."""
    if not values:
        return {f"p{p}": 0.0 for p in ps}
    ordered = sorted(values)
    out = {}
    for p in ps:
        rank = max(1, -(-p * len(ordered) // 100))
        out[f"p{p}"] = ordered[rank - 1] * 1000
    return out


def summarise(samples: Sequence[Sample], elapsed: float) -> dict[str, Any]:
    by_kind: dict[str, Any] = {}
    for kind in sorted({s.kind for s in samples}):
        mine = [s for s in samples if s.kind == kind]
        ok = [s for s in mine if s.status and s.status < 400]
        by_kind[kind] = {
            "requests": len(mine),
            "ok": len(ok),
            "throughput_per_s": len(mine) / elapsed if elapsed else 0.0,
            "ok_per_s": len(ok) / elapsed if elapsed else 0.0,
            "latency_ms": percentiles([s.latency for s in mine]),
        }
    errors = Counter(f"{s.status} {s.code}" for s in samples if not s.status or s.status >= 400)
    return {
        "elapsed_s": elapsed,
        "requests": len(samples),
        "throughput_per_s": len(samples) / elapsed if elapsed else 0.0,
        "latency_ms": percentiles([s.latency for s in samples]),
        "by_kind": by_kind,
        "errors": dict(sorted(errors.items())),
        "server_errors": sum(1 for s in samples if s.status >= 500),
        "connection_errors": sum(1 for s in samples if s.status == 0),
    }


def plot_load(samples: Sequence[Sample], elapsed: float, path: Path) -> None:
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    fig, (ax1, ax2) = plt.subplots(1, 2, figsize=(12, 4.5))
    seconds = max(1, int(elapsed) + 1)
    for kind in sorted({s.kind for s in samples}):
        per = [0] * seconds
        for s in samples:
            if s.kind == kind:
                per[min(seconds - 1, int(s.start + s.latency))] += 1
        ax1.plot(range(seconds), per, marker=".", label=kind)
        ax2.hist(
            [s.latency * 1000 for s in samples if s.kind == kind], bins=40, alpha=0.6, label=kind
        )
    ax1.set_xlabel("second of the run")
    ax1.set_ylabel("requests completed")
    ax1.set_title("throughput")
    ax1.legend()
    ax2.set_xlabel("latency (ms)")
    ax2.set_ylabel("requests")
    ax2.set_title("latency")
    ax2.legend()
    fig.tight_layout()
    fig.savefig(path, dpi=110)
    plt.close(fig)


async def reachable(url: str, timeout: float = 5.0) -> bool:
    import aiohttp

    try:
        async with aiohttp.ClientSession(timeout=aiohttp.ClientTimeout(total=timeout)) as s:
            async with s.get(f"{url}/health") as resp:
                return resp.status == 200
    except (TimeoutError, aiohttp.ClientError, OSError):
        return False


async def describe(url: str, election: str) -> Any:
    """The board's status of the election after the load (or why it could not be read)."""
    import aiohttp

    try:
        async with aiohttp.ClientSession(timeout=aiohttp.ClientTimeout(total=10)) as s:
            async with s.get(f"{url}/v1/elections/{election}") as resp:
                return await resp.json() if resp.status == 200 else {"status": resp.status}
    except (TimeoutError, aiohttp.ClientError, OSError, ValueError) as exc:
        return {"unreadable": type(exc).__name__}
