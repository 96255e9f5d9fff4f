"""`tohyo demo`: one election through the mix-net, end to end, on the embedded defaults.

What runs today (it grows into the whole election of issue 8 as the board, trustees, card and
client land): voters' rows are encrypted under the election key, each with the proof of
knowledge of its randomness bound to the election and a fresh ballot key; three mix servers
shuffle in turn, each checking the previous proof before it mixes; the result is decrypted
with a proof; then an independent pass re-reads the record written to disk and re-checks every
proof, recounts the tally, and prints the verdict.
"""

from __future__ import annotations

import argparse
import hashlib
import json
import os
import sys
import time
from collections import Counter
from concurrent.futures import Executor, ProcessPoolExecutor
from pathlib import Path
from typing import Any

from tqdm import tqdm

from mixnet import elgamal
from mixnet.encoding import canonical_json, parse_canonical_json
from mixnet.errors import DecodeError, VerificationError
from mixnet.groups import DEFAULT_GROUP, Group, get_group, group_from_description, known_groups
from mixnet.proofs import chaum_pedersen, decryption, encryption
from mixnet.rng import DeterministicRandom, RandomSource, system_random
from mixnet.shuffle import proof as shuffle_proof
from mixnet.shuffle.shuffle import shuffle
from mixnet.transcript import Transcript

CANDIDATES = ["青木 はるか", "石田 一郎", "上野 さくら", "遠藤 健"]


def _ballot_context(fingerprint: bytes, ballot_key: bytes) -> list[Any]:
    return ["tohyo/ballot/v1", fingerprint, ballot_key]


def _mix_context(fingerprint: bytes, k: int) -> list[Any]:
    return ["tohyo/mix/v1", fingerprint, k]


def _rows_json(rows: list[elgamal.Row]) -> list[Any]:
    return [elgamal.row_to_json(r) for r in rows]


def _rows_from_json(group: Group, data: Any) -> list[elgamal.Row]:
    return [elgamal.row_from_json(group, r, 1) for r in data]


def _write(path: Path, value: Any) -> None:
    path.write_bytes(canonical_json(value))


def _read(path: Path) -> Any:
    return parse_canonical_json(path.read_bytes())


def run_election(
    group: Group,
    voters: int,
    mixers: int,
    out: Path,
    rng: RandomSource,
    executor: Executor | None,
) -> dict[str, Any]:
    timings: dict[str, float] = {}
    record = out / "record"
    record.mkdir(parents=True, exist_ok=True)
    manifest = {
        "election": "demo-tsukuba-2026",
        "group": group.description(),
        "candidates": CANDIDATES,
        "mixers": mixers,
    }
    fingerprint = hashlib.sha256(canonical_json(manifest)).digest()
    _write(record / "manifest.json", manifest)

    t = time.perf_counter()
    key = elgamal.keygen(group, rng)
    _write(record / "election_key.json", {"pk": key.public.to_hex()})
    timings["key generation"] = time.perf_counter() - t

    # voting: each voter picks a candidate, encrypts, proves knowledge of the randomness
    t = time.perf_counter()
    choices = [rng.randbelow(len(CANDIDATES)) for _ in range(voters)]
    rows, randomness = elgamal.encrypt_rows(key.public, [[c] for c in choices], rng, executor)
    ballots = []
    for row, rs in tqdm(list(zip(rows, randomness)), desc="ballots", unit="ballot", leave=False):
        ballot_key = rng.randbytes(32)
        proof = encryption.prove(
            encryption.Statement(key.public, row),
            rs,
            transcript=Transcript(_ballot_context(fingerprint, ballot_key)),
            rng=rng,
        )
        ballots.append(
            {
                "ballot_key": ballot_key.hex(),
                "row": elgamal.row_to_json(row),
                "proof": proof.to_json(),
            }
        )
    _write(record / "ballots.json", ballots)
    timings["encrypt + prove ballots"] = time.perf_counter() - t

    # mixing: mixer k verifies mixer k−1's proof, then shuffles and proves
    current = rows
    for k in range(1, mixers + 1):
        t = time.perf_counter()
        if k > 1:
            prev = _read(record / f"mix{k - 1}.json")
            prev_in = _rows_from_json(group, prev["inputs"])
            prev_out = _rows_from_json(group, prev["outputs"])
            statement = shuffle_proof.ShuffleStatement(key.public, prev_in, prev_out, fingerprint)
            prev_proof = shuffle_proof.ShuffleProof.from_json(
                group, prev["proof"], len(prev_in), 1, executor=executor
            )
            shuffle_proof.verify(
                statement,
                prev_proof,
                transcript=Transcript(_mix_context(fingerprint, k - 1)),
                executor=executor,
            )
            current = prev_out
        timings[f"mixer {k}: check previous"] = time.perf_counter() - t
        t = time.perf_counter()
        outputs, witness = shuffle(key.public, current, rng, executor)
        statement = shuffle_proof.ShuffleStatement(key.public, current, outputs, fingerprint)
        proof = shuffle_proof.prove(
            statement,
            witness,
            transcript=Transcript(_mix_context(fingerprint, k)),
            rng=rng,
            executor=executor,
        )
        _write(
            record / f"mix{k}.json",
            {
                "inputs": _rows_json(current),
                "outputs": _rows_json(outputs),
                "proof": proof.to_json(),
            },
        )
        timings[f"mixer {k}: shuffle + prove"] = time.perf_counter() - t
        current = outputs
        print(f"  mixer {k} posted {len(outputs)} rows", file=sys.stderr, flush=True)

    # decryption with a proof
    t = time.perf_counter()
    factors = decryption.decryption_factors(key.secret, current, executor)
    dproof = decryption.prove_factors(
        key.secret,
        current,
        factors,
        transcript=Transcript(["tohyo/decrypt/v1", fingerprint]),
        rng=rng,
        executor=executor,
    )
    plaintexts = [
        group.decode_message(row[0].a / f, len(CANDIDATES)) for row, f in zip(current, factors)
    ]
    tally = Counter(plaintexts)
    result = {CANDIDATES[i]: tally.get(i, 0) for i in range(len(CANDIDATES))}
    _write(
        record / "decryption.json",
        {"factors": [f.to_hex() for f in factors], "proof": dproof.to_json(), "tally": result},
    )
    timings["decrypt + prove"] = time.perf_counter() - t

    expected = Counter(choices)
    if [expected.get(i, 0) for i in range(len(CANDIDATES))] != list(result.values()):
        raise RuntimeError("the decrypted tally differs from the votes cast")
    return {"result": result, "timings": timings, "fingerprint": fingerprint.hex()}


