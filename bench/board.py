"""`tohyo bench board`: ballots a real board accepts per second, against in-process validation.

The board is `tohyo board serve --registrar SETTINGS --processes P` in its own process on
127.0.0.1, on SQLite and on PostgreSQL. Two endpoints, each the production path:

- `/ballots`, the voters' endpoint: the request of a voter's device (ballot, card certificate
  and signature, one-time voting code). The checking processes check the ballot and the card
  (test CA, CRL, eligibility) and sign the attestation and the entry; the board checks the
  code, appends, signs the receipt, keeps the encrypted evidence.
- `/entries`: the same ballots as attested entries, as a registrar that runs apart from the
  board posts them. The checking processes check the entry's signature, the ballot and the
  attestation; the board appends and signs the receipt.

The election (manifest, key ceremony, joint key, voting) is run in memory once and its entries
posted to each fresh board; the ballots (encrypted, proved, signed) are built beforehand, so the
timed phase measures the board alone.

Per endpoint, backend and number of concurrent clients C: ballots accepted per second,
p50/p90/p99 latency, refusals by code. In the same run, the cost of validating one body in this
process with the checking processes' own function (`election.intake.validate_request`, or
`election.prechecks.check_ballot_entry`), on the bodies posted, half just before and half just
after the timed phase (the mean is used), and

    intake_ratio = accepted per second / (P / validation seconds per ballot)

where P is the board's ballot-checking processes (`--processes`): 1.0 would mean that HTTP,
signing, the processes' traffic and storage cost nothing beyond validation on P cores. Beside
it: the ballot's own checks alone (`check_ballot_only`) and the ratio against them; P processes
validating at once, measured, and the ratio against that. Figures are measured, never
asserted; the load average and the CPU time per ballot of each party are reported with each
run.
"""

from __future__ import annotations

import argparse
import asyncio
import datetime as dt
import itertools
import json
import os
import secrets
import sys
import tempfile
import time
from collections.abc import Sequence
from concurrent.futures import ProcessPoolExecutor
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import uvloop
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import padding
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey

from bulletin_board.cli import DEFAULT_CHECK_PROCESSES
from election.intake import (
    CheckSettings,
    ElectionChecks,
    load_registrar_settings,
    validate_request,
)
from election.manifest import Manifest
from election.policy import check_ballot_only
from election.prechecks import check_ballot_entry, election_job_args
from jpki.certs import BasicFacts, CertPurpose, Sex
from jpki.registrar import ballot_message
from jpki.testca import TestCa, pooled_rsa_key
from jpki.voting_codes import generate_voting_codes
from mixnet.groups import DEFAULT_GROUP, Element, get_group
from mixnet.rng import DeterministicRandom
from simulations.load import Sample, drive, summarise
from simulations.world import Participants, SimulatedElection, ensure_groups
from tohyo.cli import CliError

__all__ = ["Fixture", "add_arguments", "build_fixture", "post_ballots", "run", "run_one"]

ELECTION = "bench-board-2026"
BACKENDS = ("sqlite", "postgresql")
KEY_ENV, EVIDENCE_ENV = "TOHYO_KEY_PASSPHRASE", "TOHYO_EVIDENCE_PASSPHRASE"
VOTER_KEYS = 4  # RSA keys shared by the voters' test certificates (key generation is slow)
CHUNK = 100


def _say(text: str) -> None:
    print(f"bench board: {text}", file=sys.stderr, flush=True)


# ---------------------------------------------------------------------- the election and ballots


@dataclass(frozen=True)
class Fixture:
    """Everything a run needs, built once: the same requests are valid on every fresh board."""

    manifest: Manifest
    pk: Element
    setup_entries: tuple[bytes, ...]
    board_key: Ed25519PrivateKey
    registrar_key: Ed25519PrivateKey
    ca: TestCa
    code_hashes: tuple[str, ...]
    warmup: tuple[bytes, ...]
    requests: tuple[bytes, ...]
    # the same ballots as attested entries, as a registrar apart from the board posts them
    warmup_entries: tuple[bytes, ...] = ()
    entries: tuple[bytes, ...] = ()

    def bodies(self, endpoint: str) -> tuple[tuple[bytes, ...], tuple[bytes, ...]]:
        """(warm-up, timed) bodies for `endpoint`: "ballots" or "entries"."""
        if endpoint == "ballots":
            return self.warmup, self.requests
        return self.warmup_entries, self.entries


