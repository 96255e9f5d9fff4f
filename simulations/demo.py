"""`tohyo demo` (= `make demo`): a whole election on the embedded defaults, every role a process.

On 127.0.0.1: a board on SQLite with its registrar (`tohyo board serve --registrar`), three
trustees with threshold 2 and three mix servers (`tohyo trustee run`), and by default 200
voters with virtual My Number Cards — a few through pcscd and pyscard (`tohyo vote cast`)
when pcscd is running, the rest in-process — with a few re-votes, one Benaloh audit, a voter
too young and one living elsewhere (both refused). Then close, mixing, decryption, the result
table, the export of the record and the observer's verifier (`tohyo verify`) with its verdict.

Everything is left in the output folder (default `demo-output/`): `record/` (the exported
election record), `result.json`, `verify-report.json`, `timings.png`, `tally.png`, and the
processes' logs in `logs/`. Secrets stay out of it: key files and keystores are encrypted,
their passphrases are random and travel only in the child processes' environments.
"""

from __future__ import annotations

import argparse
import asyncio
import datetime as dt
import json
import os
import secrets
import shutil
import signal
import subprocess
import sys
import threading
import time
from collections import Counter
from concurrent.futures import ProcessPoolExecutor
from contextlib import suppress
from pathlib import Path
from typing import Any

from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey

from bulletin_board.client import BoardClient
from bulletin_board.entry import sign_envelope
from bulletin_board.log import public_key_hex
from election.manifest import Contest, Eligibility, Manifest, MixServer, Option, Trustee
from jpki.card import JpkiCard
from jpki.certs import BasicFacts, CertPurpose, Sex
from jpki.testca import TestCa, pooled_rsa_key
from jpki.transport import InProcessTransport
from jpki.virtual_card import issue_virtual_card
from jpki.voting_codes import generate_voting_codes
from mixnet.encoding import canonical_json
from mixnet.groups import DEFAULT_GROUP, get_group, known_groups
from mixnet.rng import DeterministicRandom, RandomSource, system_random
from trustees.coordinator import Coordinator
from voter_client.ballot import audit_record, encrypt_ballot
from voter_client.session import CastRefused, cast, fetch_election, sign_with_card

ELECTION = "tsukuba-demo-2026"
CANDIDATES = (
    Option("aoki", "青木 はるか", "あおき はるか", "無所属"),
    Option("ishida", "石田 一郎", "いしだ いちろう", "つくば未来の会"),
    Option("ueno", "上野 さくら", "うえの さくら", "無所属"),
)
PASSWORD = "TOHYO2026"  # noqa: S105 (the demo's virtual cards' signing password)
ELECTION_DAY = dt.date(2026, 12, 6)
WAIT = 600.0  # the longest any one phase may take
PCSC_LOCK = "/tmp/tohyo-pcsc-tests.lock"  # noqa: S108 (shared with the PC/SC tests' lock)
PCSC_WAIT = 120  # seconds the demo waits for another user of the virtual reader to finish
STREETS = ("研究学園", "竹園", "吾妻", "天久保", "春日", "並木", "松代", "桜")
GIVEN = ("花子", "太郎", "さくら", "健", "美咲", "翔", "陽菜", "大輔", "結衣", "蓮")


class Proc:
    """A child `python -m tohyo …` with its log file; stopped with the demo."""

    def __init__(self, name: str, args: list[str], logs: Path, env: dict[str, str]) -> None:
        self.name = name
        log = open(logs / f"{name}.log", "ab")
        self.proc = subprocess.Popen(
            [sys.executable, "-m", "tohyo", *args],
            stdout=subprocess.PIPE if name == "board" else log,
            stderr=log,
            env={**os.environ, **env},
        )
        self.log = log

    def stop(self) -> None:
        if self.proc.poll() is None:
            self.proc.send_signal(signal.SIGTERM)
            try:
                self.proc.wait(15)
            except subprocess.TimeoutExpired:
                self.proc.kill()
                self.proc.wait(15)
        self.log.close()


