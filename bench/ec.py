"""Microbenchmarks for the elliptic-curve candidates (docs/ec-group.md).

Plain script, no assertions on timings:

    .venv/bin/python -m bench.ec [--quick]

Prints µs per operation for secp256k1 (libsecp256k1 via coincurve, through tohyo's group and
through coincurve's public API) and ristretto255 (libsodium via pysodium), next to one
exponentiation in the 3072-bit modular group for scale.
"""

from __future__ import annotations

import argparse
import secrets
import time
from collections.abc import Callable
from typing import Any

SIZES = (1_000, 10_000)


def per_op(func: Callable[[], Any], count: int) -> float:
    """µs per call over `count` calls (best of three runs)."""
    best = float("inf")
    for _ in range(3):
        start = time.perf_counter()
        for _ in range(count):
            func()
        best = min(best, (time.perf_counter() - start) / count)
    return best * 1e6


def once(func: Callable[..., Any], *args: Any) -> float:
    """Seconds for one call (best of three runs)."""
    best = float("inf")
    for _ in range(3):
        start = time.perf_counter()
        func(*args)
        best = min(best, time.perf_counter() - start)
    return best


def row(name: str, value: float, note: str = "") -> None:
    print(f"  {name:<44} {value:10.2f} µs {note}")


def naive_multi_exp(bases: list[Any], exps: list[int]) -> Any:
    acc = bases[0].group.identity()
    for b, e in zip(bases, exps):
        acc = acc * b**e
    return acc


def combine_multiplied(keys: list[Any], exps: list[bytes]) -> Any:
    from coincurve import PublicKey

    return PublicKey.combine_keys([k.multiply(e) for k, e in zip(keys, exps)])


def bench_secp256k1_group(sizes: tuple[int, ...], count: int) -> None:
    from mixnet.groups.ec import N, Secp256k1Group

    group = Secp256k1Group()
    g = group.generator()
    p = group.hash_to_element(b"bench p")
    q = group.hash_to_element(b"bench q")
    k = secrets.randbelow(N)
    print("secp256k1 — tohyo Secp256k1Group (libsecp256k1 via coincurve's cffi module)")
    row("scalar mult P^k (variable base)", per_op(lambda: p**k, count))
    row("scalar mult g^k (generator table)", per_op(lambda: g**k, count))
    row("add P·Q", per_op(lambda: p * q, count))
    row("inverse P^-1", per_op(lambda: p.inverse(), count))
    row("encode 33 bytes", per_op(lambda: p.to_bytes(), count))
    data = p.to_bytes()
    row("decode 33 bytes (checked)", per_op(lambda: group.element_from_bytes(data), count))
    row("hash-to-group", per_op(lambda: group.hash_to_element(secrets.token_bytes(16)), count))
    for n in sizes:
        bases = [group.hash_to_element(i.to_bytes(8, "big")) for i in range(n)]
        exps = [secrets.randbelow(N) for _ in range(n)]
        t = once(group.multi_exp, bases, exps)
        row(f"multi_exp per term, N = {n}", t / n * 1e6, "(bucket method)")
        t = once(naive_multi_exp, bases, exps)
        row(f"  naive per term (ladder each), N = {n}", t / n * 1e6)
        t = once(group.fixed_base_pows, p, exps)
        row(f"fixed_base_pows per exp (P), N = {n}", t / n * 1e6)
        t = once(group.fixed_base_pows, g, exps)
        row(f"fixed_base_pows per exp (g), N = {n}", t / n * 1e6)


def bench_coincurve_api(sizes: tuple[int, ...], count: int) -> None:
    from coincurve import PublicKey

    from mixnet.groups.ec import N

    p = PublicKey.from_secret(secrets.token_bytes(32))
    q = PublicKey.from_secret(secrets.token_bytes(32))
    k = secrets.randbelow(N).to_bytes(32, "big")
    print("secp256k1 — coincurve public API (PublicKey objects)")
    row("scalar mult PublicKey.multiply", per_op(lambda: p.multiply(k), count))
    row("scalar mult PublicKey.from_secret (k·G)", per_op(lambda: PublicKey.from_secret(k), count))
    row("add PublicKey.combine_keys([P, Q])", per_op(lambda: PublicKey.combine_keys([p, q]), count))
    for n in sizes:
        keys = [PublicKey.from_secret(secrets.token_bytes(32)) for _ in range(n)]
        exps = [secrets.randbelow(N).to_bytes(32, "big") for _ in range(n)]
        t = once(combine_multiplied, keys, exps)
        row(f"multi_exp per term (multiply + combine), N = {n}", t / n * 1e6)


