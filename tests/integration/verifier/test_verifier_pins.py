"""Pins and tree-head.json: what `tohyo verify` and `tohyo board verify-export` take from
outside the record, and the final head's co-signatures (docs/record.md V2, V5; docs/board.md §9).

Each test changes one thing of an honest record and names the check that must catch it; on
the code before these checks, every one of them exited 0.
"""

from __future__ import annotations

import json
import shutil
from pathlib import Path

import pytest
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey
from election_helpers import Election, ElectionRun

from bulletin_board.log import (
    Cosignature,
    SignedTreeHead,
    cosign_tree_head,
    public_key_hex,
    sign_tree_head,
)
from mixnet.encoding import canonical_json, parse_canonical_json
from tohyo.cli import main

Record = tuple[Election, ElectionRun, Path]


def _copy(record: Path, tmp_path: Path) -> Path:
    out = tmp_path / "record"
    shutil.copytree(record, out)
    return out


def _verify(record: Path, tmp_path: Path, *args: str) -> tuple[int, dict[str, str]]:
    """Exit status and {step: failed check} of `tohyo verify` run in this process."""
    report = tmp_path / "report.json"
    code = main(
        [
            "verify",
            str(record),
            "--allow-test-groups",
            "--no-progress",
            "--json",
            str(report),
            *args,
        ]
    )
    steps = json.loads(report.read_text())["steps"]
    return code, {s["id"]: s["check"] for s in steps if s["status"] == "fail"}


def _final_head(record: Path) -> SignedTreeHead:
    return SignedTreeHead.from_json(
        parse_canonical_json((record / "tree-head.json").read_bytes().rstrip(b"\n"))
    )


def _write_final_head(record: Path, sth: SignedTreeHead) -> None:
    (record / "tree-head.json").write_bytes(canonical_json(sth.to_json()) + b"\n")


def test_board_key_and_fingerprint_pins_apply_to_a_directory(
    election_record: Record, tmp_path: Path
) -> None:
    el, _, record = election_record
    right_key, right_fp = el.manifest.board_key, el.fingerprint.hex()
    assert _verify(record, tmp_path, "--board-key", right_key, "--fingerprint", right_fp) == (0, {})
    wrong = public_key_hex(Ed25519PrivateKey.generate().public_key())
    code, failed = _verify(record, tmp_path, "--board-key", wrong)
    assert code == 1 and failed == {"V2": "V2.board_key_pin"}
    code, failed = _verify(record, tmp_path, "--fingerprint", "00" * 32)
    assert code == 1 and failed == {"V2": "V2.fingerprint_pin"}


def test_pin_usage_errors_exit_2(
    election_record: Record, capsys: pytest.CaptureFixture[str]
) -> None:
    _, _, record = election_record
    assert main(["verify", str(record), "--board-key", "xyz"]) == 2
    assert main(["verify", str(record), "--fingerprint", "00" * 31]) == 2
    assert "--fingerprint: 64 hex digits" in capsys.readouterr().err


def _forge_final_cosignature(record: Path) -> None:
    final = _final_head(record)
    forged = Cosignature(public_key_hex(Ed25519PrivateKey.generate().public_key()), bytes(64))
    _write_final_head(record, final.with_cosignatures((*final.cosignatures, forged)))


def test_a_forged_cosignature_in_tree_head_json_fails_verify(
    election_record: Record, tmp_path: Path
) -> None:
    _, _, record = election_record
    doctored = _copy(record, tmp_path)
    _forge_final_cosignature(doctored)
    code, failed = _verify(doctored, tmp_path)
    assert code == 1 and failed == {"V5": "tree_head.cosignature"}


def test_a_forged_cosignature_in_tree_head_json_fails_verify_export(
    election_record: Record, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    el, _, record = election_record
    assert main(["board", "verify-export", str(record), "--board-key", el.manifest.board_key]) == 0
    doctored = _copy(record, tmp_path)
    _forge_final_cosignature(doctored)
    assert main(["board", "verify-export", str(doctored)]) == 1
    assert "bad co-signature" in capsys.readouterr().err


def test_tree_head_json_must_be_the_last_line_of_tree_heads(
    election_record: Record, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    """Another head of the same size, genuinely signed by the board (another timestamp) and
    co-signed by a genuine mirror: every signature holds, but tree-head.json is not the head
    the record lists last."""
    el, _, record = election_record
    doctored = _copy(record, tmp_path)
    final = _final_head(doctored)
    other = sign_tree_head(el.board, el.id, final.tree_size, final.root_hash, final.timestamp + 1)
    other = other.with_cosignatures([cosign_tree_head(Ed25519PrivateKey.generate(), other)])
    _write_final_head(doctored, other)
    code, failed = _verify(doctored, tmp_path)
    assert code == 1 and failed == {"V5": "V5.final_head_line"}
    assert main(["board", "verify-export", str(doctored)]) == 1
    assert "tree-head.json is not the last line" in capsys.readouterr().err
