"""`tohyo simulate …` as a user runs it: a subprocess, small sizes, the test group."""

from __future__ import annotations

import asyncio
import json
import subprocess
import sys
from pathlib import Path
from typing import Any

from simulations.load import board_process, prepare_target

GROUP = "test-schnorr-512-128"


def simulate(*args: str, timeout: float = 240) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, "-m", "tohyo", "simulate", *args, "--no-progress"],
        capture_output=True,
        text=True,
        timeout=timeout,
    )


def load_json(path: Path) -> Any:
    return json.loads(path.read_text(encoding="utf-8"))


def test_simulate_election_small(tmp_path: Path) -> None:
    proc = simulate(
        "election",
        "--voters",
        "30",
        "--trustees",
        "2/3",
        "--mixers",
        "2",
        "--group",
        GROUP,
        "--processes",
        "2",
        "--out",
        str(tmp_path),
    )
    assert proc.returncode == 0, proc.stderr
    doc = load_json(tmp_path / "election.json")
    phases = set(doc["timings"])
    for phase in (
        "key ceremony",
        "ballots: encrypt + prove",
        "registrar: attest + sign",
        "board intake",
        "close + mix input",
        "shuffle generators (once per party)",
        "mixer 1: shuffle + prove",
        "mixer 2: check previous",
        "mixer 2: shuffle + prove",
        "decryption: 2 shares",
        "decryption: combine + decode",
        "independent verification",
        "tohyo verify (V1–V12)",
    ):
        assert phase in phases
    assert doc["verdict"] == "valid"
    assert doc["verifier"]["result"] == "pass"
    assert [s["id"] for s in doc["verifier"]["steps"]] == [f"V{i}" for i in range(1, 13)]
    assert [c["id"] for c in doc["verification"]] == [
        "A1",
        "A2",
        "A3",
        "A4",
        "A5",
        "A6.1",
        "A6.2",
        "A7",
        "A8",
    ]
    assert doc["tally_matches_intent"] and sum(doc["tally"].values()) == 30
    assert doc["counts"]["ballots_posted"] == 31 and doc["counts"]["superseded"] == 1
    assert doc["counts"]["mix_input"] == 30
    assert (tmp_path / "election-timings.png").stat().st_size > 1000


def test_simulate_attacks_every_run_detected(tmp_path: Path) -> None:
    proc = simulate("attacks", "--runs", "3", "--out", str(tmp_path))
    assert proc.returncode == 0, proc.stderr
    doc = load_json(tmp_path / "attacks.json")
    ceremony = {
        "board-withholds-shares",
        "trustee-complains-early",
        "trustee-reveals-early",
        "trustee-replays",
        "false-complaints",
    }
    assert set(doc["attacks"]) == {
        "mixer-other-witness",
        "mixer-reused-proof",
        "board-drops-ballot",
        "replayed-ballot",
        "bad-share",
        "absent-trustee",
        "voter-out-of-range",
        "voter-random-element",
        "voter-self-repeating",
        "marked-ballot",
        *ceremony,
    }
    for name, a in doc["attacks"].items():
        assert a["runs"] == 3
        assert a["unnoticed_changes"] == 0, name
        assert a["secret_kept"] == 3, name  # no dealer ever has t shares in the open
        if name != "marked-ballot":
            assert a["detection_rate"] == 1.0, name
    # the marked ballot: nothing to detect; the tally is right and the mark links nothing
    marked = doc["attacks"]["marked-ballot"]
    assert marked["detection"] == "not applicable" and marked["result_correct"] == 3
    assert 0 <= marked["coercer_guess_right"] <= 3 and 0 < marked["chance_expected"] < 3
    # tolerated: the others still decrypt right; a bad plaintext is counted invalid
    for name in (
        "bad-share",
        "absent-trustee",
        "voter-out-of-range",
        "voter-random-element",
        *ceremony,
    ):
        assert doc["attacks"][name]["result_correct"] == 3
    assert doc["honest_controls"] == {"runs": 3, "passed": 3, "pass_rate": 1.0}
    assert doc["no_result_changed_unnoticed"] is True
    assert (tmp_path / "attacks.png").stat().st_size > 1000


def test_simulate_scaling_quick(tmp_path: Path) -> None:
    proc = simulate(
        "scaling",
        "--max-n",
        "200",
        "--group",
        GROUP,
        "--max-mixers",
        "2",
        "--mixers-n",
        "40",
        "--processes",
        "1",
        "--clock",
        "cpu",
        "--out",
        str(tmp_path),
    )
    assert proc.returncode == 0, proc.stderr
    assert "ms CPU" in proc.stdout
    doc = load_json(tmp_path / "scaling.json")
    assert doc["sizes"] == [100, 200]
    (res,) = doc["groups"]
    assert res["group"] == GROUP
    assert [p["n"] for p in res["points"]] == [100, 200]
    for p in res["points"]:
        assert p["refused"] == 0
        assert set(p["seconds"]) == {
            "encrypt + prove",
            "board intake",
            "generators",
            "shuffle + prove",
            "verify shuffle",
            "decryption",
        }
        assert set(p["cpu_seconds"]) == set(p["seconds"])
        assert all(v > 0 for v in p["cpu_seconds"].values())
    assert all(f["per_ballot_cpu_s"] > 0 for f in res["fits"].values())
    assert set(res["fits"]) == set(res["points"][0]["seconds"])
    assert [m["mixers"] for m in res["mixnet"]] == [1, 2]
    for png in ("scaling-loglog.png", "scaling-mixers.png"):
        assert (tmp_path / png).stat().st_size > 1000


