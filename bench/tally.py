"""`tohyo bench tally`: where the time of the tally goes, from close to the verified result.

The election up to the close of voting (manifest, key ceremony, N ballots with 1% re-votes,
the board's intake) is built by the simulations' in-memory driver (`simulations.world`) and
is not timed. From the close on, every party does its own duty on the entries as the board
holds them (bytes), one party after another in this process, as the daemons would in theirs:

- admin: close, post the mix input;
- mix server k: read the new entries, derive the shuffle generators, verify shuffles 1..k-1,
  shuffle and prove, post its shuffle;
- trustee j (t of them): read, derive the generators, verify every shuffle, make and prove
  its decryption share, post it;
- admin: read, verify every shuffle and share, combine, count, post the result;
- board: decode and check every posted entry (its policy), store it (SQLite, WAL, full sync);
- verifier: `tohyo verify` (V1–V12) over the whole record.

Each call is timed with `time.perf_counter` (wall) and CPU time (this process's
`time.process_time` plus the worker processes' CPU from psutil), and booked under one
category: cryptography, encoding (canonical JSON and envelope encoding/decoding, row and
proof decoding with membership checks), storage, http, waiting. The parties run in one
process here, so http is zero (no entry crosses a socket) and a party's waiting is the time
of the tally during which the other parties work. Each party makes the shuffle generators ready
afresh (as a new process): by deriving them all after the close (`--generators fresh`), or
from the candidates derived during voting (`--generators ahead`, as a daemon with its cache,
docs/trustees.md §11.4). The verifier's time is reported per step (its own report), not split.

    tohyo bench tally --n 1000 --group secp256k1 --mixers 3 --threshold 2 --processes 2 --json
"""

from __future__ import annotations

import argparse
import asyncio
import contextlib
import datetime as dt
import hashlib
import json
import sys
import tempfile
import time
from collections.abc import Callable, Iterator, Sequence
from concurrent.futures import Executor, ProcessPoolExecutor
from pathlib import Path
from typing import Any, TypeVar

import psutil
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PublicKey

from bulletin_board.entry import Envelope, decode_envelope, sign_envelope, verify_envelope
from bulletin_board.log import hash_leaf
from bulletin_board.storage import SqliteStorage
from election import rules
from election.entries import decode_contest_lists, decode_shuffle
from election.policy import mix_input_of
from mixnet import elgamal
from mixnet.generators import (
    candidate_count,
    clear_cache,
    derive_candidates,
    derive_generators,
    generator_seed,
)
from mixnet.groups import DEFAULT_GROUP, Element, get_group
from mixnet.rng import DeterministicRandom
from mixnet.shuffle import proof as shuffle_proof
from simulations.audit import run_verifier
from simulations.report import machine_info
from simulations.world import Participants, SimulatedElection, ensure_groups
from trustees.decryption import (
    DecryptionShare,
    combine_lists,
    make_share,
    share_entry_body,
    share_entry_values,
)
from trustees.mixer import Lists, list_rows, mix, shapes_of, verify_shuffle

__all__ = ["CATEGORIES", "Clock", "add_arguments", "run", "run_tally"]

CATEGORIES = ("crypto", "encoding", "http", "storage", "waiting")
SCHEMA_VERSION = 1
T = TypeVar("T")


def _cpu(children: Sequence[psutil.Process]) -> float:
    """CPU seconds of this process and its (pool) children so far."""
    total = time.process_time()
    for child in children:
        with contextlib.suppress(psutil.Error):
            t = child.cpu_times()
            total += t.user + t.system
    return total


