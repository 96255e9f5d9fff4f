"""`tohyo card test-ca`: the test CA and fresh CRLs for a rehearsal's registrar (no reader)."""

from __future__ import annotations

import datetime as dt
from pathlib import Path

import pytest
from cryptography import x509

from jpki.certs import TrustAnchors
from tohyo.cli import main


def test_creates_the_ca_once_and_fresh_crls_each_time(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    monkeypatch.setenv("TOHYO_KEY_PASSPHRASE", "rehearsal")
    ca_dir = tmp_path / "test-ca"
    assert main(["card", "test-ca", "--ca-dir", str(ca_dir)]) == 0
    assert "never J-LIS" in capsys.readouterr().out
    sign_ca = (ca_dir / "sign_ca.pem").read_bytes()
    first = x509.load_pem_x509_crl((ca_dir / "crl-sign.pem").read_bytes())
    assert (ca_dir / "sign_ca.key").stat().st_mode & 0o777 == 0o600
    assert b"ENCRYPTED" in (ca_dir / "sign_ca.key").read_bytes()

    (ca_dir / "revoked-sign.txt").write_text("1F\n")  # as `card virtual --revoked` leaves it
    assert main(["card", "test-ca", "--ca-dir", str(ca_dir)]) == 0
    assert (ca_dir / "sign_ca.pem").read_bytes() == sign_ca  # the same CA, loaded
    anchors = TrustAnchors.from_files([ca_dir / "sign_ca.pem", ca_dir / "auth_ca.pem"])
    for name, serials in (("crl-sign.pem", {0x1F}), ("crl-auth.pem", set())):
        crl = x509.load_pem_x509_crl((ca_dir / name).read_bytes())
        assert any(crl.is_signature_valid(ca.public_key()) for ca in anchors.certificates)
        assert {entry.serial_number for entry in crl} == serials
        assert crl.next_update_utc - crl.last_update_utc == dt.timedelta(days=30)
    assert not {e.serial_number for e in first}


def test_without_a_passphrase_nothing_is_written(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    monkeypatch.delenv("TOHYO_KEY_PASSPHRASE", raising=False)
    assert main(["card", "test-ca", "--ca-dir", str(tmp_path / "ca")]) == 2
    assert "TOHYO_KEY_PASSPHRASE" in capsys.readouterr().err
    assert not (tmp_path / "ca").exists()
