"""Threshold-decryption benchmark: decryption-share generation and verification per ciphertext.

Plain script, prints figures, asserts nothing about time. Each figure is also given in
"exponentiation equivalents": the time divided by the time of one
gmpy2.powmod(random element, random exponent in [0, q), p) in the same group, measured in the
same run.

    .venv/bin/python bench/trustees.py                       # tohyo-schnorr-3072-256, n = 200
    .venv/bin/python bench/trustees.py --group ffdhe3072 --n 100
    .venv/bin/python bench/trustees.py --group all
"""

from __future__ import annotations

import argparse
import os
import sys
import time

# Run as a script, this file's directory comes first on sys.path, where `bench/trustees.py`
# and `bench/mixnet.py` would hide the packages of the same names.
_HERE = os.path.dirname(os.path.abspath(__file__))
sys.path[:] = [p for p in sys.path if os.path.abspath(p or ".") != _HERE]
sys.modules.pop("trustees", None)

import gmpy2  # noqa: E402

from mixnet.elgamal import encrypt_rows  # noqa: E402
from mixnet.groups import PRODUCTION_GROUPS, ModpGroup, get_group  # noqa: E402
from mixnet.rng import DeterministicRandom  # noqa: E402
from trustees.decryption import (  # noqa: E402
    DecryptionShare,
    combine_shares,
    make_share,
    verify_share,
)
from trustees.testing import make_config, run_ceremony  # noqa: E402


def powmod_seconds(group: ModpGroup, reps: int) -> float:
    rng = DeterministicRandom("bench/powmod")
    bases = [group.hash_to_element(rng.randbytes(32)).value for _ in range(reps)]
    exps = [rng.randbelow(group.order) for _ in range(reps)]
    p = group.p
    start = time.perf_counter()
    for b, e in zip(bases, exps):
        gmpy2.powmod(b, e, p)
    return (time.perf_counter() - start) / reps


def bench(name: str, n: int, reps: int) -> None:
    group = get_group(name)
    assert isinstance(group, ModpGroup), "the benchmark measures modular groups"
    unit = powmod_seconds(group, reps)
    t0 = time.perf_counter()
    config, keys = make_config(group, 2, 3, seed="bench")
    run = run_ceremony(config, keys, seed="bench")
    outcome = run.outcome()
    ceremony = time.perf_counter() - t0
    rows, _ = encrypt_rows(outcome.pk, [[i % 50] for i in range(n)], DeterministicRandom(1))
    ks = run.trustees[1].key_share
    ks2 = run.trustees[2].key_share
    assert ks is not None and ks2 is not None

    t0 = time.perf_counter()
    share = make_share(ks, rows, election=config.election, rng=DeterministicRandom(2))
    gen = (time.perf_counter() - t0) / n
    t0 = time.perf_counter()
    verify_share(share, rows, outcome.verification_keys[1], election=config.election)
    ver = (time.perf_counter() - t0) / n
    data = share.to_json()
    t0 = time.perf_counter()
    DecryptionShare.from_json(data, group)
    dec = (time.perf_counter() - t0) / n
    share2 = make_share(ks2, rows, election=config.election, rng=DeterministicRandom(3))
    t0 = time.perf_counter()
    result = combine_shares(
        rows, [share, share2], outcome.verification_keys, 2, election=config.election
    )
    comb = (time.perf_counter() - t0) / n
    assert [r[0] for r in result.plaintexts] == [i % 50 for i in range(n)]

    print(
        f"group {name}: |p| = {group.p.bit_length()}, |q| = {group.order.bit_length()}, "
        f"{n} ciphertexts"
    )
    print(f"  one powmod (random base, exponent < q)   {unit * 1e3:9.3f} ms")
    print(f"  key ceremony, t = 2, n = 3 (whole)       {ceremony * 1e3:9.1f} ms")
    for label, secs in (
        ("share generation, per ciphertext", gen),
        ("share decoding (membership), per ct.", dec),
        ("share verification, per ciphertext", ver),
        ("combine 2 shares (verify both + decode)", comb),
    ):
        print(f"  {label:<40} {secs * 1e3:9.3f} ms = {secs / unit:6.2f} exp. equivalents")


def add_arguments(parser: argparse.ArgumentParser) -> None:
    parser.add_argument(
        "--group",
        default="tohyo-schnorr-3072-256",
        help=f"a group name, or 'all' for {', '.join(PRODUCTION_GROUPS)}",
    )
    parser.add_argument("--n", type=int, default=200, help="number of ciphertexts")
    parser.add_argument("--reps", type=int, default=200, help="powmods timed for the unit")


def run(args: argparse.Namespace) -> int:
    names = list(PRODUCTION_GROUPS) if args.group == "all" else [args.group]
    for name in names:
        bench(name, args.n, args.reps)
    return 0


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    add_arguments(parser)
    return run(parser.parse_args(argv))


if __name__ == "__main__":
    raise SystemExit(main())