def _facts(i: int) -> BasicFacts:
    born = dt.date(1950 + i % 50, 1 + i % 12, 1 + i % 28)
    return BasicFacts(
        f"負荷　試験{i}",
        born,
        Sex.FEMALE if i % 2 else Sex.MALE,
        f"茨城県つくば市研究学園{1 + i % 9}丁目{i}番地",
    )


def _requests(
    manifest_json: dict[str, Any],
    pk_hex: str,
    key_pem: bytes,
    certificates: list[bytes],
    codes: list[str],
    seed: str,
    registrar_key: bytes,
    first: int,
) -> list[tuple[bytes, bytes]]:
    """Worker: per voter, the ballot request as the voter's device sends it, and the same
    ballot as the attested entry a registrar apart from the board would post."""
    from bulletin_board.entry import sign_envelope
    from jpki.registrar import sign_attestation
    from voter_client.ballot import encrypt_ballot

    manifest = Manifest.from_json(manifest_json)
    pk = manifest.group_object().element_from_hex(pk_hex)
    fingerprint = manifest.fingerprint()
    key: Any = serialization.load_pem_private_key(key_pem, None)
    registrar = Ed25519PrivateKey.from_private_bytes(registrar_key)
    rng = DeterministicRandom(seed)
    contest = manifest.contests[0]
    out = []
    for voter, (certificate, code) in enumerate(zip(certificates, codes), start=first):
        option = contest.options[rng.randbelow(len(contest.options))].id
        ballot = encrypt_ballot(manifest, pk, {contest.id: option}, rng).ballot
        # what the card's COMPUTE SIGNATURE returns: RSA PKCS#1 v1.5 over SHA-256
        signature = key.sign(
            ballot_message(fingerprint, ballot.hash(fingerprint)),
            padding.PKCS1v15(),
            hashes.SHA256(),
        )
        body = {
            "ballot": ballot.to_json(),
            "jpki": {"certificate": certificate.hex(), "signature": signature.hex()},
            "voting_code": code,
        }
        attestation = sign_attestation(
            registrar, fingerprint, voter.to_bytes(32, "big"), ballot.hash(fingerprint)
        )
        entry = sign_envelope(
            registrar,
            manifest.election_id,
            "ballot",
            "registrar",
            {"v": 1, "ballot": ballot.to_json(), "attestation": attestation.to_json()},
        )
        out.append((json.dumps(body).encode(), entry.to_bytes()))
    return out