def verify_record(record: Path, executor: Executor | None) -> list[tuple[str, str, bool, str]]:
    """Re-check everything from the files alone; returns (id, what, ok, detail) per step."""
    steps: list[tuple[str, str, bool, str]] = []

    def step(sid: str, what: str, fn: Any) -> Any:
        try:
            value = fn()
        except (VerificationError, DecodeError, ValueError, KeyError) as exc:
            steps.append((sid, what, False, str(exc)))
            return None
        steps.append((sid, what, True, ""))
        return value

    manifest = _read(record / "manifest.json")
    fingerprint = hashlib.sha256(canonical_json(manifest)).digest()
    group = step(
        "D1",
        "group parameters re-derived from their generation record",
        lambda: group_from_description(manifest["group"], recheck=True),
    )
    if group is None:
        return steps
    pk = group.element_from_hex(_read(record / "election_key.json")["pk"])
    ballots = _read(record / "ballots.json")

    def check_ballots() -> list[elgamal.Row]:
        rows, seen = [], set()
        for i, b in enumerate(ballots):
            row = elgamal.row_from_json(group, b["row"], 1)
            proof = encryption.Proof.from_json(group, b["proof"], 1)
            encryption.verify(
                encryption.Statement(pk, row),
                proof,
                transcript=Transcript(_ballot_context(fingerprint, bytes.fromhex(b["ballot_key"]))),
            )
            if row[0].b.to_bytes() in seen:
                raise VerificationError("D2 duplicates", f"ballot {i} copies another's ciphertext")
            seen.add(row[0].b.to_bytes())
            rows.append(row)
        return rows

    rows = step(
        "D2", f"{len(ballots)} ballots: membership, proof of knowledge, no copies", check_ballots
    )
    if rows is None:
        return steps
    current = rows
    for k in range(1, manifest["mixers"] + 1):
        mix = _read(record / f"mix{k}.json")

        def check_mix(mix: Any = mix, k: int = k, current: Any = current) -> Any:
            inputs = _rows_from_json(group, mix["inputs"])
            if [r[0] for r in inputs] != [r[0] for r in current]:
                raise VerificationError("D3 chain", f"mixer {k}'s input is not the previous output")
            outputs = _rows_from_json(group, mix["outputs"])
            proof = shuffle_proof.ShuffleProof.from_json(
                group, mix["proof"], len(inputs), 1, executor=executor
            )
            shuffle_proof.verify(
                shuffle_proof.ShuffleStatement(pk, inputs, outputs, fingerprint),
                proof,
                transcript=Transcript(_mix_context(fingerprint, k)),
                executor=executor,
            )
            return outputs

        current = step(
            f"D3.{k}", f"mixer {k}: input = previous output, proof of shuffle", check_mix
        )
        if current is None:
            return steps
    dec = _read(record / "decryption.json")

    def check_decryption() -> None:
        factors = group.elements_from_hex(dec["factors"])
        proof = chaum_pedersen.Proof.from_json(group, dec["proof"])
        decryption.verify_factors(
            pk,
            current,
            factors,
            proof,
            transcript=Transcript(["tohyo/decrypt/v1", fingerprint]),
            executor=executor,
        )
        counts = Counter(
            group.decode_message(row[0].a / f, len(manifest["candidates"]))
            for row, f in zip(current, factors)
        )
        recount = {c: counts.get(i, 0) for i, c in enumerate(manifest["candidates"])}
        if recount != dec["tally"]:
            raise VerificationError("D4 tally", "published tally differs from the recount")

    step("D4", "decryption proof, decoding and recount of the tally", check_decryption)
    return steps


