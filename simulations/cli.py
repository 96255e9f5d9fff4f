"""`tohyo simulate …`: whole elections, load tests, scaling and attack experiments.

Every command writes its results as JSON and its plots as PNG into the folder named by
`--out` and prints where; progress bars go to stderr.
"""

from __future__ import annotations

import argparse
import asyncio
import os
import sys
import tempfile
import time
from pathlib import Path
from typing import Any

import uvloop

from tohyo.cli import CliError

__all__ = ["parse_threshold", "register"]

TEST_GROUP = "test-schnorr-512-128"


def parse_threshold(text: str) -> tuple[int, int]:
    """ "T/N" → (t, n) with 1 ≤ t ≤ n."""
    try:
        t_text, n_text = text.split("/")
        t, n = int(t_text), int(n_text)
    except ValueError as exc:
        raise CliError(f"--trustees wants T/N, e.g. 2/3 (got {text!r})") from exc
    if not 1 <= t <= n:
        raise CliError(f"--trustees {text}: need 1 ≤ T ≤ N")
    if n > 64:
        raise CliError(f"--trustees {text}: at most 64 trustees in a simulation")
    return t, n


def _group(name: str) -> Any:
    from mixnet.groups import get_group, known_groups
    from simulations.world import ensure_groups

    ensure_groups()
    if name not in known_groups():
        raise CliError(f"unknown group {name!r}; known: {', '.join(known_groups())}")
    return get_group(name)


def _rng(seed: str | None) -> Any:
    from mixnet.rng import DeterministicRandom, system_random

    return DeterministicRandom(seed) if seed else system_random


def _add_common(p: argparse.ArgumentParser, out: str) -> None:
    p.add_argument(
        "--out",
        type=Path,
        default=Path("simulation-output") / out,
        help=f"output folder for JSON and PNG (default simulation-output/{out})",
    )
    p.add_argument("--no-progress", action="store_true", help="no progress bars on stderr")


def _add_executor(p: argparse.ArgumentParser) -> None:
    p.add_argument(
        "--executor",
        choices=("local", "dask"),
        default="local",
        help="local process pool, or a Dask cluster (a LocalCluster unless --scheduler names one)",
    )
    p.add_argument(
        "--processes",
        type=int,
        default=min(2, os.cpu_count() or 1),
        help="worker processes (1 with local: run inline)",
    )
    p.add_argument("--scheduler", help="address of a running Dask scheduler (tcp://host:port)")