class Clock:
    """Wall and CPU seconds per step, party and category."""

    def __init__(self) -> None:
        self.rows: dict[tuple[str, str], dict[str, list[float]]] = {}
        self.step = ""
        self.children: list[psutil.Process] = []

    def start(self, step: str) -> None:
        """Book what follows under `step`; look up the pool's worker processes again."""
        self.step = step
        self.children = psutil.Process().children(recursive=True)

    @contextlib.contextmanager
    def __call__(self, party: str, category: str) -> Iterator[None]:
        w0, c0 = time.perf_counter(), _cpu(self.children)
        try:
            yield
        finally:
            wall, cpu = time.perf_counter() - w0, max(0.0, _cpu(self.children) - c0)
            cell = self.rows.setdefault((self.step, party), {}).setdefault(category, [0.0, 0.0])
            cell[0] += wall
            cell[1] += cpu

    def timed(
        self, party: str, category: str, fn: Callable[..., T], *args: Any, **kwargs: Any
    ) -> T:
        with self(party, category):
            return fn(*args, **kwargs)

    def steps(self) -> list[dict[str, Any]]:
        out = []
        for (step, party), cells in self.rows.items():
            split = {c: round(cells.get(c, [0.0, 0.0])[0], 4) for c in CATEGORIES}
            out.append(
                {
                    "step": step,
                    "party": party,
                    "wall": round(sum(v[0] for v in cells.values()), 4),
                    "cpu": round(sum(v[1] for v in cells.values()), 4),
                    "split": split,
                }
            )
        return out


