"""`tohyo verify RECORD --evidence DIR` (step V13, auditors): attestations against the evidence."""

from __future__ import annotations

import datetime as dt
import os
import subprocess
import sys
from pathlib import Path

from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import padding
from election_helpers import Election, ElectionRun

from bulletin_board.entry import decode_envelope
from jpki.certs import BasicFacts, CertPurpose, Sex
from jpki.evidence import EvidenceStore
from jpki.registrar import Evidence, ballot_message
from jpki.testca import TestCa, pooled_rsa_key

ROOT = Path(__file__).resolve().parents[3]
RECEIVED = dt.datetime(2026, 12, 1, 3, 0, tzinfo=dt.UTC)  # within the voting period
PASSPHRASE = "auditors only"


def make_evidence(record: Path, out: Path, facts: BasicFacts, *, skip: int | None = None) -> None:
    ca = TestCa.create()
    key = pooled_rsa_key("verifier-voter")
    cert = ca.issue_sign_cert(
        facts,
        key.public_key(),
        not_before=dt.datetime(2026, 1, 1, tzinfo=dt.UTC),
        not_after=dt.datetime(2031, 1, 1, tzinfo=dt.UTC),
    )
    (out / "anchors").mkdir(parents=True)
    (out / "crls").mkdir()
    (out / "anchors" / "sign_ca.pem").write_bytes(
        ca.sign.certificate.public_bytes(serialization.Encoding.PEM)
    )
    crl = ca.crl(
        CertPurpose.SIGN,
        this_update=dt.datetime(2026, 11, 1, tzinfo=dt.UTC),
        next_update=dt.datetime(2027, 1, 1, tzinfo=dt.UTC),
    )
    (out / "crls" / "sign.crl").write_bytes(crl.public_bytes(serialization.Encoding.PEM))
    store = EvidenceStore(out / "evidence.store", PASSPHRASE, scrypt_n=2**10)
    (out / "key").write_text(PASSPHRASE + "\n")
    ballots = [
        e
        for e in map(decode_envelope, (record / "entries.jsonl").read_bytes().splitlines())
        if e.type == "ballot"
    ]
    for k, env in enumerate(ballots):
        if k == skip:
            continue
        att = env.body["attestation"]
        fp, bh = bytes.fromhex(att["election_fingerprint"]), bytes.fromhex(att["ballot_hash"])
        signature = key.sign(ballot_message(fp, bh), padding.PKCS1v15(), hashes.SHA256())
        store.append(
            Evidence(
                fp,
                bytes.fromhex(att["pseudonym"]),
                bh,
                cert.public_bytes(serialization.Encoding.DER),
                signature,
                RECEIVED,
            )
        )


def verify(record: Path, evidence: Path) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [
            sys.executable,
            "-m",
            "tohyo",
            "verify",
            str(record),
            "--allow-test-groups",
            "--evidence",
            str(evidence),
            "--evidence-key-file",
            str(evidence / "key"),
        ],
        capture_output=True,
        text=True,
        cwd=ROOT,
        timeout=600,
        env=os.environ | {"PYTHONPATH": str(ROOT)},
    )


TARO = BasicFacts(
    "投票\u3000太郎", dt.date(1990, 6, 15), Sex.MALE, "茨城県つくば市研究学園一丁目1番地1"
)


def test_evidence_matches_every_attestation(
    election_record: tuple[Election, ElectionRun, Path], tmp_path: Path
) -> None:
    _, _, record = election_record
    make_evidence(record, tmp_path / "ev", TARO)
    proc = verify(record, tmp_path / "ev")
    assert proc.returncode == 0, proc.stdout + proc.stderr
    assert "V13  PASS" in proc.stdout


def test_missing_evidence_and_ineligible_voters_fail_v13(
    election_record: tuple[Election, ElectionRun, Path], tmp_path: Path
) -> None:
    _, _, record = election_record
    make_evidence(record, tmp_path / "missing", TARO, skip=3)
    proc = verify(record, tmp_path / "missing")
    assert proc.returncode == 1 and "V13.missing" in proc.stdout, proc.stdout
    young = BasicFacts(TARO.name, dt.date(2012, 1, 1), Sex.MALE, TARO.address)
    make_evidence(record, tmp_path / "young", young)
    proc = verify(record, tmp_path / "young")
    assert proc.returncode == 1 and "E5-eligibility" in proc.stdout, proc.stdout
    away = BasicFacts(TARO.name, TARO.birth_date, Sex.MALE, "東京都千代田区千代田1番1号")
    make_evidence(record, tmp_path / "away", away)
    proc = verify(record, tmp_path / "away")
    assert proc.returncode == 1 and "address outside" in proc.stdout, proc.stdout


def test_a_wrong_passphrase_is_a_usage_error(
    election_record: tuple[Election, ElectionRun, Path], tmp_path: Path
) -> None:
    _, _, record = election_record
    make_evidence(record, tmp_path / "ev", TARO)
    (tmp_path / "ev" / "key").write_text("wrong\n")
    assert verify(record, tmp_path / "ev").returncode == 2
