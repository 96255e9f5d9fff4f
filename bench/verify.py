"""Whole-record verification time (`tohyo verify`), and its parts, for N ballots and K mixers.

Builds an election record in memory (keys, key ceremony, N ballots with 1% re-votes, K
shuffles with proofs, t decryption shares, the counted result, one signed tree head per entry)
and writes it as a board export; then runs `tohyo verify` on it in a fresh process (nothing
cached, generators recomputed) with 1 and 2 worker processes and prints the wall time and
the seconds of each step.

    python bench/verify.py --n 1000 10000 --mixers 3 --processes 1 2      # the real figures
    python bench/verify.py --quick                                        # a smoke run (tests)

Figures are measured, never asserted.
"""

from __future__ import annotations

import argparse
import datetime as dt
import json
import os
import subprocess
import sys
import tempfile
import time
from collections.abc import Sequence
from concurrent.futures import Executor, ProcessPoolExecutor
from pathlib import Path
from typing import Any

from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from bulletin_board.entry import sign_envelope
from bulletin_board.export import write_export
from bulletin_board.log import MerkleLog, hash_leaf, sign_tree_head
from election import rules
from election.entries import Ballot
from election.manifest import (
    Contest,
    Eligibility,
    Manifest,
    MixServer,
    Option,
    Trustee,
)
from election.policy import ceremony_config, joint_key_body
from jpki.registrar import sign_attestation
from mixnet import elgamal
from mixnet.groups import get_group
from mixnet.rng import DeterministicRandom
from simulations.world import VOTING_END, VOTING_START
from trustees.config import generate_trustee_keys
from trustees.decryption import combine_lists, make_share, share_entry_body
from trustees.dkg import CLOSED, DkgTrustee
from trustees.mixer import mix

ROOT = Path(__file__).resolve().parents[1]
E = "bench-2026"
CHUNK = 250


def _raw(key: Ed25519PrivateKey) -> str:
    return (
        key.public_key()
        .public_bytes(serialization.Encoding.Raw, serialization.PublicFormat.Raw)
        .hex()
    )


def _private(key: Ed25519PrivateKey) -> bytes:
    return key.private_bytes(
        serialization.Encoding.Raw, serialization.PrivateFormat.Raw, serialization.NoEncryption()
    )


def _ballots(
    group_name: str, pk_hex: str, fp: bytes, registrar: bytes, start: int, voters: list[int]
) -> list[dict[str, Any]]:
    """Worker: the ballot entry bodies of `voters` (pseudonym = voter number)."""
    group = get_group(group_name)
    pk = group.element_from_hex(pk_hex)
    rng = DeterministicRandom(b"ballots %d" % start)
    key = Ed25519PrivateKey.from_private_bytes(registrar)
    rows, rs = elgamal.encrypt_rows(pk, [[1 + (v * 7 + start) % 3] for v in voters], rng)
    out = []
    for voter, row, r in zip(voters, rows, rs):
        ballot = Ballot.create(fp, pk, row, r, Ed25519PrivateKey.generate(), rng)
        att = sign_attestation(key, fp, voter.to_bytes(32, "big"), ballot.hash(fp))
        out.append({"v": 1, "ballot": ballot.to_json(), "attestation": att.to_json()})
    return out


