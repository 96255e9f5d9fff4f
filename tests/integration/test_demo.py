"""The demo as a user runs it: a real process, files on disk, the verdict at the end."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

import pytest

from mixnet.encoding import canonical_json, parse_canonical_json
from simulations.demo import verify_record


def run_demo(out: Path, *extra: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, "-m", "tohyo", "demo", "--voters", "30", "--group",
         "test-schnorr-512-128", "--processes", "1", "--output", str(out), *extra],
        capture_output=True, text=True, timeout=300,
    )


@pytest.fixture(scope="module")
def demo_dir(tmp_path_factory: pytest.TempPathFactory) -> Path:
    out = tmp_path_factory.mktemp("demo")
    proc = run_demo(out, "--seed", "demo-test")
    assert proc.returncode == 0, proc.stderr
    assert "Verifier's verdict: VALID" in proc.stdout
    return out


def test_demo_writes_record_results_and_plot(demo_dir: Path) -> None:
    result = json.loads((demo_dir / "result.json").read_text())
    assert result["verdict"] == "valid"
    assert sum(result["result"].values()) == 30
    assert all(step["pass"] for step in result["verification"])
    assert (demo_dir / "timings.png").read_bytes()[:8] == b"\x89PNG\r\n\x1a\n"
    for name in ("manifest.json", "ballots.json", "mix1.json", "mix3.json", "decryption.json"):
        parse_canonical_json((demo_dir / "record" / name).read_bytes())


def test_seeded_demo_replays_identically(demo_dir: Path, tmp_path: Path) -> None:
    proc = run_demo(tmp_path, "--seed", "demo-test")
    assert proc.returncode == 0, proc.stderr
    for name in ("ballots.json", "mix2.json", "decryption.json"):
        assert (tmp_path / "record" / name).read_bytes() == (
            demo_dir / "record" / name
        ).read_bytes()


def _tamper(src: Path, dst: Path, name: str, change) -> Path:  # type: ignore[no-untyped-def]
    record = dst / "record"
    record.mkdir(parents=True)
    for f in (src / "record").iterdir():
        (record / f.name).write_bytes(f.read_bytes())
    data = parse_canonical_json((record / name).read_bytes())
    change(data)
    (record / name).write_bytes(canonical_json(data))
    return record


def _swap_outputs(mix: dict) -> None:  # type: ignore[type-arg]
    mix["outputs"][0], mix["outputs"][1] = mix["outputs"][1], mix["outputs"][0]


def _change_tally(dec: dict) -> None:  # type: ignore[type-arg]
    first = next(iter(dec["tally"]))
    dec["tally"][first] += 1


def _drop_ballot(ballots: list) -> None:  # type: ignore[type-arg]
    ballots.pop()


@pytest.mark.parametrize(
    ("name", "change", "failing_step"),
    [
        ("mix2.json", _swap_outputs, "D3.2"),
        ("decryption.json", _change_tally, "D4"),
        ("ballots.json", _drop_ballot, "D3.1"),
    ],
)
def test_independent_check_names_the_tampered_step(
    demo_dir: Path, tmp_path: Path, name: str, change, failing_step: str  # type: ignore[no-untyped-def]
) -> None:
    record = _tamper(demo_dir, tmp_path, name, change)
    steps = verify_record(record, None)
    failed = [sid for sid, _, ok, _ in steps if not ok]
    assert failed == [failing_step]


def test_bad_arguments_exit_nonzero_with_a_message(tmp_path: Path) -> None:
    proc = subprocess.run(
        [sys.executable, "-m", "tohyo", "demo", "--voters", "1", "--output", str(tmp_path)],
        capture_output=True, text=True, timeout=60,
    )
    assert proc.returncode == 2
    assert "at least 2 voters" in proc.stderr
    proc = subprocess.run(
        [sys.executable, "-m", "tohyo", "demo", "--group", "nope", "--output", str(tmp_path)],
        capture_output=True, text=True, timeout=60,
    )
    assert proc.returncode == 2
    assert "unknown group" in proc.stderr