def build_fixture(
    group_name: str,
    ballots: int,
    warmup: int,
    processes: int,
    seed: str = "bench board",
    progress: bool = True,
) -> Fixture:
    """Run the election up to voting in memory and build warmup + ballots requests."""
    from tqdm import tqdm

    ensure_groups()
    rng = DeterministicRandom(seed)
    people = Participants(
        get_group(group_name), trustees=3, threshold=2, mixers=1, rng=rng, election_id=ELECTION
    )
    sim = SimulatedElection(people, rng, progress=False)
    sim.setup()
    outcome = sim.key_ceremony()
    ca = TestCa.create(label="bench-board")
    voters = warmup + ballots
    csv_text, code_hashes = generate_voting_codes(voters)
    codes = [line.split(",")[1] for line in csv_text.splitlines()[1:]]
    now = dt.datetime.now(dt.UTC)
    registrar_raw = people.registrar.private_bytes(
        serialization.Encoding.Raw, serialization.PrivateFormat.Raw, serialization.NoEncryption()
    )
    pems = [
        pooled_rsa_key(f"bench-board-voter-{k}").private_bytes(
            serialization.Encoding.PEM,
            serialization.PrivateFormat.PKCS8,
            serialization.NoEncryption(),
        )
        for k in range(VOTER_KEYS)
    ]
    jobs = []
    with ProcessPoolExecutor(max(1, processes)) as pool:
        for start in tqdm(
            range(0, voters, CHUNK),
            desc="certificates",
            unit="chunk",
            leave=False,
            disable=not progress,
            mininterval=0.5,
        ):
            k = start // CHUNK % VOTER_KEYS
            public = pooled_rsa_key(f"bench-board-voter-{k}").public_key()
            certificates = [
                ca.issue_sign_cert(
                    _facts(i),
                    public,
                    not_before=now - dt.timedelta(days=30),
                    not_after=now + dt.timedelta(days=365),
                ).public_bytes(serialization.Encoding.DER)
                for i in range(start, min(voters, start + CHUNK))
            ]
            jobs.append(
                pool.submit(
                    _requests,
                    people.manifest.to_json(),
                    outcome.pk.to_hex(),
                    pems[k],
                    certificates,
                    codes[start : start + CHUNK],
                    f"{seed}/{start}",
                    registrar_raw,
                    start,
                )
            )
        pairs = [
            r
            for job in tqdm(
                jobs,
                desc="ballot requests",
                unit="chunk",
                leave=False,
                disable=not progress,
                mininterval=0.5,
            )
            for r in job.result()
        ]
    return Fixture(
        people.manifest,
        outcome.pk,
        tuple(sim.board.entries),
        people.board,
        people.registrar,
        ca,
        tuple(code_hashes),
        tuple(r for r, _ in pairs[:warmup]),
        tuple(r for r, _ in pairs[warmup:]),
        tuple(e for _, e in pairs[:warmup]),
        tuple(e for _, e in pairs[warmup:]),
    )


# ---------------------------------------------------------------------- a board process


def _pem(key: Ed25519PrivateKey, path: Path, passphrase: str) -> None:
    path.write_bytes(
        key.private_bytes(
            serialization.Encoding.PEM,
            serialization.PrivateFormat.PKCS8,
            serialization.BestAvailableEncryption(passphrase.encode()),
        )
    )
    path.chmod(0o600)


def write_settings(directory: Path, fx: Fixture, passphrase: str) -> Path:
    """The board's key and the registrar's settings file (test CA, CRL, code hashes)."""
    directory.mkdir(parents=True, exist_ok=True)
    _pem(fx.board_key, directory / "board.pem", passphrase)
    _pem(fx.registrar_key, directory / "registrar.pem", passphrase)
    (directory / "sign_ca.pem").write_bytes(
        fx.ca.sign.certificate.public_bytes(serialization.Encoding.PEM)
    )
    now = dt.datetime.now(dt.UTC)
    crl = fx.ca.crl(
        CertPurpose.SIGN,
        this_update=now - dt.timedelta(days=1),
        next_update=now + dt.timedelta(days=30),
    )
    (directory / "sign.crl").write_bytes(crl.public_bytes(serialization.Encoding.DER))
    (directory / "hashes.json").write_text(json.dumps({"v": 1, "hashes": list(fx.code_hashes)}))
    settings = directory / "registrar.toml"
    settings.write_text(
        'key = "registrar.pem"\nanchors = ["sign_ca.pem"]\ncrls = ["sign.crl"]\n'
        f'evidence_dir = "evidence"\nelections = ["{fx.manifest.fingerprint().hex()}"]\n'
        f'[voting_codes]\n"{ELECTION}" = "hashes.json"\n'
    )
    return settings


ENDPOINTS = ("ballots", "entries")


async def post_ballots(
    url: str,
    bodies: Sequence[bytes],
    *,
    concurrency: int,
    duration: float,
    progress: bool,
    timeout: float = 120.0,
    endpoint: str = "ballots",
) -> tuple[list[Sample], float]:
    """`concurrency` clients post the bodies to the endpoint in order until all are sent or
    `duration` is over; returns the samples and the elapsed seconds."""
    target = f"{url}/v1/elections/{ELECTION}/{endpoint}"
    return await drive(
        [("post", target, body) for body in bodies],
        concurrency=concurrency,
        duration=duration,
        timeout=timeout,
        progress=progress,
        desc=f"posting ({concurrency} clients)",
        unit="ballot",
    )


