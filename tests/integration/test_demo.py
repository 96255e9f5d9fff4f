"""The demo as a user runs it: every role a real process on 127.0.0.1, the record on disk, the
observer's verdict at the end (scaled down: 12 voters, a test group)."""

from __future__ import annotations

import argparse
import json
import subprocess
import sys
from pathlib import Path
from types import SimpleNamespace

import pytest

from bulletin_board.entry import decode_envelope
from bulletin_board.log import hash_leaf
from mixnet.encoding import parse_canonical_json
from simulations.demo import Demo

pytestmark = pytest.mark.slow

#: The demo's voters 0, 1 and 2 vote through pcscd + vpcd + pyscard (`tohyo vote cast`).
PCSC_VOTERS = [0, 1, 2]


def run_demo(out: Path, *extra: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [
            sys.executable,
            "-m",
            "tohyo",
            "demo",
            "--voters",
            "12",
            "--group",
            "test-schnorr-512-128",
            "--processes",
            "1",
            "--output",
            str(out),
            *extra,
        ],
        capture_output=True,
        text=True,
        timeout=900,
    )


@pytest.mark.pcsc
def test_whole_election_demo(tmp_path: Path) -> None:
    out = tmp_path / "demo"
    proc = run_demo(out, "--seed", "demo-test")
    assert proc.returncode == 0, proc.stdout[-3000:] + proc.stderr[-3000:]
    assert "Verifier's verdict: VALID" in proc.stdout
    result = json.loads((out / "result.json").read_text())
    assert result["verdict"] == "valid" and result["verifier_exit_status"] == 0
    counts = result["result"]["tally"]["mayor"]["counts"]
    assert sum(counts.values()) == 12
    assert sum(result["expected"].values()) == 12
    report = json.loads((out / "verify-report.json").read_text())
    assert report["result"] == "pass"
    assert [s["id"] for s in report["steps"] if s["status"] == "pass"][:12] == [
        f"V{i}" for i in range(1, 13)
    ]
    # the real card path: pcscd was running in CI, so these voters went through it, and the
    # ballot each one's receipt names is on the board
    assert result["pcsc_fallback"] is None
    assert result["pcsc_voters"] == PCSC_VOTERS
    entries = (out / "record" / "entries.jsonl").read_bytes().splitlines()
    for number in PCSC_VOTERS:
        saved = json.loads((out / "receipts" / f"voter-{number}.json").read_text())
        assert saved["format"] == "tohyo-receipt/2"
        receipt = saved["receipt"]
        entry = entries[receipt["index"]]
        assert hash_leaf(entry).hex() == receipt["entry_hash"]
        assert decode_envelope(entry).type == "ballot"
    notes = " ".join(result["notes"])
    assert "aged 15" in notes and "below the minimum voting age" in notes
    assert "another city" in notes and "not in an area" in notes
    assert "encrypted exactly the choice" in notes
    for png in ("timings.png", "tally.png"):
        assert (out / png).read_bytes()[:8] == b"\x89PNG\r\n\x1a\n"
    for line in (out / "record" / "entries.jsonl").read_bytes().splitlines():
        parse_canonical_json(line)
    # no secret in anything the demo leaves behind in the clear
    for path in out.rglob("*"):
        if path.is_file() and path.suffix in (".log", ".json", ".jsonl", ".toml"):
            text = path.read_text(errors="replace")
            assert "TOHYO2026" not in text and "PRIVATE KEY" not in text


def test_bad_arguments_exit_nonzero_with_a_message(tmp_path: Path) -> None:
    proc = subprocess.run(
        [sys.executable, "-m", "tohyo", "demo", "--voters", "1", "--output", str(tmp_path)],
        capture_output=True,
        text=True,
        timeout=60,
    )
    assert proc.returncode == 2
    assert "at least 10 voters" in proc.stderr
    proc = subprocess.run(
        [sys.executable, "-m", "tohyo", "demo", "--group", "nope", "--output", str(tmp_path)],
        capture_output=True,
        text=True,
        timeout=60,
    )
    assert proc.returncode == 2
    assert "unknown group" in proc.stderr


def test_seed_is_refused_outside_the_test_groups(tmp_path: Path) -> None:
    """Seeded ballot randomness is for tests only: with a production group it is refused
    before anything starts."""
    proc = subprocess.run(
        [sys.executable, "-m", "tohyo", "demo", "--seed", "x", "--output", str(tmp_path / "o")],
        capture_output=True,
        text=True,
        timeout=60,
    )
    assert proc.returncode == 2
    assert "--seed" in proc.stderr and "test group" in proc.stderr
    assert not (tmp_path / "o").exists()


def test_a_failing_card_voter_is_reported_and_the_others_go_on(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    """Voter 0's card fails inside pcscd, voter 1's `tohyo vote cast` fails, voter 2 votes:
    the demo names both failures and counts voter 2 only (no traceback, no assumption that
    the first voters are the ones that succeeded)."""
    args = argparse.Namespace(output=tmp_path, seed="t", group="test-schnorr-512-128")
    demo = Demo(args)

    def vote(url: str, voter: SimpleNamespace, *rest: object) -> int | None:
        if voter.number == 0:
            raise RuntimeError("card is not powered")
        return None if voter.number == 1 else 1

    demo._pcsc_vote = vote  # type: ignore[method-assign]
    voters = [SimpleNamespace(number=i) for i in range(3)]
    done = demo._pcsc_voters("http://127.0.0.1:1", voters, None, None, None)  # type: ignore[arg-type]
    assert done == [(2, 1)]
    out = capsys.readouterr().out
    assert "PC/SC voter 0 did not vote: RuntimeError: card is not powered" in out
    assert "PC/SC voter 1 did not vote" in out
    assert "1 of 3 voters cast through pcscd" in " ".join(demo.notes)


def test_no_pcscd_is_said_at_once(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    demo = Demo(argparse.Namespace(output=tmp_path, seed="t", group="test-schnorr-512-128"))
    assert demo.no_pcsc("pcscd is not running") == ([], set())
    assert "NOTE: pcscd is not running: every voter used an in-process card" in (
        capsys.readouterr().out
    )
    assert demo.pcsc_fallback == "pcscd is not running"