def _pem(key: Ed25519PrivateKey, path: Path, passphrase: str) -> None:
    path.write_bytes(
        key.private_bytes(
            serialization.Encoding.PEM,
            serialization.PrivateFormat.PKCS8,
            serialization.BestAvailableEncryption(passphrase.encode()),
        )
    )
    path.chmod(0o600)


def _keygen(path: Path, passphrase: str) -> dict[str, str]:
    proc = subprocess.run(
        [sys.executable, "-m", "tohyo", "trustee", "keygen", "--keystore", str(path)],
        capture_output=True,
        text=True,
        timeout=120,
        env={**os.environ, "TOHYO_TRUSTEE_PASSPHRASE": passphrase},
    )
    if proc.returncode != 0:
        raise RuntimeError(f"tohyo trustee keygen failed: {proc.stderr.strip()}")
    keys: dict[str, str] = json.loads(proc.stdout)
    return keys


class Voter:
    def __init__(self, ca: TestCa, number: int, facts: BasicFacts) -> None:
        self.number = number
        issued = issue_virtual_card(
            ca,
            facts,
            sign_password=PASSWORD,
            not_before=dt.datetime(2025, 4, 1, tzinfo=dt.UTC),
            not_after=dt.datetime(2030, 4, 1, tzinfo=dt.UTC),
            sign_key=pooled_rsa_key(f"demo-voter-{number % 8}"),
            auth_key=pooled_rsa_key(f"demo-voter-auth-{number % 8}"),
        )
        self.issued = issued
        self.card = JpkiCard(InProcessTransport(issued.card))


def _facts(
    i: int, rng: RandomSource, *, address: str | None = None, birth: dt.date | None = None
) -> BasicFacts:
    family = ("投票", "選挙", "開票", "民主", "公正")[i % 5]
    name = f"{family}　{GIVEN[i % len(GIVEN)]}{i}"
    born = birth or dt.date(1940 + rng.randbelow(60), 1 + rng.randbelow(12), 1 + rng.randbelow(28))
    street = STREETS[i % len(STREETS)]
    return BasicFacts(
        name,
        born,
        Sex.FEMALE if i % 2 else Sex.MALE,
        address or f"茨城県つくば市{street}{1 + i % 9}丁目{i}番地",
    )