class Validator:
    """What the board's checking processes check of one body posted to `endpoint`, run here:
    for "ballots" the intake's `validate_request` (the ballot's checks and the card's), for
    "entries" `check_ballot_entry` (the registrar's signature on the entry, the ballot's
    checks and the attestation)."""

    def __init__(
        self, endpoint: str, settings: CheckSettings, manifest: Manifest, pk: Element
    ) -> None:
        self.endpoint = endpoint
        self.manifest, self.pk = manifest, pk
        self.fingerprint = manifest.fingerprint()
        self.now = dt.datetime.now(dt.UTC)
        self.checks = ElectionChecks.build(settings, manifest, pk)
        self.entry_context = election_job_args(manifest, pk)

    def __call__(self, body: bytes) -> None:
        if self.endpoint == "ballots":
            validate_request(self.checks, body, self.now)
            return
        outcome = check_ballot_entry(*self.entry_context, body)
        if outcome[0] != "ok":
            raise CliError(f"a ballot entry of the bench fails its checks: {outcome}")

    def ballot_part(self, body: bytes) -> Any:
        """The ballot JSON of a body, for timing the ballot's own checks alone."""
        doc = json.loads(body)
        return doc["ballot"] if self.endpoint == "ballots" else doc["body"]["ballot"]

    def check_ballot(self, ballot_json: Any) -> None:
        check_ballot_only(self.pk.group, self.manifest, self.fingerprint, self.pk, ballot_json)


def validation_seconds(
    validate: Validator, bodies: Sequence[bytes], count: int
) -> tuple[float, float]:
    """Mean seconds, in this process, of `validate` on these bodies (in turn, `count` in all)
    and of the ballot's own checks alone (`check_ballot_only`)."""
    ballots = [validate.ballot_part(b) for b in bodies]
    validate(bodies[0])  # tables, caches
    count = max(1, count)
    start = time.perf_counter()
    for k in range(count):
        validate(bodies[k % len(bodies)])
    full = (time.perf_counter() - start) / count
    start = time.perf_counter()
    for k in range(count):
        validate.check_ballot(ballots[k % len(ballots)])
    return full, (time.perf_counter() - start) / count


def _validate_together(
    settings: CheckSettings,
    manifest_json: dict[str, Any],
    pk_hex: str,
    endpoint: str,
    bodies: Sequence[bytes],
    start: float,
) -> float:
    """Worker of `parallel_validations_per_s`: validate `bodies` from monotonic time `start`
    (the same instant in every worker); returns the seconds taken."""
    manifest = Manifest.from_json(manifest_json)
    validate = Validator(
        endpoint, settings, manifest, manifest.group_object().element_from_hex(pk_hex)
    )
    for body in bodies[:40]:  # tables and caches, as a board that has run a while has them
        validate(body)
    while time.monotonic() < start:
        time.sleep(0.001)
    began = time.perf_counter()
    for body in bodies:
        validate(body)
    return time.perf_counter() - began


def parallel_validations_per_s(
    settings: CheckSettings, fx: Fixture, endpoint: str, bodies: Sequence[bytes], processes: int
) -> float:
    """Bodies validated per second by `processes` processes at once, each validating
    `bodies`: what `processes / validation time` assumes, measured. On a machine whose cores
    slow each other down (shared caches, SMT siblings, a busy host) it is lower."""
    with ProcessPoolExecutor(processes) as pool:
        start = time.monotonic() + 3.0
        jobs = [
            pool.submit(
                _validate_together,
                settings,
                fx.manifest.to_json(),
                fx.pk.to_hex(),
                endpoint,
                list(bodies),
                start,
            )
            for _ in range(processes)
        ]
        slowest = max(job.result() for job in jobs)
    return processes * len(bodies) / slowest