def _plot(timings: dict[str, float], path: Path) -> None:
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    fig, ax = plt.subplots(figsize=(8, 0.45 * len(timings) + 1))
    names = list(timings)
    ax.barh(names, [timings[n] for n in names], color="#3b6ea5")
    ax.invert_yaxis()
    ax.set_xlabel("seconds")
    ax.set_title("tohyo demo: time per phase")
    fig.tight_layout()
    fig.savefig(path, dpi=120)
    plt.close(fig)


def register(subparsers: Any) -> None:
    p = subparsers.add_parser("demo", help="run an election end to end on the embedded defaults")
    p.add_argument("--voters", type=int, default=200)
    p.add_argument("--mixers", type=int, default=3)
    p.add_argument("--group", default=DEFAULT_GROUP, help=f"one of: {', '.join(known_groups())}")
    p.add_argument("--processes", type=int, default=min(2, os.cpu_count() or 1))
    p.add_argument("--output", type=Path, default=Path("demo-output"))
    p.add_argument("--seed", help="replay a run (deterministic randomness; never for real use)")
    p.set_defaults(func=run)


def run(args: argparse.Namespace) -> int:
    from tohyo.cli import CliError

    if args.voters < 2 or args.mixers < 1 or args.processes < 1:
        raise CliError("need at least 2 voters, 1 mixer and 1 process")
    if args.group not in known_groups():
        raise CliError(f"unknown group {args.group!r}; known: {', '.join(known_groups())}")
    group = get_group(args.group)
    rng: RandomSource = DeterministicRandom(args.seed) if args.seed else system_random
    args.output.mkdir(parents=True, exist_ok=True)
    executor = ProcessPoolExecutor(args.processes) if args.processes > 1 else None
    print(f"tohyo demo: {args.voters} voters, {args.mixers} mix servers, group {group.name}")
    try:
        outcome = run_election(group, args.voters, args.mixers, args.output, rng, executor)
        t = time.perf_counter()
        steps = verify_record(args.output / "record", executor)
        outcome["timings"]["independent verification"] = time.perf_counter() - t
    finally:
        if executor is not None:
            executor.shutdown()

    print("\nResult")
    for name, votes in outcome["result"].items():
        print(f"  {name}  {votes:>6}")
    print("\nTime per phase")
    for name, secs in outcome["timings"].items():
        print(f"  {name:<32}{secs:>9.2f} s")
    print("\nVerification")
    for sid, what, ok, detail in steps:
        print(f"  [{'PASS' if ok else 'FAIL'}] {sid:<6}{what}" + (f" — {detail}" if detail else ""))
    verdict = all(ok for _, _, ok, _ in steps)
    result = {
        **outcome,
        "group": group.name,
        "voters": args.voters,
        "mixers": args.mixers,
        "verification": [{"id": s, "check": w, "pass": ok, "detail": d} for s, w, ok, d in steps],
        "verdict": "valid" if verdict else "INVALID",
    }
    (args.output / "result.json").write_text(json.dumps(result, ensure_ascii=False, indent=1))
    _plot(outcome["timings"], args.output / "timings.png")
    print(f"\nRecord, results and plots in {args.output}/")
    print(f"Verifier's verdict: {'VALID — every check passed' if verdict else 'INVALID'}")
    return 0 if verdict else 1
