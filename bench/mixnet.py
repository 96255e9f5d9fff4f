"""Mix-net benchmark: generator derivation, shuffle+prove and verify per ciphertext.

Run as `tohyo bench mixnet` (or `python -m bench.mixnet`). Every figure is also given in
"exponentiation equivalents": the time divided by one gmpy2 `powmod` (for curves: one scalar
multiplication) with a random exponent in [0, q) in the same group, measured in the same run,
so figures from different machines can be compared. Nothing here asserts a timing.

Reported per configuration (group, N rows, width w, processes), per ciphertext (N·w):
- tables_ms: one-time fixed-base tables for g, pk and h in every worker (total, not per ct);
- generators_ms_per_ct: deriving h, h_1..h_N (cache cleared first);
- membership_ms_per_ct: the subgroup test of all inputs and outputs (also inside verify);
- prove_ms_per_ct: shuffle (re-encryption + permutation) and its proof;
- verify_ms_per_ct: the whole proof check, membership included, generators cached.

With `--after-close`, instead: the mix server's step after the close (mix server 1: the
generators, then shuffle + prove with `trustees.mixer.mix`), once deriving every generator
then (`tohyo trustee mix --no-generator-cache`) and once with the candidates derived during the
voting period into a generator cache on disk (`trustees.generator_cache`: loaded with its
checks, nothing derived); the proof made with the cache is verified with fresh generators.
Times in wall seconds, and in CPU seconds of this process when it works alone (1 process).
"""

from __future__ import annotations

import sys

if __name__ == "__main__" and sys.path and sys.path[0].endswith("bench"):
    sys.path.pop(0)  # run as a script: bench/ must not shadow the `mixnet` package

import argparse
import hashlib
import itertools
import json
import statistics
import tempfile
import time
from concurrent.futures import Executor, ProcessPoolExecutor
from typing import Any

from mixnet import elgamal, generators
from mixnet.groups import Group, get_group, known_groups
from mixnet.rng import DeterministicRandom, system_random
from mixnet.shuffle import proof as shuffle_proof
from mixnet.shuffle.shuffle import shuffle
from mixnet.transcript import Transcript

DEFAULT_GROUPS = ["modp2048", "ffdhe3072", "tohyo-schnorr-3072-256"]
EC_GROUPS = ["secp256k1", "ristretto255"]
DEFAULT_N = [1000, 10000]
DEFAULT_WIDTH = [1, 3]
DEFAULT_PROCESSES = [1, 2]
AFTER_CLOSE_GROUPS = ["tohyo-schnorr-3072-256", "secp256k1"]


def powmod_ms(group: Group, samples: int = 40) -> float:
    """Median time of one exponentiation with a random exponent in [0, q), in ms."""
    rng = DeterministicRandom(b"bench-powmod")
    base = group.generator() ** group.random_scalar(rng)
    times = []
    for _ in range(samples):
        e = rng.randbelow(group.order)
        t = time.perf_counter()
        group.raw_pow(base.value, e)
        times.append(time.perf_counter() - t)
    return statistics.median(times) * 1e3


def _warm(group: Group, pk: Any, h: Any, executor: Executor | None) -> None:
    rng = DeterministicRandom(b"warm")
    exps = [rng.randbelow(group.order) for _ in range(4096)]
    for base in (group.generator(), pk, h):
        group.fixed_base_pows(base, exps, executor)


def run_one(group_name: str, n: int, width: int, processes: int, progress: bool) -> dict[str, Any]:
    group = get_group(group_name)
    rng = DeterministicRandom(f"bench {group_name} {n} {width}".encode())
    executor: Executor | None = ProcessPoolExecutor(processes) if processes > 1 else None
    try:
        kp = elgamal.keygen(group, rng)
        context = f"bench/{group_name}/{n}".encode()
        say = (lambda m: print(f"  … {m}", file=sys.stderr, flush=True)) if progress else None
        if say:
            say(f"{group_name} N={n} w={width} p={processes}: encrypting")
        rows, _ = elgamal.encrypt_rows(
            kp.public, [[(i + k) % 5 for k in range(width)] for i in range(n)], rng, executor
        )
        generators._CACHE.clear()
        if say:
            say("deriving generators")
        t = time.perf_counter()
        gens = generators.derive_generators(
            group, context, shuffle_proof.GENERATOR_PURPOSE, n, executor
        )
        t_gen = time.perf_counter() - t
        t = time.perf_counter()
        _warm(group, kp.public, gens.h, executor)
        t_tables = time.perf_counter() - t
        if say:
            say("shuffling and proving")
        t = time.perf_counter()
        outputs, witness = shuffle(kp.public, rows, rng, executor)
        statement = shuffle_proof.ShuffleStatement(kp.public, rows, outputs, context)
        proof = shuffle_proof.prove(
            statement, witness, transcript=Transcript(b"bench"), rng=rng, executor=executor
        )
        t_prove = time.perf_counter() - t
        elements = [x for row in (*rows, *outputs) for ct in row for x in (ct.a, ct.b)]
        t = time.perf_counter()
        group.check_members(elements, system_random, executor)
        t_member = time.perf_counter() - t
        if say:
            say("verifying")
        t = time.perf_counter()
        shuffle_proof.verify(statement, proof, transcript=Transcript(b"bench"), executor=executor)
        t_verify = time.perf_counter() - t
    finally:
        if executor is not None:
            executor.shutdown()
    return bench_record(
        group_name, n, width, processes, t_tables, (t_gen, t_member, t_prove, t_verify)
    )


