"""`tohyo verify` on records exported from a whole election through a real board."""

from __future__ import annotations

import asyncio
import json
import os
import subprocess
import sys
from pathlib import Path

from election_helpers import Election, ElectionRun

from bulletin_board.board import Board
from bulletin_board.server import BoardServer
from bulletin_board.storage import SqliteStorage
from election.policy import ElectionPolicy
from verifier.steps import STEPS

ROOT = Path(__file__).resolve().parents[3]
ALL_STEPS = [s[0] for s in STEPS]


def tohyo(*args: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, "-m", "tohyo", *args],
        capture_output=True,
        text=True,
        cwd=ROOT,
        timeout=600,
        env=os.environ | {"PYTHONPATH": str(ROOT)},
    )


def test_verify_exported_record_passes(
    election_record: tuple[Election, ElectionRun, Path], tmp_path: Path
) -> None:
    _, _, record = election_record
    out = tmp_path / "report.json"
    proc = tohyo("verify", str(record), "--allow-test-groups", "--json", str(out))
    assert proc.returncode == 0, proc.stdout + proc.stderr
    report = json.loads(out.read_text())
    assert report["result"] == "pass" and report["first_failure"] == ""
    assert [s["id"] for s in report["steps"]] == ALL_STEPS
    assert all(s["status"] == "pass" for s in report["steps"]), report
    counts = {s["id"]: s["counts"] for s in report["steps"]}
    assert counts["V8"] == {"ballots": 14, "valid": 14, "voters": 12}
    assert counts["V9"] == {"rows": 12, "voters": 12, "superseded": 2, "contests": 1}
    assert counts["V10"]["shuffles"] == 2
    assert "RESULT: PASS" in proc.stdout


def test_receipts_and_heads_given(
    election_record: tuple[Election, ElectionRun, Path], tmp_path: Path
) -> None:
    _, run, record = election_record
    files = []
    for k, receipt in enumerate(run.receipts[:3]):
        files += ["--tree-head", str(tmp_path / f"r{k}.json")]
        (tmp_path / f"r{k}.json").write_text(json.dumps(receipt))
    head = (record / "tree-heads.jsonl").read_text().splitlines()[20]
    (tmp_path / "head.json").write_text(head)
    out = tmp_path / "report.json"
    proc = tohyo(
        "verify",
        str(record),
        "--allow-test-groups",
        "--json",
        str(out),
        *files,
        "--tree-head",
        str(tmp_path / "head.json"),
    )
    assert proc.returncode == 0, proc.stdout + proc.stderr
    v6 = json.loads(out.read_text())["steps"][5]
    assert v6["id"] == "V6" and v6["counts"] == {"tree_heads": 1, "receipts": 3}
    # a receipt for an entry that is not the one on the record
    doctored = dict(run.receipts[0]) | {"index": run.receipts[1]["index"]}
    (tmp_path / "bad.json").write_text(json.dumps(doctored))
    proc = tohyo(
        "verify",
        str(record),
        "--allow-test-groups",
        "--json",
        str(out),
        "--tree-head",
        str(tmp_path / "bad.json"),
    )
    assert proc.returncode == 1
    assert json.loads(out.read_text())["first_failure"] == "V6"


def test_verify_with_two_processes(election_record: tuple[Election, ElectionRun, Path]) -> None:
    _, _, record = election_record
    proc = tohyo("verify", str(record), "--allow-test-groups", "--processes", "2", "--no-progress")
    assert proc.returncode == 0, proc.stdout + proc.stderr


def test_a_test_group_fails_without_the_flag(
    election_record: tuple[Election, ElectionRun, Path], tmp_path: Path
) -> None:
    _, _, record = election_record
    out = tmp_path / "report.json"
    proc = tohyo("verify", str(record), "--json", str(out))
    assert proc.returncode == 1
    assert json.loads(out.read_text())["first_failure"] == "V3"


def test_usage_errors_exit_2(tmp_path: Path) -> None:
    assert tohyo("verify", str(tmp_path / "missing")).returncode == 2
    assert tohyo("verify", str(tmp_path)).returncode == 2  # a directory, but no record in it
    assert tohyo("verify", "http://127.0.0.1:9").returncode == 2  # no --election
    assert tohyo("verify", "ballot").returncode == 2


def test_verify_from_a_board_url(
    election_record: tuple[Election, ElectionRun, Path], tmp_path: Path
) -> None:
    el, _, record = election_record
    db = record.parent / "board.sqlite"

    async def main() -> tuple[int, str]:
        board = Board(SqliteStorage(db), el.board, ElectionPolicy(allow_test_groups=True))
        server = BoardServer(board)
        await server.start()
        try:
            proc = await asyncio.create_subprocess_exec(
                sys.executable,
                "-m",
                "tohyo",
                "verify",
                server.url,
                "--election",
                el.id,
                "--board-key",
                el.manifest.board_key,
                "--allow-test-groups",
                "--save",
                str(tmp_path / "fetched"),
                cwd=ROOT,
                env=os.environ | {"PYTHONPATH": str(ROOT)},
                stdout=asyncio.subprocess.PIPE,
                stderr=asyncio.subprocess.STDOUT,
            )
            out, _ = await asyncio.wait_for(proc.communicate(), 600)
            return proc.returncode or 0, out.decode()
        finally:
            await server.stop()

    code, out = asyncio.run(main())
    assert code == 0, out
    assert (tmp_path / "fetched" / "entries.jsonl").read_bytes() == (
        record / "entries.jsonl"
    ).read_bytes()