def test_simulate_load_against_a_running_board(tmp_path: Path) -> None:
    rng_seed = "load test"
    with board_process(tmp_path / "board", bytes(range(32))) as url:
        target, _ = asyncio.run(prepare_target(url, GROUP, "load-test", rng_seed))
        keys = tmp_path / "election.json"
        target.write(keys)
        out = tmp_path / "out"
        proc = simulate(
            "load",
            "--board",
            url,
            "--election",
            "load-test",
            "--keys",
            str(keys),
            "--voters",
            "120",
            "--concurrency",
            "6",
            "--duration",
            "4",
            "--seed",
            "same",
            "--out",
            str(out),
            timeout=120,
        )
        assert proc.returncode == 0, proc.stderr
        doc = load_json(out / "load.json")
        assert doc["throughput_per_s"] > 0
        assert doc["server_errors"] == 0 and doc["connection_errors"] == 0
        assert isinstance(doc["errors"], dict)
        assert doc["by_kind"]["post"]["ok"] > 0
        assert set(doc["latency_ms"]) == {"p50", "p90", "p99"}
        assert doc["elapsed_s"] < 4 + 10 + 2  # bounded in time (duration + one timeout)
        assert doc["board_after"]["policy"]["ballots"] == doc["by_kind"]["post"]["ok"]
        assert (out / "load.png").stat().st_size > 1000

        # the same ballots again: refused as duplicates, counted by their code, none a 5xx
        proc = simulate(
            "load",
            "--board",
            url,
            "--election",
            "load-test",
            "--keys",
            str(keys),
            "--voters",
            "120",
            "--concurrency",
            "6",
            "--duration",
            "4",
            "--seed",
            "same",
            "--out",
            str(tmp_path / "again"),
            timeout=120,
        )
        assert proc.returncode == 0, proc.stderr
        again = load_json(tmp_path / "again" / "load.json")
        duplicates = {c: n for c, n in again["errors"].items() if c.endswith("duplicate_entry")}
        assert len(duplicates) == 1 and next(iter(duplicates)).startswith("4")
        assert (
            sum(duplicates.values()) + again["by_kind"]["post"]["ok"]
            == again["by_kind"]["post"]["requests"]
        )
        assert sum(duplicates.values()) >= 1
        assert again["server_errors"] == 0

        # without the keys: reads only, still counted and bounded
        proc = simulate(
            "load",
            "--board",
            url,
            "--election",
            "load-test",
            "--voters",
            "50",
            "--concurrency",
            "4",
            "--duration",
            "2",
            "--out",
            str(tmp_path / "ro"),
            timeout=120,
        )
        assert proc.returncode == 0, proc.stderr
        doc = load_json(tmp_path / "ro" / "load.json")
        assert set(doc["by_kind"]) == {"read"} and doc["requests"] <= 50
        assert doc["server_errors"] == 0


def test_simulate_load_starts_its_own_board(tmp_path: Path) -> None:
    proc = simulate(
        "load",
        "--start-board",
        "--group",
        GROUP,
        "--voters",
        "40",
        "--concurrency",
        "4",
        "--duration",
        "3",
        "--out",
        str(tmp_path),
        timeout=120,
    )
    assert proc.returncode == 0, proc.stderr
    doc = load_json(tmp_path / "load.json")
    assert doc["by_kind"]["post"]["ok"] > 0 and doc["server_errors"] == 0
    assert (tmp_path / "election.json").exists()


def test_usage_errors_exit_2(tmp_path: Path) -> None:
    # (the other usage errors are checked in process, tests/unit/simulations)
    for args in (
        ("election", "--trustees", "4/3"),
        ("load", "--board", "http://127.0.0.1:9", "--election", "x", "--duration", "1"),
    ):
        proc = simulate(*args, "--out", str(tmp_path / "x"), timeout=60)
        assert proc.returncode == 2, (args, proc.stderr)
        assert proc.stderr.startswith("tohyo simulate: "), proc.stderr


def test_simulate_load_sets_up_an_election_on_tohyo_board_serve(tmp_path: Path) -> None:
    board = subprocess.Popen(
        [
            sys.executable,
            "-m",
            "tohyo",
            "board",
            "serve",
            "--db",
            str(tmp_path / "b.sqlite"),
            "--key",
            str(tmp_path / "board.pem"),
            "--port",
            "0",
            "--allow-test-groups",
            "--open-elections",
        ],
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
    )
    try:
        assert board.stdout is not None
        url = ""
        for _ in range(10):
            line = board.stdout.readline()
            if "listening on" in line:
                url = line.rsplit(" ", 1)[1].strip()
                break
        assert url.startswith("http://127.0.0.1:"), url
        proc = simulate(
            "load",
            "--board",
            url,
            "--election",
            "serve-test",
            "--setup",
            "--group",
            GROUP,
            "--voters",
            "60",
            "--concurrency",
            "4",
            "--duration",
            "3",
            "--out",
            str(tmp_path / "out"),
            timeout=120,
        )
        assert proc.returncode == 0, proc.stderr
        doc = load_json(tmp_path / "out" / "load.json")
        assert doc["by_kind"]["post"]["ok"] > 0 and doc["server_errors"] == 0
        assert doc["board_after"]["policy"]["phase"] == "voting"
        assert (tmp_path / "out" / "election.json").exists()
    finally:
        board.terminate()
        try:
            board.wait(10)
        except subprocess.TimeoutExpired:
            board.kill()
            board.wait(5)
