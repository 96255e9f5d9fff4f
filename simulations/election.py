"""`tohyo simulate election`: one whole election in memory, every phase timed.

DKG among n trustees (threshold t), ballots built as the voter's device builds them and
checked one by one by the board's own policy (with a few re-votes), the mix input, k mixers
each verifying the previous proof before shuffling and proving, threshold decryption with t
shares, the count (`election.counting`), then two independent passes over the record: the
simulations' own (`simulations.audit`, A1–A8) and the project's verifier (`tohyo verify`,
V1–V12).
"""

from __future__ import annotations

import contextlib
import hashlib
import time
from collections.abc import Iterator
from concurrent.futures import Executor
from typing import Any

from tqdm import tqdm

from mixnet.groups import Group
from mixnet.rng import RandomSource
from simulations.audit import check_record, run_verifier, verdict
from simulations.report import PhaseTimer
from simulations.world import Participants, SimulatedElection
from trustees.mixer import list_rows

__all__ = ["run_simulated_election"]


def _record_hash(entries: list[bytes]) -> str:
    """SHA-256 over the record's entries (length-prefixed): equal records, equal hashes, so a
    seeded run on a process pool and on a Dask cluster can be compared at a glance."""
    h = hashlib.sha256()
    for e in entries:
        h.update(len(e).to_bytes(8, "big") + e)
    return h.hexdigest()


class _ProgressTimer(PhaseTimer):
    """A `PhaseTimer` that also moves one progress bar (stderr) from phase to phase."""

    def __init__(self, progress: bool, phases: int) -> None:
        super().__init__()
        self.bar = tqdm(
            total=phases, desc="election", unit="phase", leave=False, disable=not progress
        )

    @contextlib.contextmanager
    def __call__(self, name: str) -> Iterator[None]:
        self.bar.set_postfix_str(name)
        with super().__call__(name):
            yield
        self.bar.update(1)

    def note(self, what: str) -> None:
        self.bar.set_postfix_str(what)

    def close(self) -> None:
        self.bar.close()


def run_simulated_election(
    group: Group,
    *,
    voters: int,
    trustees: int,
    threshold: int,
    mixers: int,
    revotes: int,
    rng: RandomSource,
    executor: Executor | None,
    progress: bool = True,
) -> dict[str, Any]:
    timer = _ProgressTimer(progress, 11 + 2 * mixers)
    with timer("keys and manifest"):
        people = Participants(group, trustees=trustees, threshold=threshold, mixers=mixers, rng=rng)
    sim = SimulatedElection(people, rng, executor, progress)
    start = time.perf_counter()
    sim.run_all(voters, revotes, timer=timer)
    with timer("independent verification"):
        checks = check_record(sim.board.entries, executor, progress=timer.note)
    with timer("tohyo verify (V1–V12)"):
        report = run_verifier(sim.board.entries, people.board, people.election_id, executor)
    total = time.perf_counter() - start
    timer.close()
    state = sim.board.state
    assert sim.result is not None
    return {
        "timings": timer.timings,
        "total_seconds": total,
        "record_sha256": _record_hash(sim.board.entries),
        "counts": {
            "entries": len(sim.board.entries),
            "ballots_posted": state.ballots,
            "superseded": state.superseded,
            "voters": len(state.last_ballot),
            "mix_input": list_rows(sim.mix_lists[0]),
            "refused": dict(sim.board.refusals),
            "dkg_messages": state.counts.get("dkg", 0),
            "shares_used": list(sim.result.used),
        },
        "tally": sim.tally,
        "intended_tally": sim.intended_tally(),
        "tally_matches_intent": sim.tally == sim.intended_tally(),
        "verification": [c.to_json() for c in checks],
        "verifier": report.to_json(),
        "verdict": "valid" if verdict(checks) and report.passed else "INVALID",
    }
