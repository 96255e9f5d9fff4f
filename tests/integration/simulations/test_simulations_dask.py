"""The mix-net and the verification pass on a real Dask cluster (LocalCluster, 2 worker
processes) give bit-identical results to the local process pool (docs/protocol.md §7.4)."""

from __future__ import annotations

from collections.abc import Iterator
from concurrent.futures import ProcessPoolExecutor
from typing import Any

import pytest

from election.entries import mix_context
from mixnet import elgamal
from mixnet.groups import get_group
from mixnet.parallel import MIN_PARALLEL_ITEMS, worker_count
from mixnet.rng import DeterministicRandom
from mixnet.shuffle import proof as shuffle_proof
from mixnet.shuffle.shuffle import shuffle
from mixnet.transcript import Transcript
from simulations.audit import check_record, verdict
from simulations.executors import DaskExecutor
from simulations.world import Participants, SimulatedElection

distributed = pytest.importorskip("distributed")

GROUP = "test-schnorr-512-128"
N = MIN_PARALLEL_ITEMS + 44  # large enough that the work is really split over the workers


@pytest.fixture(scope="module")
def dask_executor() -> Iterator[DaskExecutor]:
    cluster = distributed.LocalCluster(
        n_workers=2, threads_per_worker=1, processes=True, dashboard_address=None, host="127.0.0.1"
    )
    client = distributed.Client(cluster)
    try:
        yield DaskExecutor(client)
    finally:
        client.close()
        cluster.close()


@pytest.fixture(scope="module")
def pool() -> Iterator[ProcessPoolExecutor]:
    with ProcessPoolExecutor(2) as executor:
        yield executor


def _mix(executor: Any) -> tuple[list[Any], dict[str, Any]]:
    """The same seeded encryption, shuffle and proof on `executor`; verified there too."""
    group = get_group(GROUP)
    rng = DeterministicRandom(b"dask bit-identical")
    key = elgamal.keygen(group, rng)
    rows, _ = elgamal.encrypt_rows(key.public, [[1 + i % 4] for i in range(N)], rng, executor)
    fingerprint = bytes(32)
    outputs, witness = shuffle(key.public, rows, rng, executor)
    statement = shuffle_proof.ShuffleStatement(key.public, rows, outputs, fingerprint)
    proof = shuffle_proof.prove(
        statement,
        witness,
        rng=rng,
        executor=executor,
        transcript=Transcript(mix_context(fingerprint, 1, "mayor")),
    )
    decoded = shuffle_proof.ShuffleProof.from_json(group, proof.to_json(), N, 1, executor=executor)
    shuffle_proof.verify(
        statement,
        decoded,
        executor=executor,
        transcript=Transcript(mix_context(fingerprint, 1, "mayor")),
    )
    return [elgamal.row_to_json(r) for r in outputs], proof.to_json()


def test_dask_executor_reports_its_workers(dask_executor: DaskExecutor) -> None:
    assert worker_count(dask_executor) == 2


def test_shuffle_and_proof_bit_identical_on_dask_and_process_pool(
    dask_executor: DaskExecutor, pool: ProcessPoolExecutor
) -> None:
    before = dask_executor.submitted
    on_dask = _mix(dask_executor)
    assert dask_executor.submitted > before  # the work went to the cluster
    on_pool = _mix(pool)
    inline = _mix(None)
    assert on_dask == on_pool == inline


def test_verification_pass_identical_on_dask_and_process_pool(
    dask_executor: DaskExecutor, pool: ProcessPoolExecutor
) -> None:
    rng = DeterministicRandom(b"dask election")
    people = Participants(get_group(GROUP), trustees=3, threshold=2, mixers=2, rng=rng)
    sim = SimulatedElection(people, rng, pool, progress=False)
    sim.run_all(N, 3)
    before = dask_executor.submitted
    on_dask = check_record(sim.board.entries, dask_executor)
    assert dask_executor.submitted > before
    on_pool = check_record(sim.board.entries, pool)
    assert on_dask == on_pool
    assert verdict(on_dask)
    # a tampered record fails identically on both
    entries = list(sim.board.entries)
    bad = next(i for i, e in enumerate(entries) if b'"type":"shuffle"' in e)
    entries[bad] = entries[bad].replace(b'"position":1', b'"position":2')
    assert check_record(entries, dask_executor) == check_record(entries, pool)
    assert not verdict(check_record(entries, pool))
