"""Pieces of the verifier that need no record: ballot selection, the report, the CLI's usage."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from tohyo.cli import main
from verifier.report import FAIL, PASS, SKIP, Report, StepResult
from verifier.steps import BallotInfo, selected_ballots


def ballots() -> list[BallotInfo]:
    p, q, r = b"p" * 32, b"q" * 32, b"r" * 32
    return [
        BallotInfo(10, p, "p1"),
        BallotInfo(11, q, "q1"),
        BallotInfo(12, p, "p2"),
        BallotInfo(13, r, "r1", ("B1 proof", "fails")),
        BallotInfo(14, q, "q2"),
        BallotInfo(15, r, "r2"),
    ]


def test_the_last_valid_ballot_counts() -> None:
    chosen = selected_ballots("last_counts", ballots())
    assert [b.index for b in chosen] == [12, 14, 15]  # board order; invalid 13 never counts


def test_the_first_valid_ballot_counts() -> None:
    chosen = selected_ballots("first_counts", ballots())
    assert [b.index for b in chosen] == [10, 11, 15]


def test_report_forms() -> None:
    report = Report(election="e", fingerprint="ab", source="dir")
    report.steps = [
        StepResult("V1", "one", "x", PASS, counts={"entries": 3}),
        StepResult("V2", "two", "y", FAIL, "bad", "V2.decode"),
        StepResult("V3", "three", "z", SKIP, "needs the manifest"),
    ]
    doc = report.to_json()
    assert doc["result"] == "fail" and doc["first_failure"] == "V2"
    assert [s["status"] for s in doc["steps"]] == ["pass", "fail", "skip"]
    json.dumps(doc)
    text = report.to_text()
    assert "V2   FAIL  two" in text and "V2.decode: bad" in text
    assert "first failing step V2" in text
    report.steps[1].status = PASS
    assert not report.passed  # a skipped step is not a pass …
    report.allow_skips = True
    assert report.passed  # … unless the election is known to be unfinished (--partial)


def test_usage_errors(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["verify", str(tmp_path / "nothing")]) == 2
    assert main(["verify", str(tmp_path)]) == 2
    assert main(["verify", "a", "b"]) == 2
    assert main(["verify", str(tmp_path), "--processes", "0"]) == 2
    assert main(["verify", str(tmp_path), "--evidence-key-file", "k"]) == 2
    assert main(["verify", "https://board.invalid"]) == 2  # no --election
    assert "tohyo verify:" in capsys.readouterr().err
