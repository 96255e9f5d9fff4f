"""`tohyo simulate scaling`: time per phase against the number of ballots and of mixers.

For every group (both families side by side when an elliptic-curve group is registered) and
every N of 100, 300, 1,000, … up to `--max-n`: ballots encrypted and proven as a voter's device
does, their intake by the board's own policy (in process, no HTTP), the derivation of the
shuffle generators h, h_1..h_N (paid once by every mixer and verifier), one mixer's shuffle and
proof, the verification of that proof, and threshold decryption (t shares with their proofs,
then combined and decoded). Then, at a fixed N, the whole mix-net (each mixer checking the
previous proof, shuffling and proving, and the final check) for 1 … `--max-mixers` mixers.
Each phase gets a least-squares fit t ≈ a + b·N: b is the cost per ballot.
"""

from __future__ import annotations

import math
import time
from collections.abc import Callable, Sequence
from concurrent.futures import Executor
from functools import partial
from pathlib import Path
from typing import Any

from election import rules
from mixnet.groups import Group
from mixnet.rng import DeterministicRandom
from simulations.world import Participants, SimulatedElection, Vote

__all__ = ["PHASES", "fit", "measure_group", "plot_scaling", "scaling_sizes"]

PHASES = (
    "encrypt + prove",
    "board intake",
    "generators",
    "shuffle + prove",
    "verify shuffle",
    "decryption",
)
BASE_SIZES = (100, 300, 1_000, 3_000, 10_000, 30_000, 100_000)


def scaling_sizes(max_n: int, min_n: int = 100) -> list[int]:
    sizes = {s for s in BASE_SIZES if min_n <= s < max_n} | {max_n}
    return sorted(s for s in sizes if s >= min(min_n, max_n))


def fit(ns: Sequence[int], ts: Sequence[float]) -> dict[str, float]:
    """t ≈ a + b·N by least squares (b: seconds per ballot), and the log–log slope."""
    k = len(ns)
    if k < 2:
        return {"fixed_s": 0.0, "per_ballot_s": ts[0] / ns[0] if k else 0.0, "loglog_slope": 1.0}
    mx, my = sum(ns) / k, sum(ts) / k
    sxx = sum((x - mx) ** 2 for x in ns)
    b = sum((x - mx) * (y - my) for x, y in zip(ns, ts)) / sxx
    a = my - b * mx
    lx = [math.log(x) for x in ns]
    ly = [math.log(max(y, 1e-9)) for y in ts]
    lmx, lmy = sum(lx) / k, sum(ly) / k
    slope = sum((x - lmx) * (y - lmy) for x, y in zip(lx, ly)) / sum((x - lmx) ** 2 for x in lx)
    return {"fixed_s": a, "per_ballot_s": b, "loglog_slope": slope}


class _Clock:
    """Wall time of every phase, and this process's CPU time (the whole cost only when the
    work runs inline, `--processes 1`: CPU seconds do not grow when a shared machine is busy)."""

    def __init__(self) -> None:
        self.wall: dict[str, float] = {}
        self.cpu: dict[str, float] = {}

    def run(self, phase: str, fn: Callable[[], Any]) -> Any:
        wall, cpu = time.perf_counter(), time.process_time()
        value = fn()
        self.wall[phase] = time.perf_counter() - wall
        self.cpu[phase] = time.process_time() - cpu
        return value


