"""Pieces of the simulations: argument parsing, fits, percentiles, the Dask adapter, the
in-memory board and the audit pass on tampered records."""

from __future__ import annotations

from concurrent.futures import Future
from pathlib import Path
from typing import Any

import pytest

from bulletin_board.entry import decode_envelope, sign_envelope
from bulletin_board.policy import Refusal
from mixnet.groups import get_group
from mixnet.parallel import worker_count
from mixnet.rng import DeterministicRandom
from simulations.audit import check_record, verdict
from simulations.cli import parse_threshold
from simulations.executors import DaskExecutor
from simulations.load import LoadTarget, Sample, percentiles, summarise
from simulations.scaling import fit, scaling_sizes
from simulations.world import Participants, SimulatedElection
from tohyo.cli import CliError, main

GROUP = "test-schnorr-512-128"


@pytest.mark.parametrize(("text", "expected"), [("2/3", (2, 3)), ("1/1", (1, 1)), ("3/5", (3, 5))])
def test_parse_threshold(text: str, expected: tuple[int, int]) -> None:
    assert parse_threshold(text) == expected


@pytest.mark.parametrize("text", ["4/3", "0/3", "2", "a/b", "2/3/4", "-1/2", "2/100"])
def test_parse_threshold_refuses(text: str) -> None:
    with pytest.raises(CliError):
        parse_threshold(text)


def test_scaling_sizes() -> None:
    assert scaling_sizes(200) == [100, 200]
    assert scaling_sizes(1000) == [100, 300, 1000]
    assert scaling_sizes(100_000)[-1] == 100_000 and len(scaling_sizes(100_000)) == 7
    assert scaling_sizes(50) == [50]


def test_fit_recovers_a_line() -> None:
    f = fit([100, 300, 1000], [0.5 + 0.002 * n for n in (100, 300, 1000)])
    assert f["per_ballot_s"] == pytest.approx(0.002)
    assert f["fixed_s"] == pytest.approx(0.5)
    g = fit([100, 1000], [1.0, 100.0])
    assert g["loglog_slope"] == pytest.approx(2.0)


def test_percentiles_nearest_rank() -> None:
    values = [i / 1000 for i in range(1, 101)]  # 1 … 100 ms
    assert percentiles(values) == {
        "p50": pytest.approx(50),
        "p90": pytest.approx(90),
        "p99": pytest.approx(99),
    }
    assert percentiles([]) == {"p50": 0.0, "p90": 0.0, "p99": 0.0}


def test_summarise_counts_errors_by_code() -> None:
    samples = [
        Sample("post", 0.0, 0.01, 201, "ok"),
        Sample("post", 0.1, 0.02, 409, "duplicate_ciphertext"),
        Sample("read", 0.2, 0.001, 200, "ok"),
        Sample("post", 0.3, 1.0, 0, "ClientConnectorError"),
        Sample("post", 0.4, 0.5, 503, "unreadable"),
    ]
    s = summarise(samples, 2.0)
    assert s["requests"] == 5 and s["throughput_per_s"] == 2.5
    assert s["errors"] == {
        "0 ClientConnectorError": 1,
        "409 duplicate_ciphertext": 1,
        "503 unreadable": 1,
    }
    assert s["server_errors"] == 1 and s["connection_errors"] == 1
    assert s["by_kind"]["post"]["ok"] == 1 and s["by_kind"]["read"]["ok"] == 1


def test_load_target_round_trip(tmp_path: Path) -> None:
    t = LoadTarget("e-1", GROUP, bytes(32), "ab" * 64, bytes(range(32)))
    t.write(tmp_path / "t.json")
    assert LoadTarget.read(tmp_path / "t.json") == t
    assert (tmp_path / "t.json").stat().st_mode & 0o077 == 0
    with pytest.raises(ValueError):
        LoadTarget.from_json({"kind": "something else"})


class _FakeClient:
    def __init__(self) -> None:
        self.kwargs: dict[str, Any] = {}

    def get_executor(self, **kwargs: Any) -> Any:
        self.kwargs = kwargs
        client = self

        class _Inner:
            def submit(self, fn: Any, *args: Any, **kw: Any) -> Future[Any]:
                f: Future[Any] = Future()
                f.set_result(fn(*args, **kw))
                return f

            def shutdown(self, wait: bool = True) -> None:
                client.kwargs["shut"] = True

        return _Inner()

    def scheduler_info(self) -> dict[str, Any]:
        return {"workers": {"a": {"nthreads": 1}, "b": {"nthreads": 2}}}