class Tally:
    """The parties' duties from the close on, over the entries of an in-memory board."""

    def __init__(
        self,
        sim: SimulatedElection,
        clock: Clock,
        store: SqliteStorage,
        loop: asyncio.AbstractEventLoop,
        executor: Executor | None,
        known: Sequence[Element] = (),
    ) -> None:
        self.sim, self.clock, self.store, self.loop = sim, clock, store, loop
        self.executor = executor
        self.known = known  # generator candidates derived during voting (`--generators ahead`)
        self.people = sim.people
        self.first = len(sim.board.entries)  # the first entry of the tally
        self.rng = DeterministicRandom(b"bench tally")

    # -- the board
    def post(self, env: Envelope) -> None:
        """What a party posts: its envelope encoded; the board decodes, checks and stores it."""
        data = self.clock.timed(env.author, "encoding", env.to_bytes)
        index = self.clock.timed("board", "encoding", self.sim.board.post, data)
        self.clock.timed(
            "board",
            "storage",
            self.loop.run_until_complete,
            self.store.append(self.people.election_id, index, data, hash_leaf(data)),
        )

    def admin_post(self, type_: str, body: dict[str, Any]) -> None:
        env = self.clock.timed("admin", "encoding", self.people.admin_entry, type_, body)
        self.post(env)

    # -- reading the tally's entries, as a party's follower does
    def read(
        self, party: str
    ) -> tuple[Lists, list[dict[str, Any]], list[tuple[int, list[DecryptionShare]]]]:
        """Decode and check the signatures of the entries posted since the close; return the
        mix input's lists (contest id, rows), the shuffle bodies and the decryption shares
        (trustee, its share of every contest list)."""
        authors = self.sim.board.state.authors
        lists: Lists = []
        shuffles: list[dict[str, Any]] = []
        shares: list[tuple[int, list[DecryptionShare]]] = []
        group, manifest = self.people.group, self.people.manifest
        contests = [c.id for c in manifest.contests]
        for data in self.sim.board.entries[self.first :]:
            env = self.clock.timed(party, "encoding", decode_envelope, data)
            key: Ed25519PublicKey = authors[env.author].key
            self.clock.timed(party, "crypto", verify_envelope, env, key)
            if env.type == "mix_input":
                lists = self.clock.timed(
                    party,
                    "encoding",
                    decode_contest_lists,
                    group,
                    env.body["contests"],
                    [c.width for c in manifest.contests],
                )
            elif env.type == "shuffle":
                shuffles.append(dict(env.body))
            elif env.type == "decryption_share":
                with self.clock(party, "encoding"):
                    values = share_entry_values(env.body, contests)
                    parts = [DecryptionShare.from_json_value(v, group) for v in values]
                shares.append((int(env.body["trustee"]), parts))
        return lists, shuffles, shares

    def check_shuffles(
        self, party: str, lists: Lists, bodies: Sequence[dict[str, Any]]
    ) -> list[tuple[str, list[elgamal.Row]]]:
        """Make the generators ready (afresh, as a new process, from the candidates derived
        during voting if any) and verify each posted shuffle, every contest's proof in its
        own context; return the last lists."""
        assert self.sim.outcome is not None
        pk, fp = self.sim.outcome.pk, self.people.fingerprint
        self.clock.timed(party, "crypto", clear_cache)
        self.clock.timed(
            party,
            "crypto",
            derive_generators,
            self.people.group,
            fp,
            shuffle_proof.GENERATOR_PURPOSE,
            list_rows(lists),
            self.executor,
            known=self.known,
        )
        current = [(c, list(rows)) for c, rows in lists]
        for body in bodies:
            posted = self.clock.timed(
                party,
                "encoding",
                decode_shuffle,
                self.people.group,
                body,
                shapes_of(current),
                executor=self.executor,
            )
            self.clock.timed(
                party, "crypto", verify_shuffle, pk, current, posted, fp, executor=self.executor
            )
            current = [(part.contest, list(part.outputs)) for part in posted.lists]
        return current

    # -- the duties
    def close(self) -> None:
        self.admin_post("phase", {"phase": "closed"})
        indices, rows_json = self.clock.timed(
            "admin", "encoding", mix_input_of, self.sim.board.state
        )
        self.first = len(self.sim.board.entries)
        lists = self.clock.timed(
            "admin", "encoding", rules.contest_lists_json, self.people.manifest, rows_json
        )
        self.admin_post("mix_input", {"v": 1, "entries": indices, "contests": lists})
        self.admin_post("phase", {"phase": "mixing"})

    def mix(self, k: int) -> None:
        party = f"mix-{k}"
        assert self.sim.outcome is not None
        pk, fp = self.sim.outcome.pk, self.people.fingerprint
        lists, bodies, _ = self.read(party)
        current = self.check_shuffles(party, lists, bodies)
        # each contest's list shuffled and proved in its own context; the body's JSON is
        # booked as cryptography too (`mix` makes both)
        body = self.clock.timed(
            party, "crypto", mix, pk, current, fp, k, rng=self.rng, executor=self.executor
        )
        env = self.clock.timed(
            party,
            "encoding",
            sign_envelope,
            self.people.mixers[k - 1],
            self.people.election_id,
            "shuffle",
            party,
            body,
        )
        self.post(env)
        if k == len(self.people.mixers):
            self.admin_post("phase", {"phase": "decrypting"})

    def decrypt(self, j: int) -> None:
        party = f"trustee-{j}"
        machine = self.sim.machines[j]
        assert machine.key_share is not None
        lists, bodies, _ = self.read(party)
        current = self.check_shuffles(party, lists, bodies)
        with self.clock(party, "crypto"):
            shares = [
                (
                    contest,
                    make_share(
                        machine.key_share,
                        rows,
                        election=self.people.fingerprint,
                        rng=self.rng,
                        executor=self.executor,
                    ),
                )
                for contest, rows in current
            ]
        body = self.clock.timed(party, "encoding", share_entry_body, j, shares)
        key = self.people.trustee_keys[j - 1].ed25519_key()
        env = self.clock.timed(
            party,
            "encoding",
            sign_envelope,
            key,
            self.people.election_id,
            "decryption_share",
            party,
            body,
        )
        self.post(env)

    def result(self) -> dict[str, Any]:
        assert self.sim.outcome is not None
        manifest = self.people.manifest
        lists, bodies, shares = self.read("admin")
        current = self.check_shuffles("admin", lists, bodies)
        result = self.clock.timed(
            "admin",
            "crypto",
            combine_lists,
            current,
            shares,
            self.sim.outcome.verification_keys,
            manifest.threshold,
            election=self.people.fingerprint,
            executor=self.executor,
            decoders={c.id: rules.contest_decoder(manifest, c) for c in manifest.contests},
        )
        plaintexts = self.clock.timed(
            "admin", "encoding", rules.published_plaintexts, result.plaintexts
        )
        tally = self.clock.timed(
            "admin", "encoding", rules.count_plaintexts, manifest, dict(result.plaintexts)
        )
        self.admin_post(
            "result",
            {"v": 1, "trustees": list(result.used), "plaintexts": plaintexts, "tally": tally},
        )
        self.admin_post("phase", {"phase": "tallied"})
        return tally


def _record_hash(entries: Sequence[bytes]) -> str:
    h = hashlib.sha256()
    for e in entries:
        h.update(len(e).to_bytes(8, "big") + e)
    return h.hexdigest()


