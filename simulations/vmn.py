"""`tohyo mix vmn-demo OUT`: tohyo mixers shuffle and prove in Verificatum's format (docs/vmn.md).

A fresh key, N ciphertexts of width W, and K mixers that each shuffle the previous list and prove
it with `mixnet.vmn.shuffle.prove`; the result is written as a Verificatum proof directory with
its protocol info file, which Verificatum's own verifier checks with

    vmnv -shuffle OUT/protInfo.xml OUT

and tohyo with `tohyo verify vmn OUT`. Exit status 0, or 2 with a one-line message for bad
options or an OUT that already holds files (nothing is overwritten).
"""

from __future__ import annotations

import argparse
import re
import time
from pathlib import Path
from typing import Any

from tohyo.cli import CliError

__all__ = ["register", "write_vmn_demo"]

GROUPS = ("modp2048", "ffdhe3072", "secp256k1", "test-safe-256")


def register(subparsers: Any) -> None:
    p = subparsers.add_parser(
        "mix",
        help="Verificatum-format shuffles (tohyo mix vmn-demo OUT)",
        description="tohyo mix vmn-demo OUT: shuffles by tohyo mixers, proven in Verificatum's "
        "format, written as a proof directory that Verificatum's vmnv verifies.",
    )
    sub = p.add_subparsers(dest="mix_command", metavar="ACTION", required=True)
    d = sub.add_parser("vmn-demo", help="write a Verificatum proof directory of tohyo shuffles")
    d.add_argument("out", type=Path, metavar="OUT", help="a new (or empty) directory")
    d.add_argument("--group", choices=GROUPS, default="modp2048")
    d.add_argument("--ciphertexts", type=int, default=10, metavar="N")
    d.add_argument("--width", type=int, default=1, metavar="W")
    d.add_argument("--mixers", type=int, default=1, metavar="K")
    d.add_argument("--sid", default="tohyoDemo", help="Verificatum session identifier")
    d.add_argument(
        "--decrypt",
        action="store_true",
        help="a full mix: also decrypt and prove it (vmnv -mix); the key is one for all parties, "
        "with threshold 1",
    )
    d.add_argument("--seed", help="deterministic randomness (tests only; never for real use)")
    d.set_defaults(func=run)


def write_vmn_demo(
    out: Path,
    group_name: str,
    n: int,
    width: int,
    mixers: int,
    sid: str,
    seed: str | None = None,
    decrypt: bool = False,
) -> dict[str, float]:
    """Write OUT; return the seconds spent shuffling+proving and in total."""
    import mixnet.groups.ec  # noqa: F401  (registers secp256k1)
    from mixnet.elgamal import encrypt_rows, keygen
    from mixnet.groups import get_group
    from mixnet.rng import DeterministicRandom, RandomSource, system_random
    from mixnet.shuffle.shuffle import shuffle
    from mixnet.vmn.decryption import prove_decryption
    from mixnet.vmn.export import proof_directory, protinfo_xml
    from mixnet.vmn.groups import VmnGroup
    from mixnet.vmn.session import VmnParams, VmnSession
    from mixnet.vmn.shuffle import prove

    rng: RandomSource = DeterministicRandom(seed) if seed is not None else system_random
    started = time.perf_counter()
    vg = VmnGroup.from_tohyo(get_group(group_name))
    params = VmnParams.tohyo_defaults(
        vg.pgroup_string(), sid, nopart=mixers, thres=1 if decrypt else mixers
    )
    session = VmnSession(params, "default")
    key = keygen(session.group, rng)
    bound = 1 << 10
    messages = [[rng.randbelow(bound) for _ in range(width)] for _ in range(n)]
    rows, _ = encrypt_rows(key.public, messages, rng)
    current, mixes = rows, []
    proving = 0.0
    for _ in range(mixers):
        t0 = time.perf_counter()
        shuffled, witness = shuffle(key.public, current, rng)
        proof = prove(session, key.public, current, shuffled, witness, rng)
        proving += time.perf_counter() - t0
        mixes.append((shuffled, proof))
        current = shuffled
    decryption = (
        prove_decryption(session, key.secret.value, mixers, current, rng) if decrypt else None
    )
    files = proof_directory(session, key.public, rows, mixes, decryption)
    files["protInfo.xml"] = protinfo_xml(params, width).encode()
    for name, data in files.items():
        path = out / name
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_bytes(data)
    return {"shuffle_prove_s": proving, "total_s": time.perf_counter() - started}


def run(args: argparse.Namespace) -> int:
    if not 1 <= args.ciphertexts <= 1_000_000:
        raise CliError("--ciphertexts must be between 1 and 1000000")
    if not 1 <= args.width <= 64:
        raise CliError("--width must be between 1 and 64")
    if not 1 <= args.mixers <= 25:
        raise CliError("--mixers must be between 1 and 25 (Verificatum's limit)")
    if not re.fullmatch(r"[A-Za-z][A-Za-z0-9]{1,1023}", args.sid):
        raise CliError("--sid must be a letter followed by 1-1023 letters or digits")
    out: Path = args.out
    if out.exists() and (not out.is_dir() or any(out.iterdir())):
        raise CliError(f"{out}: exists and is not an empty directory")
    out.mkdir(parents=True, exist_ok=True)
    times = write_vmn_demo(
        out,
        args.group,
        args.ciphertexts,
        args.width,
        args.mixers,
        args.sid,
        args.seed,
        args.decrypt,
    )
    per = 1000 * times["shuffle_prove_s"] / (args.ciphertexts * args.mixers)
    print(
        f"wrote {out}: {args.ciphertexts} ciphertexts of width {args.width} in {args.group}, "
        f"{args.mixers} mixer(s); shuffle+prove {per:.2f} ms per ciphertext per mixer"
    )
    kind = "mix" if args.decrypt else "shuffle"
    print(f"verify with Verificatum:  vmnv -{kind} -v {out}/protInfo.xml {out}")
    print(f"verify with tohyo:        tohyo verify vmn {out}")
    return 0