def process_cpu(pid: int) -> tuple[float, float]:
    """CPU seconds (user + system) of process `pid` and of its live child processes (the
    board's checking pool), read from /proc; (0, 0) where /proc is not there."""
    tick = os.sysconf("SC_CLK_TCK")

    def stat(p: str) -> list[str] | None:
        try:
            text = Path(f"/proc/{p}/stat").read_text()
        except OSError:
            return None
        return text[text.rindex(")") + 2 :].split()  # fields from the state on

    own = stat(str(pid))
    if own is None:
        return 0.0, 0.0
    children = 0.0
    for entry in os.listdir("/proc"):
        fields = stat(entry) if entry.isdigit() else None
        if fields is not None and fields[1] == str(pid):  # ppid
            children += (int(fields[11]) + int(fields[12])) / tick
    return (int(own[11]) + int(own[12])) / tick, children


async def _drive(
    url: str,
    fx: Fixture,
    settings: CheckSettings,
    endpoint: str,
    concurrency: int,
    duration: float,
    samples: int,
    processes: int,
    progress: bool,
    board_pid: int,
) -> dict[str, Any]:
    from bulletin_board.client import BoardClient

    async with BoardClient(url) as client:
        for entry in fx.setup_entries:
            await client.post(entry, ELECTION)
    warmup, timed = fx.bodies(endpoint)
    warm, _ = await post_ballots(
        url,
        warmup,
        concurrency=max(1, min(8, len(warmup))),
        duration=600,
        progress=False,
        endpoint=endpoint,
    )
    refused = [s.code for s in warm if s.code != "ok"]
    if refused:
        raise CliError(
            f"the board refused the warm-up ballots: {sorted(set(refused))} "
            "(see board.log in the run directory)"
        )
    pk = fx.pk.group.element_from_hex(fx.pk.to_hex())  # decoded as the board does it
    validate = Validator(endpoint, settings, fx.manifest, pk)
    # validation just before and just after the timed phase: the machine's load varies
    before = validation_seconds(validate, warmup, samples // 2)
    load_before = os.getloadavg()
    cpu_before = (*process_cpu(board_pid), time.process_time())
    posted, elapsed = await post_ballots(
        url, timed, concurrency=concurrency, duration=duration, progress=progress, endpoint=endpoint
    )
    cpu_after = (*process_cpu(board_pid), time.process_time())
    load_after = os.getloadavg()
    summary = summarise(posted, elapsed)
    async with BoardClient(url) as client:
        status = await client.election(ELECTION)
    after = validation_seconds(validate, timed[:samples], samples - samples // 2)
    together = parallel_validations_per_s(settings, fx, endpoint, timed[:samples], processes)
    cpu = dict(
        zip(
            ("board_process", "checking_processes", "clients"),
            (b - a for a, b in zip(cpu_before, cpu_after)),
        )
    )
    return {
        "summary": summary,
        "validation_s": (before, after),
        "together_per_s": together,
        "status": status,
        "cpu_s": cpu,
        "load_average": {"before": list(load_before), "after": list(load_after)},
    }


def run_one(
    fx: Fixture,
    backend: str,
    db: str,
    directory: Path,
    *,
    concurrency: int,
    processes: int,
    duration: float,
    samples: int,
    test_group: bool,
    progress: bool,
    endpoint: str = "ballots",
) -> dict[str, Any]:
    """One fresh board process on `db`: set up the election, warm up, time the ballots."""
    from bulletin_board.testing import BoardProcess

    passphrase = os.environ.setdefault(KEY_ENV, secrets.token_urlsafe(18))
    os.environ.setdefault(EVIDENCE_ENV, secrets.token_urlsafe(18))
    settings = write_settings(directory, fx, passphrase)
    check_settings = load_registrar_settings(settings).for_checks()
    # the manifest's administrator; every client of the run on one address (127.0.0.1)
    extra: tuple[str, ...] = (
        "--registrar",
        str(settings),
        "--processes",
        str(processes),
        "--admin-key",
        fx.manifest.admin_key,
        "--max-client-connections",
        str(max(64, concurrency + 16)),
    )
    extra += ("--allow-test-groups",) if test_group else ()
    board = BoardProcess(
        db, directory / "board.pem", log_path=str(directory / "board.log"), extra=extra
    )
    board.start()
    try:
        assert board.proc is not None
        got = uvloop.run(
            _drive(
                board.url,
                fx,
                check_settings,
                endpoint,
                concurrency,
                duration,
                samples,
                processes,
                progress,
                board.proc.pid,
            )
        )
    finally:
        board.stop()
    summary = got["summary"]
    post = summary["by_kind"].get(
        "post", {"requests": 0, "ok": 0, "ok_per_s": 0.0, "latency_ms": {}}
    )
    (before, ballot_before), (after, ballot_after) = got["validation_s"]
    validation = (before + after) / 2
    ballot_check = (ballot_before + ballot_after) / 2
    capacity = processes / validation
    return {
        "backend": backend,
        "endpoint": endpoint,
        "concurrency": concurrency,
        "processes": processes,
        "ballots": len(fx.bodies(endpoint)[1]),
        "posted": post["requests"],
        "accepted": post["ok"],
        "errors": summary["errors"],
        "elapsed_s": round(summary["elapsed_s"], 3),
        "accepted_per_s": round(post["ok_per_s"], 2),
        "latency_ms": {k: round(v, 2) for k, v in post["latency_ms"].items()},
        "validation_ms": round(validation * 1000, 4),
        "validation_ms_before_after": [round(before * 1000, 4), round(after * 1000, 4)],
        "ballot_check_ms": round(ballot_check * 1000, 4),
        "capacity_per_s": round(capacity, 2),
        "intake_ratio": round(post["ok_per_s"] / capacity, 4),
        "ballot_only_ratio": round(post["ok_per_s"] * ballot_check / processes, 4),
        # P processes validating at once, measured: what P / validation time assumes
        "parallel_validations_per_s": round(got["together_per_s"], 2),
        "validation_scaling": round(got["together_per_s"] / capacity, 4),
        "parallel_ratio": round(post["ok_per_s"] / got["together_per_s"], 4),
        "board_ballots": got["status"]["policy"]["ballots"],
        # CPU per accepted ballot in the timed phase: where the time goes besides the checks
        "cpu_ms_per_ballot": {
            k: round(v * 1000 / max(1, post["ok"]), 3) for k, v in got["cpu_s"].items()
        },
        "load_average": got["load_average"],
    }


# ---------------------------------------------------------------------- the command


def add_arguments(parser: argparse.ArgumentParser) -> None:
    parser.add_argument(
        "--backend",
        action="append",
        choices=BACKENDS,
        help="storage backend (repeatable; default: both)",
    )
    parser.add_argument(
        "--endpoint",
        action="append",
        choices=ENDPOINTS,
        help="ballots: the voters' endpoint, the board checks the card too; "
        "entries: attested ballot entries from a registrar apart from the "
        "board (repeatable; default: both)",
    )
    parser.add_argument(
        "--pg-dsn",
        default=os.environ.get("TOHYO_TEST_PG_DSN"),
        help="PostgreSQL server (default: $TOHYO_TEST_PG_DSN); each run "
        "creates and drops its own database there",
    )
    parser.add_argument("--group", default=DEFAULT_GROUP)
    parser.add_argument(
        "--allow-test-groups",
        action="store_true",
        help="allow a test group (passed on to the board)",
    )
    parser.add_argument(
        "--concurrency",
        action="append",
        type=int,
        help="concurrent clients (repeatable; default: 50 and 200)",
    )
    parser.add_argument("--ballots", type=int, default=3000, help="ballots posted per run")
    parser.add_argument(
        "--warmup", type=int, default=20, help="ballots posted before the timed phase of each run"
    )
    parser.add_argument(
        "--duration", type=float, default=60.0, help="longest timed phase of a run (seconds)"
    )
    parser.add_argument(
        "--processes",
        type=int,
        default=DEFAULT_CHECK_PROCESSES,
        help="the board's ballot-checking processes (default: the board's)",
    )
    parser.add_argument(
        "--samples",
        type=int,
        default=200,
        help="ballot checks timed in this process per run (half before, "
        "half after the timed phase)",
    )
    parser.add_argument(
        "--json",
        nargs="?",
        const="-",
        metavar="PATH",
        help="write the results as JSON to PATH (without PATH: print them)",
    )
    parser.add_argument("--keep", type=Path, help="keep the run directories (logs) here")
    parser.add_argument("--quiet", action="store_true", help="no progress on stderr")


def _check(args: argparse.Namespace) -> tuple[list[str], list[int]]:
    backends = list(dict.fromkeys(args.backend or BACKENDS))
    concurrency = args.concurrency or [50, 200]
    if "postgresql" in backends and not args.pg_dsn:
        raise CliError(
            "PostgreSQL needs a server: give --pg-dsn DSN or set TOHYO_TEST_PG_DSN "
            "(or measure SQLite alone with --backend sqlite)"
        )
    if min(*concurrency, args.ballots, args.processes, args.warmup) < 1 or args.samples < 2:
        raise CliError(
            "--ballots, --warmup, --processes and --concurrency must be positive, "
            "--samples at least 2"
        )
    try:
        group = get_group(args.group)
    except (KeyError, ValueError) as exc:
        raise CliError(f"unknown group {args.group}") from exc
    if not group.production and not args.allow_test_groups:
        raise CliError(f"{args.group} is a test group: add --allow-test-groups")
    return backends, concurrency


async def _database(dsn: str, drop: str | None = None) -> str:
    from bulletin_board.testing import drop_database, fresh_database

    if drop is not None:
        await drop_database(dsn, drop)
        return drop
    return await fresh_database(dsn)


def run(args: argparse.Namespace) -> int:
    backends, concurrency = _check(args)
    endpoints = list(dict.fromkeys(args.endpoint or ENDPOINTS))
    progress = not args.quiet
    start_load = os.getloadavg()
    _say(
        f"group {args.group}, {args.ballots} ballots per run (+{args.warmup} warm-up), "
        f"board --processes {args.processes}, load average {_load(start_load)}"
    )
    t = time.perf_counter()
    fx = build_fixture(args.group, args.ballots, args.warmup, args.processes, progress=progress)
    _say(
        f"election and {len(fx.warmup) + len(fx.requests)} ballot requests built in "
        f"{time.perf_counter() - t:.1f} s"
    )
    runs = []
    with tempfile.TemporaryDirectory(prefix="tohyo-bench-board-") as tmp:
        base = args.keep or Path(tmp)
        for endpoint, backend, c in itertools.product(endpoints, backends, concurrency):
            directory = base / f"{endpoint}-{backend}-{c}"
            if backend == "sqlite":
                db = str(directory / "board.sqlite")
            else:
                db = asyncio.run(_database(args.pg_dsn))
            try:
                record = run_one(
                    fx,
                    backend,
                    db,
                    directory,
                    concurrency=c,
                    processes=args.processes,
                    duration=args.duration,
                    samples=args.samples,
                    test_group=not get_group(args.group).production,
                    progress=progress,
                    endpoint=endpoint,
                )
            finally:
                if backend == "postgresql":
                    asyncio.run(_database(args.pg_dsn, drop=db))
            runs.append(record)
            _say(_line(record))
    doc = {
        "bench": "board",
        "v": 1,
        "group": args.group,
        "processes": args.processes,
        "cores": _cores(args.processes),
        "cpu_count": os.cpu_count(),
        "ballots_per_run": args.ballots,
        "warmup": args.warmup,
        "duration_limit_s": args.duration,
        "validation": {
            "ballots": "election.intake.validate_request (the ballot's and the card's "
            "checks), one core, this process",
            "entries": "election.prechecks.check_ballot_entry (the entry's signature, the "
            "ballot's checks, the attestation), one core, this process",
            "ballot_check": "election.policy.check_ballot_only",
        },
        "load_average": {"start": list(start_load), "end": list(os.getloadavg())},
        "runs": runs,
    }
    _report(doc, args.json)
    return 0


def _cores(processes: int) -> str:
    if processes == 1:
        return "1: the board's --processes 1 checks ballots on a thread of its own process"
    return f"{processes}: the board's --processes, the pool of processes that check ballots"


def _load(values: Sequence[float]) -> str:
    return " ".join(f"{v:.2f}" for v in values)


def _line(r: dict[str, Any]) -> str:
    lat = r["latency_ms"]
    errors = ", ".join(f"{k}: {v}" for k, v in r["errors"].items()) or "none"
    return (
        f"/{r['endpoint']:<8} {r['backend']:<10} C={r['concurrency']:<4} "
        f"{r['accepted']}/{r['posted']} accepted "
        f"in {r['elapsed_s']:.1f} s = {r['accepted_per_s']:.1f}/s  p50 {lat.get('p50', 0):.0f}"
        f" ms  p99 {lat.get('p99', 0):.0f} ms  validation {r['validation_ms']:.3f} ms "
        f"(ballot {r['ballot_check_ms']:.3f})  intake_ratio {r['intake_ratio']:.2f} "
        f"(ballot only {r['ballot_only_ratio']:.2f}; against {r['processes']} processes "
        f"validating at once, {r['parallel_validations_per_s']:.0f}/s measured: "
        f"{r['parallel_ratio']:.2f})  errors: {errors}  "
        f"load {_load(r['load_average']['after'])}"
    )


def _report(doc: dict[str, Any], json_path: str | None) -> None:
    if json_path == "-":
        print(json.dumps(doc, indent=1))
        return
    if json_path:
        Path(json_path).write_text(json.dumps(doc, indent=1) + "\n")
    print(
        f"board intake: group {doc['group']}, {doc['ballots_per_run']} ballots per run; "
        f"cores of intake_ratio = {doc['cores']}"
    )
    print(
        f"{'endpoint':<9}{'backend':<11}{'clients':>8}{'accepted':>10}{'ballots/s':>11}"
        f"{'p50 ms':>9}"
        f"{'p99 ms':>9}{'valid. ms':>11}{'ratio':>7}{'ballot':>8}{'ratio':>7}"
        f"{'together/s':>12}{'scaling':>9}{'ratio':>7}  "
        "CPU ms/ballot: board, checkers, clients  errors"
    )
    for r in doc["runs"]:
        errors = ", ".join(f"{k}: {v}" for k, v in r["errors"].items()) or "none"
        cpu = r["cpu_ms_per_ballot"]
        print(
            f"{'/' + r['endpoint']:<9}{r['backend']:<11}{r['concurrency']:>8}{r['accepted']:>10}"
            f"{r['accepted_per_s']:>11.1f}{r['latency_ms'].get('p50', 0):>9.1f}"
            f"{r['latency_ms'].get('p99', 0):>9.1f}{r['validation_ms']:>11.3f}"
            f"{r['intake_ratio']:>7.2f}{r['ballot_check_ms']:>8.3f}"
            f"{r['ballot_only_ratio']:>7.2f}{r['parallel_validations_per_s']:>12.1f}"
            f"{r['validation_scaling']:>9.2f}{r['parallel_ratio']:>7.2f}  "
            f"{cpu['board_process']:6.2f} {cpu['checking_processes']:6.2f} "
            f"{cpu['clients']:6.2f}  {errors}"
        )
    print(
        "valid. ms: what the checking processes check of one body, in one process (/ballots: "
        "the ballot's and the card's checks; /entries: the entry's signature, the ballot's "
        "checks and the attestation); ratio: intake_ratio. ballot: the ballot's checks alone, "
        "and the ratio against them. together/s: "
        "the checking processes' number of processes validating at once, measured; scaling: "
        "that ÷ (processes ÷ valid. ms); ratio: ballots/s ÷ together/s."
    )
    print(
        f"load average: start {_load(doc['load_average']['start'])}, "
        f"end {_load(doc['load_average']['end'])} ({doc['cpu_count']} cores)"
    )


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="bench.board", description=__doc__.split("\n")[0])
    add_arguments(parser)
    try:
        return run(parser.parse_args(argv))
    except CliError as exc:
        print(f"bench board: {exc}", file=sys.stderr)
        return 2


if __name__ == "__main__":
    raise SystemExit(main())