def bench_ristretto255(sizes: tuple[int, ...], count: int) -> None:
    try:
        import pysodium
    except ImportError:  # pragma: no cover
        print("ristretto255 — pysodium not installed")
        return
    p = pysodium.crypto_core_ristretto255_random()
    q = pysodium.crypto_core_ristretto255_random()
    k = pysodium.crypto_core_ristretto255_scalar_random()
    smul = pysodium.crypto_scalarmult_ristretto255
    add = pysodium.crypto_core_ristretto255_add
    print("ristretto255 — libsodium via pysodium (every call decodes and encodes)")
    row("scalar mult P^k", per_op(lambda: smul(k, p), count))
    row(
        "scalar mult g^k (base)",
        per_op(lambda: pysodium.crypto_scalarmult_ristretto255_base(k), count),
    )
    row("add P·Q", per_op(lambda: add(p, q), count))
    row(
        "decode check (is_valid_point)",
        per_op(lambda: pysodium.crypto_core_ristretto255_is_valid_point(p), count),
    )
    row(
        "hash-to-group (from_hash, 64 bytes)",
        per_op(lambda: pysodium.crypto_core_ristretto255_from_hash(secrets.token_bytes(64)), count),
    )
    for n in sizes:
        bases = [pysodium.crypto_core_ristretto255_random() for _ in range(n)]
        exps = [pysodium.crypto_core_ristretto255_scalar_random() for _ in range(n)]

        def naive(bases: list[bytes] = bases, exps: list[bytes] = exps) -> bytes:
            acc = smul(exps[0], bases[0])
            for b, e in zip(bases[1:], exps[1:]):
                acc = add(acc, smul(e, b))
            return bytes(acc)

        row(f"multi_exp per term (mult + add), N = {n}", once(naive) / n * 1e6)
    print("  (no multi-scalar or batch API in libsodium: every sum is one decode-add-encode call)")


def bench_modp(count: int) -> None:
    from mixnet.groups.registry import get_group

    group = get_group("tohyo-schnorr-3072-256")
    x = group.hash_to_element(b"bench")
    k = secrets.randbelow(group.order)
    print("for scale — tohyo-schnorr-3072-256 (gmpy2)")
    row("exponentiation x^k (256-bit k)", per_op(lambda: x**k, max(count // 10, 20)))


def bench_shuffle(name: str, n: int, width: int = 1) -> None:
    """Shuffle + proof and verification of n rows, single process."""
    from mixnet.elgamal import encrypt_rows, keygen
    from mixnet.groups.registry import get_group
    from mixnet.rng import DeterministicRandom
    from mixnet.shuffle import proof as shuffle_proof
    from mixnet.shuffle.shuffle import shuffle
    from mixnet.transcript import Transcript

    group = get_group(name)
    rng = DeterministicRandom("bench shuffle")
    kp = keygen(group, rng)
    rows, _ = encrypt_rows(kp.public, [[1] * width for _ in range(n)], rng)
    start = time.perf_counter()
    outputs, witness = shuffle(kp.public, rows, rng)
    statement = shuffle_proof.ShuffleStatement(kp.public, rows, outputs, "bench")
    proof = shuffle_proof.prove(statement, witness, transcript=Transcript(b"b"), rng=rng)
    t_prove = time.perf_counter() - start
    start = time.perf_counter()
    shuffle_proof.verify(statement, proof, transcript=Transcript(b"b"), rng=rng)
    t_verify = time.perf_counter() - start
    print(
        f"  {name:<24} N = {n:>6}, width {width}: shuffle+prove {t_prove:8.2f} s, "
        f"verify {t_verify:8.2f} s  ({(t_prove + t_verify) / n * 1e3:.2f} ms per row)"
    )


def add_arguments(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("--quick", action="store_true", help="N = 1,000 only, fewer repetitions")
    parser.add_argument(
        "--shuffle", type=int, default=0, metavar="N", help="also time a shuffle of N rows"
    )


def run(args: argparse.Namespace) -> int:
    sizes = SIZES[:1] if args.quick else SIZES
    count = 200 if args.quick else 2000
    bench_secp256k1_group(sizes, count)
    bench_coincurve_api(sizes, count)
    bench_ristretto255(sizes, count)
    bench_modp(count)
    if args.shuffle:
        import mixnet.groups.ec  # noqa: F401  (registers secp256k1)

        print("shuffle and proof of shuffle (one process)")
        for name in ("secp256k1", "tohyo-schnorr-3072-256"):
            bench_shuffle(name, args.shuffle)
    return 0


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__)
    add_arguments(parser)
    return run(parser.parse_args(argv))


if __name__ == "__main__":
    raise SystemExit(main())