def register(subparsers: Any) -> None:
    sim = subparsers.add_parser("simulate", help="simulated elections, load, scaling, attacks")
    sub = sim.add_subparsers(dest="simulate_command", metavar="SUBCOMMAND")

    el = sub.add_parser("election", help="a whole election in memory, every phase timed")
    el.add_argument("--voters", type=int, default=1000)
    el.add_argument("--revotes", type=int, help="voters who change their mind (default N/20)")
    el.add_argument("--trustees", default="2/3", metavar="T/N", help="threshold T of N trustees")
    el.add_argument("--mixers", type=int, default=3)
    el.add_argument("--group", default=None, help="parameter set (default: the default group)")
    el.add_argument("--seed", help="replay a run (deterministic randomness; simulations only)")
    _add_executor(el)
    _add_common(el, "election")
    el.set_defaults(func=_election)

    ld = sub.add_parser("load", help="HTTP load against a running board")
    ld.add_argument("--board", help="board URL (or --start-board)")
    ld.add_argument(
        "--start-board",
        action="store_true",
        help="start a board on 127.0.0.1 and set up an election up to voting",
    )
    ld.add_argument("--election", help="election id (default sim-election with --start-board)")
    ld.add_argument(
        "--keys",
        type=Path,
        help="the election's load-target file (election.json of a --start-board "
        "or --setup run); without it the load is reads only",
    )
    ld.add_argument(
        "--setup",
        action="store_true",
        help="with --board: first set up a new election --election up to voting "
        "(the board must run the election policy, e.g. tohyo board serve "
        "--allow-test-groups for a test group)",
    )
    ld.add_argument(
        "--group", default=None, help="group of the election --start-board or --setup sets up"
    )
    ld.add_argument("--voters", type=int, default=1000, help="ballots to post (count bound)")
    ld.add_argument("--revotes", type=int, help="extra ballots by voters who change their mind")
    ld.add_argument("--concurrency", type=int, default=16)
    ld.add_argument("--duration", type=float, default=30.0, help="time bound (seconds)")
    ld.add_argument(
        "--read-fraction",
        type=float,
        default=0.2,
        help="share of requests that are reads (tree head, entries, status)",
    )
    ld.add_argument("--timeout", type=float, default=10.0, help="per request (seconds)")
    ld.add_argument("--seed")
    _add_common(ld, "load")
    ld.set_defaults(func=_load)

    sc = sub.add_parser("scaling", help="time per phase against N and against the mixers")
    sc.add_argument(
        "--group", action="append", help="repeatable (default: the default group and secp256k1)"
    )
    sc.add_argument("--max-n", type=int, default=1000, help="largest N (sizes 100, 300, 1000…)")
    sc.add_argument("--min-n", type=int, default=100)
    sc.add_argument("--mixers-n", type=int, help="N for the mixers experiment (default ≤ 300)")
    sc.add_argument("--max-mixers", type=int, default=3)
    sc.add_argument(
        "--clock",
        choices=("wall", "cpu"),
        default="wall",
        help="plot wall seconds, or CPU seconds of one process (--processes 1): "
        "steadier on a shared machine",
    )
    _add_executor(sc)
    _add_common(sc, "scaling")
    sc.set_defaults(func=_scaling)

    at = sub.add_parser("attacks", help="misbehaving parties, each run many times")
    at.add_argument("--runs", type=int, default=20)
    at.add_argument("--voters", type=int, default=8)
    at.add_argument("--group", default=TEST_GROUP)
    at.add_argument("--only", action="append", help="run only these attacks (repeatable)")
    _add_common(at, "attacks")
    at.set_defaults(func=_attacks)

    sim.set_defaults(func=lambda args: (sim.print_help(), 2)[1])


def _header(command: str, args: argparse.Namespace) -> dict[str, Any]:
    from simulations.report import machine_info

    options = {
        k: (str(v) if isinstance(v, Path) else v)
        for k, v in vars(args).items()
        if k not in ("func", "command", "simulate_command")
    }
    return {"command": f"tohyo simulate {command}", "options": options, "machine": machine_info()}


def _out(args: argparse.Namespace) -> Path:
    try:
        args.out.mkdir(parents=True, exist_ok=True)
    except OSError as exc:
        raise CliError(f"cannot create {args.out}: {exc}") from exc
    return Path(args.out)