def run_tally(
    n: int,
    group_name: str,
    *,
    mixers: int,
    threshold: int,
    trustees: int,
    processes: int,
    progress: bool = True,
    seed: str = "bench tally",
    generators_ahead: bool = False,
) -> dict[str, Any]:
    """Build the election to the close (untimed), then time the tally; return the figures."""
    from tqdm import tqdm

    ensure_groups()
    group = get_group(group_name)
    rng = DeterministicRandom(seed)
    steps = [
        "close + mix input",
        *(f"shuffle {k}" for k in range(1, mixers + 1)),
        *(f"decryption share {j}" for j in range(1, threshold + 1)),
        "result",
        "verification",
    ]
    bar = tqdm(
        total=2 + len(steps),
        desc="bench tally",
        unit="step",
        leave=False,
        disable=not progress,
        file=sys.stderr,
    )
    with contextlib.ExitStack() as stack:
        executor = stack.enter_context(ProcessPoolExecutor(processes)) if processes > 1 else None
        t0 = time.perf_counter()
        bar.set_postfix_str("key ceremony and ballots (not timed)")
        people = Participants(group, trustees=trustees, threshold=threshold, mixers=mixers, rng=rng)
        sim = SimulatedElection(people, rng, executor, progress)
        sim.setup()
        sim.key_ceremony()
        votes = sim.make_votes(n, n // 100)
        sim.cast(votes, sim.make_ballots(votes))
        bar.update(1)
        tmp = stack.enter_context(tempfile.TemporaryDirectory())
        store = SqliteStorage(Path(tmp) / "board.sqlite")
        loop = asyncio.new_event_loop()
        stack.callback(loop.close)
        loop.run_until_complete(store.open())
        stack.callback(lambda: loop.run_until_complete(store.close()))
        loop.run_until_complete(
            store.append_batch(
                people.election_id, 0, [(e, hash_leaf(e), None) for e in sim.board.entries]
            )
        )
        known: list[Element] = []
        if generators_ahead:  # as the daemons' caches do while ballots arrive (not timed)
            seed_bytes = generator_seed(group, people.fingerprint, shuffle_proof.GENERATOR_PURPOSE)
            voters = len(sim.board.state.last_ballot)
            known = derive_candidates(group, seed_bytes, 0, candidate_count(voters), executor)
        setup = time.perf_counter() - t0
        bar.update(1)

        clock = Clock()
        tally = Tally(sim, clock, store, loop, executor, known)
        duties: list[Callable[[], Any]] = [
            tally.close,
            *(lambda k=k: tally.mix(k) for k in range(1, mixers + 1)),
            *(lambda j=j: tally.decrypt(j) for j in sorted(sim.machines)[:threshold]),
            tally.result,
        ]
        start = time.perf_counter()
        for name, duty in zip(steps, duties):
            bar.set_postfix_str(name)
            clock.start(name)
            duty()
            bar.update(1)
        to_result = time.perf_counter() - start
        bar.set_postfix_str("verification")
        clock.start("verification")
        clear_cache()
        with clock("verifier", "crypto"):
            report = run_verifier(
                sim.board.entries,
                people.board,
                people.election_id,
                executor,
                allow_test_groups=not group.production,
            )
        bar.update(1)
        total = time.perf_counter() - start
    bar.close()
    rows = clock.steps()
    verify_row = rows[-1]
    verify_row["split"] = dict.fromkeys(CATEGORIES, 0.0)  # the verifier's time is not split
    parties: dict[str, dict[str, Any]] = {}
    for r in rows:
        p = parties.setdefault(
            r["party"],
            {"party": r["party"], "wall": 0.0, "cpu": 0.0, "split": dict.fromkeys(CATEGORIES, 0.0)},
        )
        p["wall"] += r["wall"]
        p["cpu"] += r["cpu"]
        for c, v in r["split"].items():
            p["split"][c] += v
    for p in parties.values():
        span = total if p["party"] == "verifier" else to_result
        p["split"]["waiting"] = max(0.0, span - p["wall"])
        p["wall"], p["cpu"] = round(p["wall"], 4), round(p["cpu"], 4)
        p["split"] = {c: round(v, 4) for c, v in p["split"].items()}
    return {
        "bench": "tally",
        "schema": SCHEMA_VERSION,
        "date": dt.date.today().isoformat(),
        "machine": machine_info(),
        "parameters": {
            "n": n,
            "ballots": len(votes),
            "group": group.name,
            "mixers": mixers,
            "trustees": trustees,
            "threshold": threshold,
            "processes": processes,
            "seed": seed,
            "generators": "ahead" if generators_ahead else "fresh",
        },
        "method": "perf_counter / CPU time (process_time + pool workers) around each call",
        "setup_seconds": round(setup, 3),
        "steps": rows,
        "parties": list(parties.values()),
        "verifier_steps": {s.id: round(s.seconds, 4) for s in report.steps},
        "totals": {
            "close_to_result": round(to_result, 3),
            "verification": round(verify_row["wall"], 3),
            "close_to_verified": round(total, 3),
        },
        "record_sha256": _record_hash(sim.board.entries),
        "verdict": "valid" if report.passed else "INVALID",
    }


def _table(result: dict[str, Any]) -> str:
    lines = [
        f"{'step':<22}{'party':<12}{'wall s':>9}{'cpu s':>9}"
        + "".join(f"{c:>10}" for c in CATEGORIES)
    ]
    for r in result["steps"]:
        lines.append(
            f"{r['step']:<22}{r['party']:<12}{r['wall']:>9.2f}{r['cpu']:>9.2f}"
            + "".join(f"{r['split'][c]:>10.2f}" for c in CATEGORIES)
        )
    lines.append("")
    lines.append(
        f"{'party':<34}{'wall s':>9}{'cpu s':>9}" + "".join(f"{c:>10}" for c in CATEGORIES)
    )
    for p in result["parties"]:
        lines.append(
            f"{p['party']:<34}{p['wall']:>9.2f}{p['cpu']:>9.2f}"
            + "".join(f"{p['split'][c]:>10.2f}" for c in CATEGORIES)
        )
    t = result["totals"]
    summary = (
        f"close → result {t['close_to_result']:.2f} s, verification {t['verification']:.2f} s, "
        f"close → verified result {t['close_to_verified']:.2f} s; verifier: {result['verdict']}"
    )
    return "\n".join([*lines, "", summary])


def add_arguments(p: argparse.ArgumentParser) -> None:
    p.add_argument("--n", type=int, default=1000, help="voters (1%% of them vote again)")
    p.add_argument("--group", default=DEFAULT_GROUP)
    p.add_argument("--mixers", type=int, default=3)
    p.add_argument("--trustees", type=int, default=3)
    p.add_argument("--threshold", type=int, default=2)
    p.add_argument("--processes", type=int, default=2)
    p.add_argument("--json", action="store_true", help="print the figures as JSON")
    p.add_argument("--output", type=Path, help="also write the JSON to this file")
    p.add_argument(
        "--generators",
        choices=("fresh", "ahead"),
        default="fresh",
        help="each party derives h, h_1..h_N after the close (fresh), or finds the candidates "
        "derived during voting, as a daemon with its cache does (ahead)",
    )
    p.add_argument("--no-progress", action="store_true")


def run(args: argparse.Namespace) -> int:
    from tohyo.cli import CliError

    ensure_groups()
    from mixnet.groups import known_groups

    if args.group not in known_groups():
        raise CliError(f"unknown group {args.group!r}; known: {', '.join(known_groups())}")
    if (
        args.n < 2
        or args.mixers < 1
        or args.processes < 1
        or not (1 <= args.threshold <= args.trustees)
    ):
        raise CliError("need --n ≥ 2, --mixers ≥ 1, --processes ≥ 1, 1 ≤ --threshold ≤ --trustees")
    result = run_tally(
        args.n,
        args.group,
        mixers=args.mixers,
        threshold=args.threshold,
        trustees=args.trustees,
        processes=args.processes,
        progress=not args.no_progress,
        generators_ahead=args.generators == "ahead",
    )
    text = json.dumps(result, ensure_ascii=False, indent=1)
    if args.output:
        args.output.parent.mkdir(parents=True, exist_ok=True)
        args.output.write_text(text + "\n", encoding="utf-8")
    print(text if args.json else _table(result))
    return 0 if result["verdict"] == "valid" else 1
