"""`tohyo verify ballot FILE`: Benaloh audits (docs/record.md §9), against the election's
manifest and joint key as read from the board (here given directly; through a board in
tests/integration/test_voter_pinning.py)."""

from __future__ import annotations

import dataclasses
import json
from pathlib import Path
from typing import Any

import pytest
from test_verifier_counting import OPTS, manifest

from election.manifest import Contest
from mixnet import elgamal
from mixnet.encoding import canonical_json
from mixnet.errors import VerificationError
from mixnet.groups import get_group
from mixnet.rng import DeterministicRandom
from tohyo.cli import main
from verifier.audit import AUDIT_FORMAT, verify_audit

M = manifest(
    Contest("mayor", "市長", "text", "single", OPTS),
    Contest("council", "議会", "text", "k_of_n", OPTS, max_choices=2),
    Contest("park", "公園", "text", "ranked", OPTS, max_choices=4),
)


GROUP = get_group("test-schnorr-512-128")
PK = elgamal.keygen(GROUP, DeterministicRandom(b"audit")).public


def audit_doc(choices: list[int], claimed: list[int] | None = None, pk: Any = PK) -> dict[str, Any]:
    rng = DeterministicRandom(b"audit")
    row, rs = elgamal.encrypt_row(pk, choices, rng)
    return {
        "format": AUDIT_FORMAT,
        "manifest": M.to_json(),
        "fingerprint": M.fingerprint().hex(),
        "pk": pk.to_hex(),
        "row": elgamal.row_to_json(row),
        "randomness": [r.to_hex() for r in rs],
        "choices": claimed if claimed is not None else choices,
    }


CHOICES = [2, 1, 3, 3, 0, 1, 2]  # mayor: b; council: a, c; park: c 1st, a 2nd… as ranks


def test_an_honest_audit_passes_and_reads_in_plain_words() -> None:
    result = verify_audit(canonical_json(audit_doc(CHOICES)), M, PK)
    assert result.words == (
        "mayor (市長): B",
        "council (議会): A, C",
        "park (公園): 1. C, 2. D, 3. A",
    )


def test_a_device_that_encrypted_another_choice_is_caught() -> None:
    with pytest.raises(VerificationError, match="A4"):
        verify_audit(canonical_json(audit_doc(CHOICES, [1, *CHOICES[1:]])), M, PK)


def test_a_device_that_encrypted_under_its_own_key_is_caught() -> None:
    """The file's pk is the device's; the election's is another: A5, even though the file is
    consistent in itself (it passed when pk came from the file)."""
    own = elgamal.keygen(GROUP, DeterministicRandom(b"the device's own key")).public
    with pytest.raises(VerificationError, match="A5 joint key"):
        verify_audit(canonical_json(audit_doc(CHOICES, pk=own)), M, PK)


def test_an_audit_of_another_election_is_caught() -> None:
    other = dataclasses.replace(M, title="別の選挙")
    with pytest.raises(VerificationError, match="A2 manifest"):
        verify_audit(canonical_json(audit_doc(CHOICES)), other, PK)


@pytest.mark.parametrize(
    ("change", "check"),
    [
        (lambda d: d | {"fingerprint": "00" * 32}, "A2"),
        (lambda d: d | {"randomness": d["randomness"][:-1]}, "A3"),
        (lambda d: d | {"pk": "ff"}, "A3"),
        (lambda d: {k: v for k, v in d.items() if k != "choices"}, "A1"),
        (lambda d: d | {"format": "other"}, "A1"),
    ],
)
def test_malformed_audits(change: Any, check: str) -> None:
    with pytest.raises(VerificationError, match=check):
        verify_audit(canonical_json(change(audit_doc(CHOICES))), M, PK)
    with pytest.raises(VerificationError, match="A1"):
        verify_audit(json.dumps(audit_doc(CHOICES), indent=1).encode(), M, PK)  # not canonical


def test_cli_needs_the_board_and_the_fingerprint(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    """The election never comes from the device's file: without --board and --fingerprint
    the command is a usage error (the whole path runs in the integration test)."""
    good = tmp_path / "audit.json"
    good.write_bytes(canonical_json(audit_doc(CHOICES)) + b"\n")
    assert main(["verify", "ballot", str(good)]) == 2
    assert "--fingerprint" in capsys.readouterr().err
    assert (
        main(
            ["verify", "ballot", str(good), "--board", "http://127.0.0.1:1", "--fingerprint", "xyz"]
        )
        == 2
    )
    assert main(["verify", "ballot", str(tmp_path / "missing.json")]) == 2


def test_the_voter_clients_audit_file_verifies() -> None:
    """The voter client writes the §9 format; the verifier reads back the same choices."""
    from voter_client.ballot import audit_record, encrypt_ballot

    group = get_group("test-schnorr-512-128")
    rng = DeterministicRandom(b"voter client audit")
    pk = elgamal.keygen(group, rng).public
    encrypted = encrypt_ballot(
        M, pk, {"mayor": "c", "council": ["a", "d"], "park": ["b", "a"]}, rng
    )
    result = verify_audit(canonical_json(audit_record(M, pk, encrypted)), M, pk)
    assert result.words[0] == "mayor (市長): C"
    assert result.words[1] == "council (議会): A, D"
    assert result.words[2] == "park (公園): 1. B, 2. A"
