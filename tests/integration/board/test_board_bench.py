"""`tohyo bench board` in a tiny configuration: the JSON has its fields and sane values.

Timings are never asserted; only counts, the absence of refusals and positive ratios.
"""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from bulletin_board.testing import postgres_dsn
from tohyo.cli import main

TINY = [
    "--group",
    "test-schnorr-512-128",
    "--allow-test-groups",
    "--ballots",
    "6",
    "--warmup",
    "2",
    "--concurrency",
    "3",
    "--processes",
    "1",
    "--samples",
    "4",
    "--quiet",
]


@pytest.mark.postgres
def test_bench_board_on_both_backends(tmp_path: Path) -> None:
    out = tmp_path / "board.json"
    assert main(["bench", "board", *TINY, "--pg-dsn", postgres_dsn(), "--json", str(out)]) == 0
    doc = json.loads(out.read_text())
    assert doc["bench"] == "board" and doc["processes"] == 1
    assert [(r["endpoint"], r["backend"], r["concurrency"]) for r in doc["runs"]] == [
        ("ballots", "sqlite", 3),
        ("ballots", "postgresql", 3),
        ("entries", "sqlite", 3),
        ("entries", "postgresql", 3),
    ]
    for run in doc["runs"]:
        assert run["posted"] == run["accepted"] == run["ballots"] == 6
        assert run["errors"] == {}
        assert run["board_ballots"] == 6 + 2
        assert run["accepted_per_s"] > 0 and run["validation_ms"] > 0
        assert run["intake_ratio"] > 0 and run["ballot_only_ratio"] > 0
        assert run["ballot_check_ms"] > 0 and run["processes"] == 1
        assert run["parallel_validations_per_s"] > 0 and run["parallel_ratio"] > 0
        assert run["validation_scaling"] > 0
        assert set(run["latency_ms"]) == {"p50", "p90", "p99"}
        assert len(run["load_average"]["after"]) == 3
        cpu = run["cpu_ms_per_ballot"]
        assert set(cpu) == {"board_process", "checking_processes", "clients"}
        assert min(cpu.values()) >= 0 and cpu["clients"] > 0


def test_process_cpu_reads_a_process_and_its_children() -> None:
    import os
    import subprocess
    import sys
    import time

    from bench.board import process_cpu

    child = subprocess.Popen(
        [
            sys.executable,
            "-c",
            "import time\nt = time.process_time()\n"
            "while time.process_time() - t < 0.3: pass\ntime.sleep(30)",
        ]
    )
    try:
        deadline = time.monotonic() + 20
        own, children = process_cpu(os.getpid())
        while children < 0.2 and time.monotonic() < deadline:
            time.sleep(0.1)
            own, children = process_cpu(os.getpid())
        assert own > 0 and children >= 0.2
        assert process_cpu(2**22 + 12345) == (0.0, 0.0)  # no such process
    finally:
        child.kill()
        child.wait()


def test_bench_board_needs_a_postgres_dsn_unless_told(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    monkeypatch.delenv("TOHYO_TEST_PG_DSN", raising=False)
    assert main(["bench", "board", *TINY]) == 2
    assert "--pg-dsn" in capsys.readouterr().err
    assert main(["bench", "board", "--group", "test-schnorr-512-128", "--backend", "sqlite"]) == 2
    assert "--allow-test-groups" in capsys.readouterr().err
    for bad in (
        ["--concurrency", "0"],
        ["--ballots", "0"],
        ["--processes", "0"],
        ["--samples", "1"],
    ):
        assert main(["bench", "board", "--backend", "sqlite", *bad]) == 2
        assert "must be positive" in capsys.readouterr().err
    assert main(["bench", "board", "--backend", "sqlite", "--group", "no-such-group"]) == 2
    assert "unknown group" in capsys.readouterr().err