def test_dask_adapter_tells_the_mixnet_its_workers() -> None:
    client = _FakeClient()
    ex = DaskExecutor(client)
    assert client.kwargs == {"pure": False}
    assert worker_count(ex) == 3
    assert ex.submit(pow, 2, 10).result() == 1024 and ex.submitted == 1
    ex.shutdown()
    assert client.kwargs["shut"]
    assert worker_count(DaskExecutor(_FakeClient(), workers=5)) == 5


@pytest.fixture(scope="module")
def election() -> SimulatedElection:
    rng = DeterministicRandom(b"unit simulations")
    people = Participants(get_group(GROUP), trustees=3, threshold=2, mixers=2, rng=rng)
    sim = SimulatedElection(people, rng, progress=False)
    sim.run_all(10, 2)
    return sim


def test_in_memory_election_counts_as_intended(election: SimulatedElection) -> None:
    assert election.tally == election.intended_tally()
    assert sum(election.tally.values()) == 10
    assert election.board.state.phase == "tallied"
    assert election.board.state.superseded == 2
    assert verdict(check_record(election.board.entries))


def test_memory_board_refuses_as_the_board_does(election: SimulatedElection) -> None:
    _, ballot = election.cast_ballots[0]
    with pytest.raises(Refusal) as info:
        election.board.post(election.ballot_entry(bytes(32), ballot))
    assert info.value.code == "wrong_phase"


def _resigned(election: SimulatedElection, data: bytes, change: Any) -> bytes:
    env = decode_envelope(data)
    body = change(dict(env.body))
    return sign_envelope(election.people.admin, env.election, env.type, env.author, body).to_bytes()


def test_audit_names_a_changed_tally(election: SimulatedElection) -> None:
    entries = list(election.board.entries)
    i = next(i for i, e in enumerate(entries) if decode_envelope(e).type == "result")

    def shift(body: dict[str, Any]) -> dict[str, Any]:
        counts = dict(body["tally"]["mayor"]["counts"])
        first, second = list(counts)[:2]
        counts[first], counts[second] = counts[first] + 1, counts[second] - 1
        return body | {"tally": {"mayor": body["tally"]["mayor"] | {"counts": counts}}}

    entries[i] = _resigned(election, entries[i], shift)
    checks = check_record(entries)
    assert not verdict(checks) and checks[-1].id == "A8"


def test_audit_names_a_forged_signature_and_a_wrong_joint_key(
    election: SimulatedElection,
) -> None:
    entries = list(election.board.entries)
    i = next(i for i, e in enumerate(entries) if decode_envelope(e).type == "joint_key")
    g = election.group.generator().to_hex()
    forged = _resigned(election, entries[i], lambda b: b | {"pk": g})
    assert check_record([*entries[:i], forged, *entries[i + 1 :]])[-1].id == "A3"
    env = decode_envelope(entries[i])
    other = sign_envelope(
        election.people.registrar, env.election, env.type, env.author, dict(env.body)
    ).to_bytes()
    assert check_record([*entries[:i], other, *entries[i + 1 :]])[-1].id == "A2"


@pytest.mark.parametrize(
    "args",
    [
        ("election", "--voters", "1"),
        ("election", "--trustees", "3/2"),
        ("election", "--trustees", "two of three"),
        ("election", "--mixers", "0"),
        ("election", "--group", "no-such-group"),
        ("scaling", "--group", "no-such-group"),
        ("scaling", "--max-n", "1"),
        ("scaling", "--clock", "cpu", "--processes", "2"),
        ("attacks", "--runs", "0"),
        ("attacks", "--only", "no-such-attack"),
        ("load", "--voters", "10"),
        ("load", "--start-board", "--board", "http://127.0.0.1:1"),
        ("load", "--board", "http://127.0.0.1:1"),
        ("load", "--start-board", "--read-fraction", "1"),
        ("load", "--start-board", "--setup"),
        ("load", "--board", "http://127.0.0.1:1", "--election", "e", "--setup"),
    ],
)
def test_usage_errors_are_cli_errors(
    args: tuple[str, ...], tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    assert main(["simulate", *args, "--out", str(tmp_path)]) == 2
    assert capsys.readouterr().err.startswith("tohyo simulate: ")