def bench_record(
    group_name: str,
    n: int,
    width: int,
    processes: int,
    t_tables: float,
    phases: tuple[float, float, float, float],
) -> dict[str, Any]:
    """One table row: seconds of (generators, membership, prove, verify) per ciphertext, in ms
    and in units of one full-length exponentiation."""
    group = get_group(group_name)
    cts = n * width
    unit = powmod_ms(group)
    record: dict[str, Any] = {
        "group": group_name,
        "n": n,
        "width": width,
        "processes": processes,
        "powmod_ms": round(unit, 4),
        "tables_ms": round(t_tables * 1e3, 1),
    }
    keys = ("generators", "membership", "prove", "verify")
    for key, seconds in zip(keys, phases):
        record[f"{key}_ms_per_ct"] = round(seconds * 1e3 / cts, 4)
    for key in keys:
        record[f"{key}_eq"] = round(record[f"{key}_ms_per_ct"] / unit, 3)
    return record


class _Clock:
    """Wall and CPU seconds of one phase."""

    def __init__(self) -> None:
        self.wall, self.cpu = time.perf_counter(), time.process_time()

    def stop(self) -> tuple[float, float]:
        return time.perf_counter() - self.wall, time.process_time() - self.cpu


def run_after_close(
    group_name: str, n: int, width: int, processes: int, progress: bool
) -> dict[str, Any]:
    """The mix step after the close without and with generators precomputed during voting."""
    from trustees.generator_cache import GeneratorCache
    from trustees.mixer import mix, verify_chain

    group = get_group(group_name)
    rng = DeterministicRandom(f"bench after close {group_name} {n} {width}".encode())
    fingerprint = hashlib.sha256(f"bench after close {group_name} {n}".encode()).digest()
    purpose = shuffle_proof.GENERATOR_PURPOSE
    seed = generators.generator_seed(group, fingerprint, purpose)
    cache_key = hashlib.sha256(b"bench: a mix server key").digest()  # its cache_key
    need = generators.candidate_count(n)
    executor: Executor | None = ProcessPoolExecutor(processes) if processes > 1 else None
    say = (lambda m: print(f"  … {m}", file=sys.stderr, flush=True)) if progress else None
    try:
        kp = elgamal.keygen(group, rng)
        rows, _ = elgamal.encrypt_rows(
            kp.public, [[(i + k) % 5 for k in range(width)] for i in range(n)], rng, executor
        )
        with tempfile.TemporaryDirectory() as state:
            if say:
                say(f"{group_name} N={n} w={width} p={processes}: precomputing (voting)")
            clock = _Clock()
            with GeneratorCache(state, group, seed, cache_key) as cache:
                assert cache.acquire()
                cache.extend(generators.derive_candidates(group, seed, 0, need, executor))
            t_pre = clock.stop()
            size = cache.count * group.element_bytes
            generators.clear_cache()
            gens = generators.derive_generators(group, fingerprint, purpose, n, executor)
            _warm(group, kp.public, gens.h, executor)  # the same tables in both runs
            if say:
                say("mix after the close, generators derived then")
            generators.clear_cache()
            clock = _Clock()
            generators.derive_generators(group, fingerprint, purpose, n, executor)
            mix(kp.public, [("bench", rows)], fingerprint, 1, rng=rng, executor=executor)
            t_cold = clock.stop()
            if say:
                say("mix after the close, generators from the cache")
            generators.clear_cache()
            clock = _Clock()
            cache = GeneratorCache(state, group, seed, cache_key)
            assert cache.load() == need
            t_load = clock.stop()
            generators.derive_generators(
                group, fingerprint, purpose, n, executor, known=cache.candidates
            )
            body = mix(kp.public, [("bench", rows)], fingerprint, 1, rng=rng, executor=executor)
            t_warm = clock.stop()
        generators.clear_cache()
        verify_chain(kp.public, [("bench", rows)], [body], fingerprint, executor=executor)
    finally:
        if executor is not None:
            executor.shutdown()
    record: dict[str, Any] = {
        "group": group_name,
        "n": n,
        "width": width,
        "processes": processes,
        "cache_bytes": size,
        "verified_with_fresh_generators": True,
    }
    for key, (wall, cpu) in (
        ("precompute", t_pre),
        ("load_cache", t_load),
        ("mix_without_cache", t_cold),
        ("mix_with_cache", t_warm),
    ):
        record[f"{key}_s"] = round(wall, 3)
        if processes == 1:
            record[f"{key}_cpu_s"] = round(cpu, 3)
    record["speedup"] = round(t_cold[0] / t_warm[0], 2)
    return record