class Demo:
    def __init__(self, args: argparse.Namespace) -> None:
        self.args = args
        self.out: Path = args.output
        self.rng: RandomSource = DeterministicRandom(args.seed) if args.seed else system_random
        self.group = get_group(args.group)
        self.test_group = not self.group.production
        self.timings: dict[str, float] = {}
        self.procs: list[Proc] = []
        self.notes: list[str] = []
        self.pcsc_fallback: str | None = None  # why no voter went through PC/SC
        self.pcsc_waiting = False  # said once that the virtual reader is busy

    def say(self, text: str) -> None:
        print(text, flush=True)

    def time(self, name: str, start: float) -> None:
        self.timings[name] = time.perf_counter() - start

    # ------------------------------------------------------------------ setup
    def setup(self) -> None:
        t = time.perf_counter()
        if self.out.exists():
            shutil.rmtree(self.out)
        for d in ("keys", "ca", "logs", "receipts"):
            (self.out / d).mkdir(parents=True)
        self.key_pass = secrets.token_urlsafe(24)
        self.evidence_pass = secrets.token_urlsafe(24)
        self.admin = Ed25519PrivateKey.generate()
        self.board_key = Ed25519PrivateKey.generate()
        self.registrar = Ed25519PrivateKey.generate()
        _pem(self.board_key, self.out / "keys" / "board.pem", self.key_pass)
        _pem(self.registrar, self.out / "keys" / "registrar.pem", self.key_pass)
        self.say("  creating 3 trustee and 3 mix-server keystores (tohyo trustee keygen)")
        self.parties: list[tuple[str, str, Path, str, dict[str, str]]] = []
        for kind, count in (("trustee", 3), ("mix", 3)):
            for i in range(1, count + 1):
                pid = f"{kind}-{i}"
                passphrase = secrets.token_urlsafe(24)
                path = self.out / "keys" / f"{pid}.keystore"
                self.parties.append((pid, kind, path, passphrase, _keygen(path, passphrase)))
        # a test CA stands in for J-LIS; its CRL and certificate are public
        self.ca = TestCa.create(label="demo")
        (self.out / "ca" / "sign_ca.pem").write_bytes(
            self.ca.sign.certificate.public_bytes(serialization.Encoding.PEM)
        )
        now = dt.datetime.now(dt.UTC)
        crl = self.ca.crl(
            CertPurpose.SIGN,
            this_update=now - dt.timedelta(days=1),
            next_update=now + dt.timedelta(days=30),
        )
        (self.out / "ca" / "sign.crl").write_bytes(crl.public_bytes(serialization.Encoding.DER))
        csv_text, hashes = generate_voting_codes(self.args.voters + 3)
        self.codes = [line.split(",")[1] for line in csv_text.splitlines()[1:]]
        (self.out / "keys" / "code-hashes.json").write_text(
            json.dumps({"v": 1, "hashes": list(hashes)})
        )
        jst = dt.timezone(dt.timedelta(hours=9))
        trustees = [p for p in self.parties if p[1] == "trustee"]
        mixers = [p for p in self.parties if p[1] == "mix"]
        self.manifest = Manifest(
            election_id=ELECTION,
            title="つくば市長選挙（tohyo デモ）",
            election_day=ELECTION_DAY,
            voting_start=dt.datetime(2026, 11, 1, 7, tzinfo=jst),
            voting_end=dt.datetime(2026, 12, 31, 20, tzinfo=jst),
            contests=(Contest("mayor", "つくば市長", "public_office", "single", CANDIDATES),),
            eligibility=Eligibility(16, ("茨城県つくば市",)),
            threshold=2,
            trustees=tuple(
                Trustee(pid, i + 1, keys["signing_key"], keys["exchange_key"])
                for i, (pid, _, _, _, keys) in enumerate(trustees)
            ),
            mix_servers=tuple(
                MixServer(pid, i + 1, keys["signing_key"])
                for i, (pid, _, _, _, keys) in enumerate(mixers)
            ),
            admin_key=public_key_hex(self.admin.public_key()),
            registrar_key=public_key_hex(self.registrar.public_key()),
            board_key=public_key_hex(self.board_key.public_key()),
            group=self.group.description(),
        )
        (self.out / "registrar.toml").write_text(  # attests for this election only
            'key = "keys/registrar.pem"\n'
            'anchors = ["ca/sign_ca.pem"]\ncrls = ["ca/sign.crl"]\nevidence_dir = "evidence"\n'
            f'elections = ["{self.manifest.fingerprint().hex()}"]\n'
            f'[voting_codes]\n"{ELECTION}" = "keys/code-hashes.json"\n'
        )
        self.time("setup: keys, test CA, manifest", t)

    # ------------------------------------------------------------------ processes
    def start_board(self) -> str:
        test = ["--allow-test-groups"] if self.test_group else []
        board = Proc(
            "board",
            [
                "board",
                "serve",
                "--db",
                str(self.out / "board.sqlite"),
                "--key",
                str(self.out / "keys" / "board.pem"),
                "--port",
                "0",
                "--registrar",
                str(self.out / "registrar.toml"),
                "--admin-key",
                self.manifest.admin_key,
                "--processes",
                str(self.args.processes),
                *test,
            ],
            self.out / "logs",
            {
                "TOHYO_KEY_PASSPHRASE": self.key_pass,
                "TOHYO_EVIDENCE_PASSPHRASE": self.evidence_pass,
            },
        )
        self.procs.append(board)
        timer = threading.Timer(120, board.proc.kill)
        timer.start()
        try:
            assert board.proc.stdout is not None
            for raw in board.proc.stdout:
                line = raw.decode().strip()
                if line.startswith("tohyo board: listening on "):
                    return line.rsplit(" ", 1)[1]
        finally:
            timer.cancel()
        raise RuntimeError("the board did not start; see " + str(self.out / "logs/board.log"))

    def start_parties(self, url: str) -> None:
        test = ["--allow-test-groups"] if self.test_group else []
        for pid, kind, path, passphrase, _ in self.parties:
            self.procs.append(
                Proc(
                    pid,
                    [
                        "trustee",
                        "run",
                        "--role",
                        kind,
                        "--keystore",
                        str(path),
                        "--board",
                        url,
                        "--election",
                        ELECTION,
                        "--board-key",
                        self.manifest.board_key,
                        "--round-timeout",
                        "60",
                        "--poll-interval",
                        "0.3",
                        "--max-poll-interval",
                        "2",
                        *test,
                    ],
                    self.out / "logs",
                    {"TOHYO_TRUSTEE_PASSPHRASE": passphrase},
                )
            )

    # ------------------------------------------------------------------ the election
    async def election(self, url: str) -> dict[str, Any]:
        async with BoardClient(url, self.manifest.board_key) as client:
            co = Coordinator(client, self.admin, ELECTION, allow_test_groups=self.test_group)
            t = time.perf_counter()
            await client.post(
                sign_envelope(
                    self.admin, ELECTION, "manifest", "admin", {"manifest": self.manifest.to_json()}
                )
            )
            await co.refresh()
            await co.phase("key_ceremony")
            self.say("  key ceremony: 3 trustees, threshold 2 …")
            joint = await co.joint_key(WAIT)
            await co.phase("voting")
            self.time("key ceremony (3 trustee processes)", t)
            pk = self.group.element_from_hex(joint["pk"])

            t = time.perf_counter()
            outcome = await self.voting(url, pk)
            self.time(f"voting ({self.args.voters} voters)", t)

            t = time.perf_counter()
            await co.phase("closed")
            await co.refresh()
            await co.mix_input()
            await co.phase("mixing")
            self.say("  mixing: 3 mix-server processes in turn …")
            await co.wait_until(lambda f: len(f.state.shuffle_sizes) == 3, "three shuffles", WAIT)
            self.time("close + mixing (3 mix servers)", t)

            t = time.perf_counter()
            await co.phase("decrypting")
            self.say("  decryption: trustees post shares …")
            result = await co.result(WAIT)
            await co.phase("tallied")
            self.time("threshold decryption + result", t)

            t = time.perf_counter()
            await client.export(ELECTION, self.out / "record")
            self.time("export of the record", t)
        return {"result": result, **outcome}

    async def voting(self, url: str, pk: Any) -> dict[str, Any]:
        n = self.args.voters
        self.say(f"  issuing {n} virtual My Number Cards …")
        voters = [Voter(self.ca, i, _facts(i, self.rng)) for i in range(n)]
        intended: dict[int, int] = {}
        sem = asyncio.Semaphore(8)
        refusals: list[str] = []
        # the voters' devices read the election from its fingerprint, as on their letters
        info = await fetch_election(url, ELECTION, self.manifest.fingerprint())

        async def vote(voter: Voter, choice: int, code: str) -> None:
            async with sem:
                enc = encrypt_ballot(
                    self.manifest, pk, {"mayor": [CANDIDATES[choice].id]}, self.rng
                )
                cert, sig = await asyncio.to_thread(
                    sign_with_card, voter.card, PASSWORD, self.manifest, enc
                )
                doc = await cast(url, info, enc, cert, sig, code)
                intended[voter.number] = choice
                if voter.number < 3:
                    (self.out / "receipts" / f"voter-{voter.number}.json").write_bytes(
                        canonical_json(doc["receipt"])
                    )

        pcsc, tried = self.pcsc_voters(url, voters[:3])
        choices = [self.rng.randbelow(len(CANDIDATES)) for _ in voters]
        # a voter whose card went into the PC/SC reader does not vote again in-process,
        # whether its ballot went through or not (a failed one is reported, not retried)
        in_process = [v for v in voters if v.number not in tried]
        await asyncio.gather(
            *(vote(v, choices[v.number], self.codes[v.number]) for v in in_process)
        )
        for number, choice in pcsc:
            intended[number] = choice
        # re-votes: five voters change their minds; the later ballot counts
        revoters = in_process[:5]
        for v in revoters:
            await vote(v, (intended[v.number] + 1) % len(CANDIDATES), self.codes[v.number])
        # one Benaloh audit: a voter checks an encryption instead of casting it
        enc = encrypt_ballot(self.manifest, pk, {"mayor": ["ueno"]}, self.rng)
        audit_file = self.out / "benaloh-audit.json"
        audit_file.write_bytes(canonical_json(audit_record(self.manifest, pk, enc)))
        check = subprocess.run(
            [
                sys.executable,
                "-m",
                "tohyo",
                "verify",
                "ballot",
                str(audit_file),
                "--board",
                url,
                "--fingerprint",
                self.manifest.fingerprint().hex(),
            ],
            capture_output=True,
            text=True,
            timeout=120,
        )
        audit_ok = check.returncode == 0
        self.notes.append(
            "Benaloh audit: "
            + ("the device encrypted exactly the choice" if audit_ok else "FAILED: " + check.stdout)
        )
        # two refusals: too young on election day, and living in another city
        young = Voter(
            self.ca,
            n,
            _facts(
                n,
                self.rng,
                birth=ELECTION_DAY.replace(year=ELECTION_DAY.year - 16) + dt.timedelta(days=1),
            ),
        )
        away = Voter(self.ca, n + 1, _facts(n + 1, self.rng, address="茨城県土浦市つくば町1番地"))
        for who, voter, code in (
            ("a voter aged 15 on election day", young, self.codes[n]),
            ("a voter living in another city", away, self.codes[n + 1]),
        ):
            try:
                await vote(voter, 0, code)
                refusals.append(f"{who}: ACCEPTED (unexpected)")
            except CastRefused as exc:
                refusals.append(f"{who}: refused — {exc.detail}")
        self.notes += refusals
        return {
            "intended": intended,
            "revotes": len(revoters),
            "pcsc_voters": [number for number, _ in pcsc],
            "audit_ok": audit_ok,
            "refusals": refusals,
        }

    def no_pcsc(self, why: str) -> tuple[list[tuple[int, int]], set[int]]:
        """Say at once, and in the summary, that no voter goes through PC/SC, and why."""
        text = f"{why}: every voter used an in-process card, none went through PC/SC"
        self.say(f"  NOTE: {text}")
        self.notes.append(text)
        self.pcsc_fallback = why
        return [], set()

    def pcsc_voters(self, url: str, voters: list[Voter]) -> tuple[list[tuple[int, int]], set[int]]:
        """Up to three voters through pcscd + vpcd + pyscard and `tohyo vote cast`: the
        (voter, choice) of each ballot cast that way, and the voters whose card was tried."""
        try:
            from jpki.pcsc import card_present
            from jpki.vpcd import VpcdConnection, port_for_slot
        except ImportError:
            return self.no_pcsc("pyscard is not installed")
        if not Path("/run/pcscd/pcscd.comm").exists():
            return self.no_pcsc("pcscd is not running")
        import fcntl

        lock = open(PCSC_LOCK, "w")
        deadline = time.monotonic() + PCSC_WAIT
        while True:
            try:
                fcntl.flock(lock, fcntl.LOCK_EX | fcntl.LOCK_NB)
                break
            except OSError:
                if time.monotonic() > deadline:
                    lock.close()
                    return self.no_pcsc(
                        f"the virtual PC/SC reader stayed busy for {PCSC_WAIT} s (lock {PCSC_LOCK})"
                    )
                if not self.pcsc_waiting:
                    self.say(f"  the virtual PC/SC reader is busy; waiting up to {PCSC_WAIT} s")
                    self.pcsc_waiting = True
                time.sleep(0.5)
        try:
            done = self._pcsc_voters(url, voters, card_present, VpcdConnection, port_for_slot)
            return done, {v.number for v in voters}
        finally:
            lock.close()

    def _pcsc_voters(
        self,
        url: str,
        voters: list[Voter],
        card_present: Any,
        VpcdConnection: Any,
        port_for_slot: Any,
    ) -> list[tuple[int, int]]:
        done: list[tuple[int, int]] = []
        for voter in voters:
            try:
                choice = self._pcsc_vote(url, voter, card_present, VpcdConnection, port_for_slot)
            except Exception as exc:  # one card voter failing never stops the demo
                choice, why = None, f"{type(exc).__name__}: {exc}"
            else:
                why = "`tohyo vote cast` failed (see above)"
            if choice is None:
                self.say(f"  PC/SC voter {voter.number} did not vote: {why}")
                self.notes.append(f"PC/SC voter {voter.number} did not vote: {why}")
            else:
                done.append((voter.number, choice))
        self.notes.append(
            f"{len(done)} of {len(voters)} voters cast through pcscd + vpcd + "
            "pyscard (`tohyo vote cast` with a virtual card in a PC/SC reader)"
        )
        return done

    def _pcsc_vote(
        self, url: str, voter: Voter, card_present: Any, VpcdConnection: Any, port_for_slot: Any
    ) -> int | None:
        """One voter's card in the reader and `tohyo vote cast`: its choice, or None."""
        connection = VpcdConnection(voter.issued.card, port=port_for_slot(0))
        try:
            connection.start(connect_timeout=15)
            reader = "Virtual PCD 00 00"
            end = time.monotonic() + 15
            while not card_present(reader) and time.monotonic() < end:
                time.sleep(0.2)
            choice = self.rng.randbelow(len(CANDIDATES))
            proc = subprocess.run(
                [
                    sys.executable,
                    "-m",
                    "tohyo",
                    "vote",
                    "cast",
                    "--board",
                    url,
                    "--election",
                    ELECTION,
                    "--fingerprint",
                    self.manifest.fingerprint().hex(),
                    "--reader",
                    reader,
                    "--choice",
                    f"mayor={CANDIDATES[choice].id}",
                    "--code",
                    self.codes[voter.number],
                    "--yes",
                    "--receipt",
                    str(self.out / "receipts" / f"voter-{voter.number}.json"),
                ],
                capture_output=True,
                text=True,
                timeout=120,
                env={**os.environ, "TOHYO_CARD_PASSWORD": PASSWORD},
            )
            if proc.returncode == 0:
                return choice
            self.say(f"  PC/SC voter {voter.number}: {proc.stderr.strip()}")
            return None
        finally:
            connection.stop()
            end = time.monotonic() + 15
            while card_present("Virtual PCD 00 00") and time.monotonic() < end:
                time.sleep(0.2)
            time.sleep(2)  # pcscd must see the slot empty before the next card

    # ------------------------------------------------------------------ verification
    def verify(self) -> tuple[int, str]:
        t = time.perf_counter()
        test = ["--allow-test-groups"] if self.test_group else []
        receipts = []
        for r in sorted((self.out / "receipts").glob("voter-*.json")):
            receipts += ["--tree-head", str(r)]
        proc = subprocess.run(
            [
                sys.executable,
                "-m",
                "tohyo",
                "verify",
                str(self.out / "record"),
                "--json",
                str(self.out / "verify-report.json"),
                "--processes",
                str(self.args.processes),
                *test,
                *receipts,
            ],
            capture_output=True,
            text=True,
            timeout=3600,
        )
        self.time("independent verification (tohyo verify)", t)
        return proc.returncode, proc.stdout + proc.stderr

    def plots(self, tally: dict[str, int]) -> None:
        import matplotlib

        matplotlib.use("Agg")
        import matplotlib.pyplot as plt

        fig, ax = plt.subplots(figsize=(8, 0.5 * len(self.timings) + 1.2))
        names = list(self.timings)
        ax.barh(names, [self.timings[n] for n in names], color="#3b6ea5")
        ax.invert_yaxis()
        ax.set_xlabel("seconds")
        ax.set_title("tohyo demo: time per phase")
        fig.tight_layout()
        fig.savefig(self.out / "timings.png", dpi=120)
        plt.close(fig)
        fig, ax = plt.subplots(figsize=(6, 3.5))
        ids = {o.name: o.id for o in CANDIDATES}  # the plot font has no kana or kanji
        ax.bar([ids.get(k, k) for k in tally], list(tally.values()), color="#6a9f58")
        ax.set_ylabel("votes")
        ax.set_title("Result (recounted by the verifier)")
        fig.tight_layout()
        fig.savefig(self.out / "tally.png", dpi=120)
        plt.close(fig)

    def stop(self) -> None:
        for p in reversed(self.procs):
            p.stop()