def build_record(
    directory: Path,
    n: int,
    mixers: int,
    group_name: str,
    executor: Executor | None,
    log: Any = print,
) -> None:
    """Write the export of a whole election with n voters and `mixers` mix servers."""
    rng = DeterministicRandom(b"bench verify")
    group = get_group(group_name)
    admin, registrar, board = (Ed25519PrivateKey.generate() for _ in range(3))
    trustee_keys = [generate_trustee_keys(rng) for _ in range(3)]
    mix_keys = [Ed25519PrivateKey.generate() for _ in range(mixers)]
    manifest = Manifest(
        election_id=E,
        title="ベンチマーク選挙",
        election_day=dt.date(2026, 12, 6),
        voting_start=VOTING_START,
        voting_end=VOTING_END,
        contests=(
            Contest(
                "mayor",
                "市長",
                "public_office",
                "single",
                (Option("a", "青木"), Option("b", "石田"), Option("c", "上野")),
            ),
        ),
        eligibility=Eligibility(16, ("茨城県つくば市",)),
        threshold=2,
        trustees=tuple(
            Trustee(
                f"trustee-{i + 1}",
                i + 1,
                k.public(i + 1).ed25519_public.hex(),
                k.public(i + 1).x25519_public.hex(),
            )
            for i, k in enumerate(trustee_keys)
        ),
        mix_servers=tuple(
            MixServer(f"mix-{i + 1}", i + 1, _raw(k)) for i, k in enumerate(mix_keys)
        ),
        admin_key=_raw(admin),
        registrar_key=_raw(registrar),
        board_key=_raw(board),
        group=group.description(),
    )
    fp = manifest.fingerprint()
    entries: list[bytes] = []

    def post(key: Ed25519PrivateKey, author: str, type_: str, body: dict[str, Any]) -> int:
        entries.append(sign_envelope(key, E, type_, author, body).to_bytes())
        return len(entries) - 1

    def phase(name: str) -> None:
        post(admin, "admin", "phase", {"phase": name})

    t0 = time.perf_counter()
    post(admin, "admin", "manifest", {"manifest": manifest.to_json()})
    phase("key_ceremony")
    machines = [
        DkgTrustee(ceremony_config(manifest), i + 1, k, rng) for i, k in enumerate(trustee_keys)
    ]
    queue = [(m.index, msg) for m in machines for msg in m.start()]
    record = machines[0].record
    while queue or record.next_round() != CLOSED:
        if not queue:  # the administrator closes the round
            round_ = record.next_round()
            post(admin, "admin", "dkg_round", {"v": 1, "round": round_})
            queue = [(m.index, msg) for m in machines for msg in m.close_round(round_)]
            continue
        sender, msg = queue.pop(0)
        post(
            trustee_keys[sender - 1].ed25519_key(), f"trustee-{sender}", "dkg", msg.to_json_value()
        )
        for m in machines:
            m.receive(msg)
    outcome = record.outcome()
    pk = outcome.pk
    post(admin, "admin", "joint_key", joint_key_body(outcome))
    for m in machines:
        m.close_round(CLOSED)  # the joint key closes the ceremony: each trustee's share
    phase("voting")
    log(f"  ceremony {time.perf_counter() - t0:.1f} s")

    t0 = time.perf_counter()
    voters = list(range(n)) + list(range(0, n, 100))  # 1% vote again: the last counts
    chunks = [voters[k : k + CHUNK] for k in range(0, len(voters), CHUNK)]
    args = (group_name, pk.to_hex(), fp, _private(registrar))
    if executor is None:
        bodies = [b for k, c in enumerate(chunks) for b in _ballots(*args, k * CHUNK, c)]
    else:
        futures = [executor.submit(_ballots, *args, k * CHUNK, c) for k, c in enumerate(chunks)]
        bodies = [b for f in futures for b in f.result()]
    last: dict[int, int] = {}
    rows_by_index: dict[int, Any] = {}
    for voter, body in zip(voters, bodies):
        i = post(registrar, "registrar", "ballot", body)
        last[voter] = i
        rows_by_index[i] = body["ballot"]["row"]
    phase("closed")
    indices = sorted(last.values())
    rows_json = [rows_by_index[i] for i in indices]
    post(
        admin,
        "admin",
        "mix_input",
        {"v": 1, "entries": indices, "contests": rules.contest_lists_json(manifest, rows_json)},
    )
    phase("mixing")
    log(f"  {len(voters)} ballots {time.perf_counter() - t0:.1f} s")

    current = rules.contest_lists(
        manifest, [elgamal.row_from_json(group, r, manifest.width) for r in rows_json]
    )
    for k, key in enumerate(mix_keys, start=1):
        t0 = time.perf_counter()
        body = mix(pk, current, fp, k, rng=rng, executor=executor)
        post(key, f"mix-{k}", "shuffle", body)
        current = [
            (part["contest"], [elgamal.row_from_json(group, r) for r in part["outputs"]])
            for part in body["contests"]
        ]
        log(f"  shuffle {k} {time.perf_counter() - t0:.1f} s")
    phase("decrypting")

    t0 = time.perf_counter()
    shares = []
    for m in (machines[0], machines[1]):
        assert m.key_share is not None
        mine = [
            (c, make_share(m.key_share, rows, election=fp, rng=rng, executor=executor))
            for c, rows in current
        ]
        shares.append((m.index, [s for _, s in mine]))
        post(
            trustee_keys[m.index - 1].ed25519_key(),
            f"trustee-{m.index}",
            "decryption_share",
            share_entry_body(m.index, mine),
        )
    result = combine_lists(
        current,
        shares,
        outcome.verification_keys,
        2,
        election=fp,
        executor=executor,
        decoders={c.id: rules.contest_decoder(manifest, c) for c in manifest.contests},
    )
    post(
        admin,
        "admin",
        "result",
        {
            "v": 1,
            "trustees": list(result.used),
            "plaintexts": rules.published_plaintexts(result.plaintexts),
            "tally": rules.count_plaintexts(manifest, dict(result.plaintexts)),
        },
    )
    phase("tallied")
    merkle = MerkleLog(hash_leaf(e) for e in entries)
    heads = [
        sign_tree_head(board, E, s, merkle.root(s), 1796083200000 + s)
        for s in range(1, len(entries) + 1)
    ]
    write_export(directory, E, manifest.board_key, entries, heads, heads[-1])
    log(f"  decryption and export {time.perf_counter() - t0:.1f} s")