def measure_group(
    group: Group,
    sizes: Sequence[int],
    *,
    mixers_n: int,
    max_mixers: int,
    executor: Executor | None,
    progress: bool,
    step: Callable[[str], None] = lambda _: None,
) -> dict[str, Any]:
    """Every phase at every N for one group, then the mix-net against the number of mixers."""
    rng = DeterministicRandom(f"tohyo scaling/{group.name}")
    people = Participants(group, trustees=3, threshold=2, mixers=1, rng=rng)
    sim = SimulatedElection(people, rng, executor, progress)
    sim.setup()
    sim.key_ceremony()
    assert sim.outcome is not None
    rows: list[Any] = []
    points: list[dict[str, Any]] = []
    first = 0
    for n in sizes:
        step(f"{group.name}: N = {n}")
        votes = [
            Vote((first + i).to_bytes(32, "big"), rng.randbelow(len(people.options)))
            for i in range(n)
        ]
        first += n
        clock = _Clock()
        ballots = clock.run("encrypt + prove", partial(sim.make_ballots, votes))
        entries = sim.attest(votes, ballots)
        refused = clock.run("board intake", partial(sim.cast, votes, ballots, entries))
        rows = [b.row for b in ballots]
        sim.mix_lists = [rules.contest_lists(people.manifest, rows)]
        clock.run("generators", sim.derive_generators)
        outputs, proofs = clock.run("shuffle + prove", lambda: sim.shuffle_and_prove(1))
        sim.mix_lists.append(outputs)
        clock.run("verify shuffle", partial(sim.check_previous, 1, proofs))

        def decrypt() -> Any:
            sim.shares = []
            for j in sorted(sim.machines)[:2]:
                shares = sim.make_share(j)
                sim.shares.append((j, [share for _, share in shares]))
            return sim.combine()

        clock.run("decryption", decrypt)
        points.append({"n": n, "refused": refused, "seconds": clock.wall, "cpu_seconds": clock.cpu})
    fits = {ph: fit([p["n"] for p in points], [p["seconds"][ph] for p in points]) for ph in PHASES}
    for ph in PHASES:  # the same line through CPU seconds (see _Clock)
        cpu = fit([p["n"] for p in points], [p["cpu_seconds"][ph] for p in points])
        fits[ph]["per_ballot_cpu_s"] = cpu["per_ballot_s"]
    for f in fits.values():  # the straight line carried to a million ballots, same machine
        f["at_1m_ballots_s"] = max(0.0, f["fixed_s"]) + f["per_ballot_s"] * 1_000_000

    # the whole mix-net against the number of mixers, at N = mixers_n
    mixnet_points = []
    votes = [Vote((first + i).to_bytes(32, "big"), 0) for i in range(mixers_n)]
    base = [b.row for b in sim.make_ballots(votes)]
    for k_total in range(1, max_mixers + 1):
        step(f"{group.name}: {k_total} mixers at N = {mixers_n}")
        sim.mix_lists = [rules.contest_lists(people.manifest, base)]
        sim.derive_generators()  # as in the N experiment, the generators are timed apart
        start = time.perf_counter()
        proof = None
        for k in range(1, k_total + 1):
            if proof is not None:
                sim.check_previous(k - 1, proof)
            outputs, proof = sim.shuffle_and_prove(k)
            sim.mix_lists.append(outputs)
        assert proof is not None
        sim.check_previous(k_total, proof)
        mixnet_points.append(
            {"mixers": k_total, "n": mixers_n, "seconds": time.perf_counter() - start}
        )
    return {"group": group.name, "points": points, "fits": fits, "mixnet": mixnet_points}


def plot_scaling(
    results: Sequence[dict[str, Any]], by_n: Path, by_mixers: Path, clock: str = "wall"
) -> None:
    """Log–log time per phase against N (wall or CPU seconds), and time against mixers."""
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    point_key, fit_key = (
        ("cpu_seconds", "per_ballot_cpu_s") if clock == "cpu" else ("seconds", "per_ballot_s")
    )
    fig, axes = plt.subplots(
        1, len(results), figsize=(6.5 * len(results), 5.2), squeeze=False, sharey=True
    )
    for ax, res in zip(axes[0], results):
        ns = [p["n"] for p in res["points"]]
        for ph in PHASES:
            per = res["fits"][ph][fit_key] * 1000
            ax.plot(
                ns,
                [p[point_key][ph] for p in res["points"]],
                marker="o",
                label=f"{ph} ({per:.3g} ms/ballot)",
            )
        ax.set_xscale("log")
        ax.set_yscale("log")
        ax.set_title(res["group"])
        ax.set_xlabel("ballots N")
        ax.grid(True, which="both", alpha=0.3)
        ax.legend(fontsize=7)
    axes[0][0].set_ylabel("CPU seconds (one process)" if clock == "cpu" else "seconds")
    fig.suptitle("tohyo: time per phase against the number of ballots (log–log)")
    fig.tight_layout()
    fig.savefig(by_n, dpi=110)
    plt.close(fig)

    fig, ax = plt.subplots(figsize=(7, 4.8))
    for res in results:
        xs = [p["mixers"] for p in res["mixnet"]]
        ax.plot(
            xs,
            [p["seconds"] for p in res["mixnet"]],
            marker="o",
            label=f"{res['group']} (N = {res['mixnet'][0]['n']})",
        )
    ax.set_xlabel("mix servers")
    ax.set_ylabel("seconds (every check, shuffle and proof)")
    ax.set_title("tohyo: the mix-net against the number of mixers")
    ax.grid(True, alpha=0.3)
    ax.legend(fontsize=8)
    fig.tight_layout()
    fig.savefig(by_mixers, dpi=110)
    plt.close(fig)