def _result_table(manifest: Manifest, result: dict[str, Any]) -> dict[str, int]:
    counts = result["tally"]["mayor"]["counts"]
    names = {o.id: o.name for o in manifest.contests[0].options}
    return {names[k]: int(v) for k, v in counts.items()}


def run(args: argparse.Namespace) -> int:
    from tohyo.cli import CliError

    if args.voters < 10 or args.processes < 1:
        raise CliError("need at least 10 voters and 1 process")
    if args.group not in known_groups():
        raise CliError(f"unknown group {args.group!r}; known: {', '.join(known_groups())}")
    if args.seed is not None and get_group(args.group).production:
        raise CliError(
            "--seed makes the ballots' randomness predictable: only with a test "
            "group (e.g. --group test-schnorr-512-128)"
        )
    demo = Demo(args)
    print(
        f"tohyo demo: {args.voters} voters, 3 trustees (threshold 2), 3 mix servers, "
        f"group {demo.group.name}; output in {args.output}/"
    )
    try:
        demo.setup()
        url = demo.start_board()
        print(f"  board with registrar on {url}")
        demo.start_parties(url)
        outcome = asyncio.run(demo.election(url))
    except BaseException:
        demo.stop()
        print(
            f"\nThe demo stopped early; the processes' logs are in {args.output}/logs/",
            file=sys.stderr,
        )
        raise
    demo.stop()
    code, report = demo.verify()
    intended = Counter(outcome["intended"].values())
    table = _result_table(demo.manifest, outcome["result"])
    print("\nResult")
    for name, votes in table.items():
        print(f"  {name:<12}{votes:>6}")
    expected = {CANDIDATES[i].name: intended.get(i, 0) for i in range(len(CANDIDATES))}
    print(f"  (the votes cast: {', '.join(f'{k} {v}' for k, v in expected.items())})")
    print("\nWhat happened")
    for note in demo.notes:
        print(f"  - {note}")
    print("\nTime per phase")
    for name, secs in demo.timings.items():
        print(f"  {name:<44}{secs:>8.1f} s")
    print("\nThe observer's verifier (tohyo verify record/)")
    print("  " + report.strip().replace("\n", "\n  "))
    with suppress(Exception):
        demo.plots(table)
    summary = {
        "election": ELECTION,
        "group": demo.group.name,
        "voters": args.voters,
        "result": outcome["result"],
        "expected": expected,
        "notes": demo.notes,
        "timings_s": demo.timings,
        "verifier_exit_status": code,
        "pcsc_voters": outcome["pcsc_voters"],
        "pcsc_fallback": demo.pcsc_fallback,
        "verdict": "valid" if code == 0 and table == expected else "INVALID",
    }
    (args.output / "result.json").write_text(json.dumps(summary, ensure_ascii=False, indent=1))
    valid = summary["verdict"] == "valid"
    print(
        f"\nEverything is in {args.output}/ (record/, result.json, verify-report.json, "
        "timings.png, tally.png, logs/)"
    )
    print(
        "Verifier's verdict: "
        + (
            "VALID — every check passed and the tally is the votes cast"
            if valid
            else "INVALID — see the report above"
        )
    )
    return 0 if valid else 1


def register(subparsers: Any) -> None:
    p = subparsers.add_parser("demo", help="run a whole election on the embedded defaults")
    p.add_argument("--voters", type=int, default=200)
    p.add_argument("--group", default=DEFAULT_GROUP, help=f"one of: {', '.join(known_groups())}")
    p.add_argument("--processes", type=int, default=min(2, os.cpu_count() or 1))
    p.add_argument("--output", type=Path, default=Path("demo-output"))
    p.add_argument(
        "--seed",
        help="replay the voters' choices and ballot randomness "
        "(test groups only; never for real use)",
    )
    p.set_defaults(func=run)


__all__ = ["ProcessPoolExecutor", "register", "run"]