def format_after_close(records: list[dict[str, Any]]) -> str:
    head = (
        f"{'group':<24}{'N':>7}{'w':>3}{'proc':>5}{'precompute':>17}{'load cache':>15}"
        f"{'mix without':>17}{'mix with':>17}{'ratio':>7}"
    )
    lines = [
        "the mix after the close, mix server 1 (wall s; CPU s of this process in brackets);"
        " precompute = derived during voting",
        head,
        "-" * len(head),
    ]

    def cell(r: dict[str, Any], key: str, width: int) -> str:
        text = f"{r[key + '_s']:.2f}"
        if key + "_cpu_s" in r:
            text += f" ({r[key + '_cpu_s']:.2f})"
        return text.rjust(width)

    for r in records:
        lines.append(
            f"{r['group']:<24}{r['n']:>7}{r['width']:>3}{r['processes']:>5}"
            f"{cell(r, 'precompute', 17)}{cell(r, 'load_cache', 15)}"
            f"{cell(r, 'mix_without_cache', 17)}{cell(r, 'mix_with_cache', 17)}"
            f"{r['speedup']:>6.1f}×"
        )
    return "\n".join(lines)


def format_table(records: list[dict[str, Any]]) -> str:
    head = (
        f"{'group':<24}{'N':>7}{'w':>3}{'proc':>5}{'powmod ms':>10}"
        f"{'gens':>14}{'member':>14}{'shuffle+prove':>18}{'verify':>16}"
    )
    lines = [
        "ms per ciphertext (exponentiation equivalents in brackets)",
        head,
        "-" * len(head),
    ]

    def cell(r: dict[str, Any], key: str, width: int) -> str:
        return f"{r[key + '_ms_per_ct']:.3f} ({r[key + '_eq']:.2f})".rjust(width)

    for r in records:
        lines.append(
            f"{r['group']:<24}{r['n']:>7}{r['width']:>3}{r['processes']:>5}"
            f"{r['powmod_ms']:>10.3f}{cell(r, 'generators', 14)}{cell(r, 'membership', 14)}"
            f"{cell(r, 'prove', 18)}{cell(r, 'verify', 16)}"
        )
    return "\n".join(lines)


def add_arguments(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("--group", action="append", help="group name (repeatable)")
    parser.add_argument("--n", action="append", type=int, help="rows N (repeatable)")
    parser.add_argument("--width", action="append", type=int, help="row width (repeatable)")
    parser.add_argument("--processes", action="append", type=int, help="1 or more (repeatable)")
    parser.add_argument("--json", action="store_true", help="print the records as JSON")
    parser.add_argument("--quiet", action="store_true", help="no progress lines")
    parser.add_argument(
        "--after-close",
        action="store_true",
        help="the mix step after the close, with and without generators precomputed during "
        "voting (defaults: tohyo-schnorr-3072-256 and secp256k1, N = 1000, width 1, 1 process)",
    )
    parser.add_argument(
        "--proof-format",
        choices=("tohyo", "vmn"),
        default="tohyo",
        help="vmn: Verificatum's proof of a shuffle (docs/vmn.md; safe-prime groups and "
        "secp256k1, one process)",
    )


def run(args: argparse.Namespace) -> int:
    if args.after_close:
        default_groups, defaults = AFTER_CLOSE_GROUPS, ([1000], [1], [1])
        measure, table = run_after_close, format_after_close
    else:
        default_groups, defaults = (
            DEFAULT_GROUPS + EC_GROUPS,
            (DEFAULT_N, DEFAULT_WIDTH, DEFAULT_PROCESSES),
        )

        def measure(
            name: str, n: int, width: int, processes: int, progress: bool
        ) -> dict[str, Any]:
            return run_one(name, n, width, processes, progress=progress)

        table = format_table
        if args.proof_format == "vmn":  # one process: the vmn prover takes no executor
            from bench.vmn import run_one_vmn as measure

            if any(p != 1 for p in args.processes or []):
                print("--proof-format vmn runs in one process", file=sys.stderr)
                return 2
            defaults = (DEFAULT_N, DEFAULT_WIDTH, [1])
    names = args.group or [g for g in default_groups if g in known_groups()]
    unknown = [g for g in names if g not in known_groups()]
    if unknown:
        print(
            f"unknown group(s): {', '.join(unknown)}; known: {', '.join(known_groups())}",
            file=sys.stderr,
        )
        return 2
    if any(n < 2 for n in args.n or []) or any(w < 1 for w in args.width or []):
        print("N must be at least 2 and the width at least 1", file=sys.stderr)
        return 2
    records = []
    sizes = itertools.product(
        names, args.n or defaults[0], args.width or defaults[1], args.processes or defaults[2]
    )
    for name, n, width, processes in sizes:
        record = measure(name, n, width, processes, not args.quiet)
        records.append(record)
        if not args.json:
            print(table([record]).splitlines()[-1], flush=True)
    if args.json:
        print(json.dumps(records, indent=1))
    else:
        print()
        print(table(records))
    return 0


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="bench.mixnet", description=__doc__)
    add_arguments(parser)
    return run(parser.parse_args(argv))


if __name__ == "__main__":
    raise SystemExit(main())
