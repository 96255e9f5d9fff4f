"""The demo as a user runs it: every role a real process on 127.0.0.1, the record on disk, the
observer's verdict at the end (scaled down: 12 voters, a test group)."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

import pytest

from mixnet.encoding import parse_canonical_json

pytestmark = pytest.mark.slow


def run_demo(out: Path, *extra: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, "-m", "tohyo", "demo", "--voters", "12", "--group",
         "test-schnorr-512-128", "--processes", "1", "--output", str(out), *extra],
        capture_output=True, text=True, timeout=900,
    )


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
        f"V{i}" for i in range(1, 13)]
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
        capture_output=True, text=True, timeout=60,
    )
    assert proc.returncode == 2
    assert "at least 10 voters" in proc.stderr
    proc = subprocess.run(
        [sys.executable, "-m", "tohyo", "demo", "--group", "nope", "--output", str(tmp_path)],
        capture_output=True, text=True, timeout=60,
    )
    assert proc.returncode == 2
    assert "unknown group" in proc.stderr