# ---------------------------------------------------------------------- election
def _election(args: argparse.Namespace) -> int:
    from mixnet.groups import DEFAULT_GROUP
    from simulations.election import run_simulated_election
    from simulations.executors import open_executor
    from simulations.report import plot_bars, write_json

    if args.voters < 2:
        raise CliError("--voters: at least 2")
    if args.mixers < 1:
        raise CliError("--mixers: at least 1")
    if args.processes < 1:
        raise CliError("--processes: at least 1")
    revotes = max(1, args.voters // 20) if args.revotes is None else args.revotes
    if revotes < 0:
        raise CliError("--revotes: not negative")
    t, n = parse_threshold(args.trustees)
    group = _group(args.group or DEFAULT_GROUP)
    out = _out(args)
    print(
        f"tohyo simulate election: {args.voters} voters (+{revotes} re-votes), trustees "
        f"{t}/{n}, {args.mixers} mixers, group {group.name}, executor {args.executor} "
        f"× {args.processes}",
        file=sys.stderr,
    )
    with open_executor(args.executor, args.processes, args.scheduler) as executor:
        workers = getattr(executor, "tohyo_workers", None) or getattr(executor, "_max_workers", 1)
        result = run_simulated_election(
            group,
            voters=args.voters,
            trustees=n,
            threshold=t,
            mixers=args.mixers,
            revotes=revotes,
            rng=_rng(args.seed),
            executor=executor,
            progress=not args.no_progress,
        )
    doc = {
        **_header("election", args),
        "group": group.name,
        "voters": args.voters,
        "revotes": revotes,
        "trustees": {"t": t, "n": n},
        "mixers": args.mixers,
        "executor": {"kind": args.executor, "workers": workers},
        **result,
    }
    write_json(out / "election.json", doc)
    plot_bars(
        result["timings"],
        out / "election-timings.png",
        title=f"tohyo simulate election: {args.voters} voters, {group.name}",
        xlabel="seconds",
    )
    print("phase".ljust(36) + "seconds")
    for name, secs in result["timings"].items():
        print(f"  {name:<34}{secs:>9.2f}")
    print("tally:", ", ".join(f"{k} {v}" for k, v in result["tally"].items()))
    for c in result["verification"]:
        print(
            f"  [{'PASS' if c['pass'] else 'FAIL'}] {c['id']:<5} {c['check']}"
            + (f" — {c['detail']}" if c["detail"] else "")
        )
    print(
        f"verdict: {result['verdict']}; results in {out}/election.json, "
        f"plot {out}/election-timings.png"
    )
    return 0 if result["verdict"] == "valid" and result["tally_matches_intent"] else 1


# ---------------------------------------------------------------------- scaling
def _scaling(args: argparse.Namespace) -> int:
    from tqdm import tqdm

    from mixnet.groups import DEFAULT_GROUP, known_groups
    from simulations.executors import open_executor
    from simulations.report import write_json
    from simulations.scaling import measure_group, plot_scaling, scaling_sizes
    from simulations.world import ensure_groups

    ensure_groups()
    if args.max_n < 2 or args.min_n < 2:
        raise CliError("--max-n and --min-n: at least 2")
    if args.max_mixers < 1 or args.processes < 1:
        raise CliError("--max-mixers and --processes: at least 1")
    if args.clock == "cpu" and (args.processes != 1 or args.executor != "local"):
        raise CliError("--clock cpu counts this process only: use it with --processes 1")
    names = args.group or [DEFAULT_GROUP] + (["secp256k1"] if "secp256k1" in known_groups() else [])
    groups = [_group(g) for g in names]
    sizes = scaling_sizes(args.max_n, args.min_n)
    mixers_n = args.mixers_n or min(args.max_n, 300)
    if mixers_n < 2:
        raise CliError("--mixers-n: at least 2")
    out = _out(args)
    results = []
    with open_executor(args.executor, args.processes, args.scheduler) as executor:
        bar = tqdm(
            total=len(groups) * (len(sizes) + args.max_mixers),
            desc="scaling",
            disable=args.no_progress,
            leave=False,
        )
        for group in groups:

            def step(what: str) -> None:
                bar.set_postfix_str(what)
                bar.update(1)

            results.append(
                measure_group(
                    group,
                    sizes,
                    mixers_n=mixers_n,
                    max_mixers=args.max_mixers,
                    executor=executor,
                    progress=not args.no_progress,
                    step=step,
                )
            )
        bar.close()
    doc = {
        **_header("scaling", args),
        "sizes": sizes,
        "executor": args.executor,
        "processes": args.processes,
        "groups": results,
    }
    write_json(out / "scaling.json", doc)
    plot_scaling(results, out / "scaling-loglog.png", out / "scaling-mixers.png", args.clock)
    for res in results:
        print(
            f"{res['group']}: cost per ballot (least-squares slope; wall, and CPU of this process)"
        )
        for phase, f in res["fits"].items():
            print(
                f"  {phase:<18}{f['per_ballot_s'] * 1000:>10.3f} ms/ballot"
                f"{f['per_ballot_cpu_s'] * 1000:>10.3f} ms CPU"
                f"   log–log slope {f['loglog_slope']:.2f}"
            )
    print(
        f"results in {out}/scaling.json, plots {out}/scaling-loglog.png and "
        f"{out}/scaling-mixers.png"
    )
    return 0


# ---------------------------------------------------------------------- attacks
def _attacks(args: argparse.Namespace) -> int:
    from tqdm import tqdm

    from simulations.attacks import ATTACKS, run_attack, run_control
    from simulations.report import plot_bars, write_json

    if args.runs < 1:
        raise CliError("--runs: at least 1")
    if args.voters < 3:
        raise CliError("--voters: at least 3")
    names = args.only or list(ATTACKS)
    unknown = [n for n in names if n not in ATTACKS]
    if unknown:
        raise CliError(f"unknown attack {unknown[0]!r}; known: {', '.join(ATTACKS)}")
    group = _group(args.group)
    out = _out(args)
    bar = tqdm(
        total=args.runs * (len(names) + 1), desc="attacks", disable=args.no_progress, leave=False
    )
    attacks = {}
    for name in names:
        bar.set_postfix_str(name)
        attacks[name] = run_attack(
            name, group, args.runs, args.voters, progress=lambda: bar.update(1)
        )
    passed = 0
    bar.set_postfix_str("honest controls")
    for run in range(args.runs):
        outcome = run_control(group, run, args.voters)
        passed += (not outcome.detected) and outcome.result_correct
        bar.update(1)
    bar.close()
    controls = {"runs": args.runs, "passed": passed, "pass_rate": passed / args.runs}
    ok = controls["passed"] == args.runs and all(
        a["unnoticed_changes"] == 0 and a["secret_kept"] == a["runs"] for a in attacks.values()
    )
    doc = {
        **_header("attacks", args),
        "group": group.name,
        "attacks": attacks,
        "honest_controls": controls,
        "no_result_changed_unnoticed": ok,
    }
    write_json(out / "attacks.json", doc)
    rates = {name: a["detection_rate"] for name, a in attacks.items() if "detection" not in a}
    rates["honest control (pass rate)"] = controls["pass_rate"]
    plot_bars(
        rates,
        out / "attacks.png",
        title=f"tohyo simulate attacks: {args.runs} runs each",
        xlabel="detection rate",
        limit=1.05,
    )
    for name, a in attacks.items():
        found = (
            f"detection {a['detection']} (coercer's guess right "
            f"{a['coercer_guess_right']}/{a['runs']}, by chance ~{a['chance_expected']:g})"
            if "detection" in a
            else f"detected {a['detected']}/{a['runs']}"
        )
        print(
            f"  {name:<23} {found}, result right "
            f"{a['result_correct']}/{a['runs']}, changed unnoticed {a['unnoticed_changes']}, "
            f"secret kept {a['secret_kept']}/{a['runs']}"
        )
    print(f"  {'honest controls':<22} passed {passed}/{args.runs}")
    print(f"results in {out}/attacks.json, plot {out}/attacks.png")
    return 0 if ok else 1


# ---------------------------------------------------------------------- load
def _load(args: argparse.Namespace) -> int:
    from mixnet.groups import DEFAULT_GROUP
    from simulations.load import (
        LoadTarget,
        board_process,
        describe,
        make_ballot_entries,
        plot_load,
        prepare_target,
        reachable,
        run_load,
        summarise,
    )
    from simulations.report import write_json
    from simulations.world import ELECTION_ID

    if args.voters < 1 or args.concurrency < 1:
        raise CliError("--voters and --concurrency: at least 1")
    if not args.duration > 0 or not args.timeout > 0:
        raise CliError("--duration and --timeout: positive")
    if not 0 <= args.read_fraction < 1:
        raise CliError("--read-fraction: in [0, 1)")
    if bool(args.board) == bool(args.start_board):
        raise CliError("give either --board URL or --start-board")
    if args.board and not args.election:
        raise CliError("--board needs --election")
    if args.setup and (not args.board or args.keys):
        raise CliError("--setup goes with --board, without --keys")
    revotes = args.voters // 20 if args.revotes is None else args.revotes
    if revotes < 0:
        raise CliError("--revotes: not negative")
    seed = args.seed or f"tohyo load/{time.time_ns()}"
    out = _out(args)
    progress = not args.no_progress

    def load_against(url: str, target: LoadTarget | None, election: str) -> dict[str, Any]:
        if not asyncio.run(reachable(url)):
            raise CliError(f"board {url} is unreachable")
        posts: list[bytes] = []
        if target is not None:
            print(f"building {args.voters} ballots (+{revotes} re-votes) …", file=sys.stderr)
            posts = make_ballot_entries(target, args.voters, revotes, seed, progress)
        reads = (
            round(len(posts) * args.read_fraction / (1 - args.read_fraction))
            if posts
            else args.voters
        )
        print(
            f"load: {len(posts)} posts and {reads} reads, {args.concurrency} clients, at "
            f"most {args.duration:g} s, against {url}",
            file=sys.stderr,
        )
        samples, elapsed = uvloop.run(
            run_load(
                url,
                election,
                posts,
                reads=reads,
                concurrency=args.concurrency,
                duration=args.duration,
                timeout=args.timeout,
                progress=progress,
            )
        )
        summary = summarise(samples, elapsed)
        summary["planned"] = {"posts": len(posts), "reads": reads}
        summary["board_after"] = asyncio.run(describe(url, election))
        plot_load(samples, elapsed, out / "load.png")
        return summary

    if args.start_board:
        from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey

        election = args.election or ELECTION_ID
        group = _group(args.group or DEFAULT_GROUP)
        with tempfile.TemporaryDirectory(prefix="tohyo-load-") as tmp:
            key = Ed25519PrivateKey.generate().private_bytes_raw()
            with board_process(Path(tmp), key) as url:
                print(
                    f"board started at {url}; setting up {election} ({group.name}) …",
                    file=sys.stderr,
                )
                target, _ = asyncio.run(prepare_target(url, group.name, election, seed))
                target.write(out / "election.json")
                summary = load_against(url, target, election)
        board_url = "started on 127.0.0.1 by the command"
    else:
        election = args.election
        target = None
        if args.setup:
            from bulletin_board.client import BoardRefusedError

            if not asyncio.run(reachable(args.board)):
                raise CliError(f"board {args.board} is unreachable")
            group = _group(args.group or DEFAULT_GROUP)
            try:
                target, _ = asyncio.run(prepare_target(args.board, group.name, election, seed))
            except BoardRefusedError as exc:
                raise CliError(
                    f"the board refuses the election's setup: {exc.code} ({exc.detail})"
                ) from exc
            target.write(out / "election.json")
        elif args.keys is not None:
            try:
                target = LoadTarget.read(args.keys)
            except (OSError, ValueError, KeyError) as exc:
                raise CliError(f"--keys {args.keys}: {exc}") from exc
            if target.election != election:
                raise CliError(f"--keys is for election {target.election}, not {election}")
        summary = load_against(args.board, target, election)
        board_url = args.board
    doc = {**_header("load", args), "board": board_url, "election": election, **summary}
    write_json(out / "load.json", doc)
    print(
        f"{summary['requests']} requests in {summary['elapsed_s']:.1f} s: "
        f"{summary['throughput_per_s']:.1f}/s; latency ms "
        + ", ".join(f"{k} {v:.1f}" for k, v in summary["latency_ms"].items())
    )
    for kind, k in summary["by_kind"].items():
        print(
            f"  {kind:<5} {k['requests']} requests, {k['ok']} ok, {k['ok_per_s']:.1f} ok/s, "
            "latency ms " + ", ".join(f"{p} {v:.1f}" for p, v in k["latency_ms"].items())
        )
    print("errors: " + (", ".join(f"{c} ×{n}" for c, n in summary["errors"].items()) or "none"))
    print(f"results in {out}/load.json, plot {out}/load.png")
    return 0 if summary["server_errors"] == 0 else 1
