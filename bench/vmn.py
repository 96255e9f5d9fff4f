"""`tohyo bench mixnet --proof-format vmn`: the Verificatum-format proof (docs/vmn.md §6).

The same record as bench/mixnet.py's `run_one`, so the two formats print in one table: the
generators (derived from the session prefix ρ), the membership test of inputs and outputs,
shuffle + prove with `mixnet.vmn.shuffle.prove`, and verify with `mixnet.vmn.shuffle.verify`
(generators derived again; the rows are group elements already, so nothing is decoded). One
process.
"""

from __future__ import annotations

import sys
import time
from typing import Any

import mixnet.groups.ec  # noqa: F401  (registers secp256k1)
from mixnet import elgamal
from mixnet.groups import get_group
from mixnet.rng import DeterministicRandom, system_random
from mixnet.shuffle.shuffle import shuffle
from mixnet.vmn.groups import VmnGroup
from mixnet.vmn.session import VmnParams, VmnSession
from mixnet.vmn.shuffle import prove, verify

__all__ = ["run_one_vmn"]


def run_one_vmn(
    group_name: str, n: int, width: int, processes: int, progress: bool
) -> dict[str, Any]:
    from bench.mixnet import bench_record

    group = get_group(group_name)
    rng = DeterministicRandom(f"bench vmn {group_name} {n} {width}".encode())
    vg = VmnGroup.from_tohyo(group)
    params = VmnParams.tohyo_defaults(vg.pgroup_string(), "tohyoBench")
    session = VmnSession(params, "default")
    say = (lambda m: print(f"  … {m}", file=sys.stderr, flush=True)) if progress else None
    if say:
        say(f"{group_name} N={n} w={width} vmn: encrypting")
    kp = elgamal.keygen(group, rng)
    rows, _ = elgamal.encrypt_rows(
        kp.public, [[(i + k) % 5 for k in range(width)] for i in range(n)], rng
    )
    t = time.perf_counter()
    session.generators(n)
    t_gen = time.perf_counter() - t
    if say:
        say("shuffling and proving")
    t = time.perf_counter()
    outputs, witness = shuffle(kp.public, rows, rng)
    proof = prove(session, kp.public, rows, outputs, witness, rng)
    t_prove = time.perf_counter() - t
    elements = [x for row in (*rows, *outputs) for ct in row for x in (ct.a, ct.b)]
    t = time.perf_counter()
    group.check_members(elements, system_random)
    t_member = time.perf_counter() - t
    if say:
        say("verifying")
    t = time.perf_counter()
    verify(session, kp.public, rows, outputs, proof, system_random)
    t_verify = time.perf_counter() - t
    record = bench_record(group_name, n, width, 1, 0.0, (t_gen, t_member, t_prove, t_verify))
    record["proof_format"] = "vmn"
    return record