def measure(directory: Path, processes: int, test_group: bool) -> dict[str, float]:
    """Run `tohyo verify` in a fresh process (nothing cached): wall time and each step's."""
    with tempfile.TemporaryDirectory() as tmp:
        report_path = Path(tmp) / "report.json"
        cmd = [
            sys.executable,
            "-m",
            "tohyo",
            "verify",
            str(directory),
            "--json",
            str(report_path),
            "--processes",
            str(processes),
            "--no-progress",
        ]
        if test_group:
            cmd.append("--allow-test-groups")
        start = time.perf_counter()
        proc = subprocess.run(
            cmd,
            capture_output=True,
            text=True,
            cwd=ROOT,
            env=os.environ | {"PYTHONPATH": str(ROOT)},
        )
        total = time.perf_counter() - start
        if proc.returncode != 0:
            raise SystemExit("the bench record does not verify:\n" + proc.stdout + proc.stderr)
        report = json.loads(report_path.read_text())
    return {s["id"]: s["seconds"] for s in report["steps"]} | {"total": total}


def main(argv: Sequence[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--n", type=int, nargs="+", default=[1000, 10000])
    parser.add_argument("--mixers", type=int, default=3)
    parser.add_argument("--processes", type=int, nargs="+", default=[1, 2])
    parser.add_argument("--group", default="tohyo-schnorr-3072-256")
    parser.add_argument(
        "--quick",
        action="store_true",
        help="smoke run: the 512-bit test group, 20 ballots, 2 mixers",
    )
    parser.add_argument(
        "--keep", type=Path, help="write the records under this directory and reuse those found"
    )
    args = parser.parse_args(argv)
    if args.quick:
        args.n, args.mixers, args.group = [20], 2, "test-schnorr-512-128"
    test_group = not get_group(args.group).production
    print(f"bench/verify: group {args.group}, {args.mixers} mixers, processes {args.processes}")
    with tempfile.TemporaryDirectory() as tmp:
        base = args.keep or Path(tmp)
        for n in args.n:
            directory = base / f"record-{n}"
            if (directory / "board.json").is_file():
                print(f"reusing the record of {n} voters in {directory}")
            else:
                print(f"building a record of {n} voters …")
                with ProcessPoolExecutor(max(args.processes)) as ex:
                    build_record(
                        directory,
                        n,
                        args.mixers,
                        args.group,
                        ex if max(args.processes) > 1 else None,
                    )
            for p in args.processes:
                times = measure(directory, p, test_group)
                parts = "  ".join(f"{k} {v:.2f}" for k, v in times.items() if k != "total")
                print(
                    f"n={n:<6} mixers={args.mixers} processes={p}  "
                    f"total {times['total']:.2f} s  ({times['total'] / n * 1000:.2f} ms "
                    f"per ballot)"
                )
                print(f"    {parts}")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
